/**
 * Server-side sessions and sign-in attempts. The browser holds only random ids in cookies: `session` (the signed-in
 * user) and `signin` (binds this browser's sign-in attempts). Both stores live in memory (see app/README.md).
 *
 * Decorates the app with `sessions` and `signInAttempts`, and every request with `session`: the current user's
 * session, or null.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fp from "fastify-plugin";
import type { JWTPayload } from "jose";
import type { SignInAttempt } from "../auth/oidc";
import { BoundedStore, randomId, safeEqual } from "../store";
import type { TrustChain } from "../views";

/** A signed-in user's server-side session. The cookie carries only its random id. */
interface Session {
  readonly id: string;
  readonly claims: JWTPayload;
  /** Per-session token the sign-out form must echo (CSRF). */
  readonly csrfToken: string;
  /** Entra's session id (`sid` claim), for front-channel logout. */
  readonly sid?: string;
  readonly loginHint?: string;
  readonly trust: TrustChain;
}

/** Starts and ends sessions, setting and clearing the session cookie. */
interface Sessions {
  /** Starts a session under a new random id (no fixation), ending the request's current one, and sets the cookie. */
  start(req: FastifyRequest, reply: FastifyReply, session: Omit<Session, "id">): void;
  /** Ends the request's session, if any, and clears the cookie; returns how many sessions ended (0 or 1). */
  end(req: FastifyRequest, reply: FastifyReply): number;
  /** Ends every session with Entra's session id `sid`; returns how many. */
  endBySid(sid: string): number;
}

/** Keeps sign-in attempts server-side between /signin and the callback, bound to the browser that started them. */
interface SignInAttempts {
  /** Keeps an attempt for 15 minutes under its state and sets the browser-binding cookie. */
  keep(req: FastifyRequest, reply: FastifyReply, attempt: SignInAttempt, returnUrl: string): void;
  /** Takes (single use) the attempt under `state`, if it exists and this browser started it. */
  take(req: FastifyRequest, state: string): TakenSignInAttempt;
}

type TakenSignInAttempt =
  | { readonly ok: true; readonly attempt: SignInAttempt; readonly returnUrl: string }
  | { readonly ok: false; readonly reason: "unknown" | "other-browser" };

/** Session timeouts and bound. Defaults: 1 h idle, 8 h absolute, 10 000 sessions. */
export interface SessionOptions {
  readonly idleTimeoutMs?: number;
  readonly absoluteTimeoutMs?: number;
  readonly maxSessions?: number;
}

declare module "fastify" {
  interface FastifyInstance {
    sessions: Sessions;
    signInAttempts: SignInAttempts;
  }
  interface FastifyRequest {
    /** The signed-in user's session, or null. */
    session: Session | null;
  }
}

/** A sign-in attempt as kept: `binding` is the random value also held in the browser's `signin` cookie. */
interface KeptSignInAttempt {
  readonly attempt: SignInAttempt;
  readonly binding: string;
  readonly returnUrl: string;
}

const SIGN_IN_ATTEMPT_TTL_MS = 15 * 60_000; // ASP.NET's nonce lifetime
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// The session cookie is Lax (it need not follow cross-site requests); the sign-in attempt cookie must survive Entra's
// cross-site form_post to the callback, so it is SameSite=None, which browsers accept only with Secure (Chromium and
// Firefox treat http://localhost as secure, so local runs work too). Over https both take the __Host- prefix.
const isHttps = (req: FastifyRequest): boolean => req.protocol === "https";
const sessionCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-session" : "session");
const signInCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-signin" : "signin");
const cookieId = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.cookies[name];
  return value && ID_PATTERN.test(value) ? value : undefined;
};

async function sessionsPlugin(app: FastifyInstance, options: SessionOptions): Promise<void> {
  const sessions = new BoundedStore<Session>({
    idleTimeoutMs: options.idleTimeoutMs ?? 60 * 60_000,
    absoluteTimeoutMs: options.absoluteTimeoutMs ?? 8 * 60 * 60_000,
    maxEntries: options.maxSessions ?? 10_000,
  });
  const attempts = new BoundedStore<KeptSignInAttempt>({ absoluteTimeoutMs: SIGN_IN_ATTEMPT_TTL_MS, maxEntries: 10_000 });
  const sweeper = setInterval(() => {
    sessions.sweep();
    attempts.sweep();
  }, 60_000);
  sweeper.unref();
  app.addHook("onClose", async () => clearInterval(sweeper));

  await app.register(fastifyCookie);
  app.decorateRequest("session", null);
  app.addHook("onRequest", async (req) => {
    const id = cookieId(req, sessionCookie(req));
    req.session = id ? (sessions.get(id) ?? null) : null;
  });

  const clearCookie = (req: FastifyRequest, reply: FastifyReply): void => {
    reply.clearCookie(sessionCookie(req), { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
  };
  app.decorate("sessions", {
    start(req, reply, session) {
      if (req.session) sessions.delete(req.session.id);
      const id = randomId();
      sessions.set(id, { id, ...session });
      reply.setCookie(sessionCookie(req), id, { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
    },
    end(req, reply) {
      clearCookie(req, reply);
      return req.session && sessions.delete(req.session.id) ? 1 : 0;
    },
    endBySid: (sid) => sessions.deleteWhere((session) => session.sid === sid),
  } satisfies Sessions);

  app.decorate("signInAttempts", {
    keep(req, reply, attempt, returnUrl) {
      // One binding per browser: a second tab's attempt reuses it, so both can finish.
      const binding = cookieId(req, signInCookie(req)) ?? randomId();
      attempts.set(attempt.state, { attempt, binding, returnUrl });
      reply.setCookie(signInCookie(req), binding, {
        path: "/",
        httpOnly: true,
        secure: true,
        sameSite: "none",
        maxAge: SIGN_IN_ATTEMPT_TTL_MS / 1000,
      });
    },
    take(req, state) {
      const kept = attempts.take(state);
      if (!kept) return { ok: false, reason: "unknown" };
      const binding = req.cookies[signInCookie(req)];
      if (!binding || !safeEqual(binding, kept.binding)) return { ok: false, reason: "other-browser" };
      return { ok: true, attempt: kept.attempt, returnUrl: kept.returnUrl };
    },
  } satisfies SignInAttempts);
}

/** Sessions and sign-in attempts, shared with the route plugins (fastify-plugin: the decorators reach siblings). */
export const sessionsAndAttempts = fp(sessionsPlugin, { name: "sessions" });
