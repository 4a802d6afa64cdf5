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
import type { TokenCachePartition } from "../auth/token-cache";
import { BoundedStore, randomId } from "../store";
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
  /** msal-node's account id (`uid.utid`) of the user, to find their tokens in {@link Session.tokenCache}. */
  readonly homeAccountId?: string;
  /**
   * The user's tokens (ID, Graph access and refresh token) as msal-node's serialized cache, "" when none: part of the
   * session record, so they end with it. Never sent to the browser or logged.
   */
  readonly tokenCache: string;
}

/** Starts and ends sessions, setting and clearing the session cookie. */
interface Sessions {
  /** Starts a session under a new random id (no fixation), ending the request's current one, and sets the cookie. */
  start(req: FastifyRequest, reply: FastifyReply, session: Omit<Session, "id">): void;
  /** Ends the request's session, if any, and clears the cookie; returns how many sessions ended (0 or 1). */
  end(req: FastifyRequest, reply: FastifyReply): number;
  /**
   * Ends every session whose ID token came from issuer `iss` with Entra's session id `sid` (front-channel logout),
   * clearing the request's cookie when its session is one of them; returns how many ended.
   */
  endBySid(req: FastifyRequest, reply: FastifyReply, iss: string, sid: string): number;
  /**
   * The session's token cache, for msal-node: reads the live record's, and writes it back into the record only while
   * the session lives and the cache is within its bound ({@link SessionOptions.maxTokenCacheBytes}).
   */
  tokenCache(req: FastifyRequest, session: Session): TokenCachePartition;
}

/** Keeps sign-in attempts server-side between /signin and the callback, bound to the browser that started them. */
interface SignInAttempts {
  /**
   * Keeps an attempt for 15 minutes under this browser's binding and sets the binding cookie. Returns false, keeping
   * nothing, when the app already holds its bound of browsers with sign-ins in progress: someone else's are never evicted.
   */
  keep(req: FastifyRequest, reply: FastifyReply, attempt: SignInAttempt, returnUrl: string): boolean;
  /** False when {@link SignInAttempts.keep} would refuse this browser's attempt: a cheap check before building one. */
  hasRoom(req: FastifyRequest): boolean;
  /**
   * Takes (single use) the attempt under `state`, only if this browser started it: a response posted from another
   * browser, or without the cookie, consumes nothing.
   */
  take(req: FastifyRequest, state: string): TakenSignInAttempt;
}

type TakenSignInAttempt =
  | { readonly ok: true; readonly attempt: SignInAttempt; readonly returnUrl: string }
  | { readonly ok: false; readonly reason: "unknown" | "other-browser" };

/** Bounds on sign-ins in progress. Defaults: 10 000 browsers, 5 attempts each. */
export interface SignInAttemptOptions {
  /** Browsers with a sign-in in progress; beyond it /signin answers 503 rather than evict another browser's. */
  readonly maxBrowsers?: number;
  /** Attempts one browser may have in progress (tabs); its own oldest is dropped beyond it. */
  readonly maxPerBrowser?: number;
}

/**
 * Session timeouts and bounds (defaults: 1 h idle, 8 h absolute, 10 000 sessions, 32 KiB of tokens each), and the
 * sign-in attempts' bounds.
 */
export interface SessionOptions {
  readonly idleTimeoutMs?: number;
  readonly absoluteTimeoutMs?: number;
  readonly maxSessions?: number;
  /**
   * The largest serialized token cache one session keeps, in bytes. One user's ID, Graph access and refresh token take
   * a few KiB; a cache beyond the bound is not kept (the user signs in again), so sessions × this bounds the memory.
   */
  readonly maxTokenCacheBytes?: number;
  readonly signInAttempts?: SignInAttemptOptions;
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

interface KeptSignInAttempt {
  readonly attempt: SignInAttempt;
  readonly returnUrl: string;
  readonly keptAt: number;
}

/**
 * One browser's sign-ins in progress, kept under its binding: the random value the server minted and set in that
 * browser's `signin` cookie. Attempts by state, oldest first.
 */
interface PendingBrowser {
  readonly attempts: Map<string, KeptSignInAttempt>;
}

const SIGN_IN_ATTEMPT_TTL_MS = 15 * 60_000; // ASP.NET's nonce lifetime
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

// The session cookie is Lax (it need not follow cross-site requests); the sign-in attempt cookie must survive Entra's
// cross-site form_post to the callback, so it is SameSite=None, which browsers accept only with Secure (Chromium and
// Firefox treat http://localhost as secure, so local runs work too). Over https both take the __Host- prefix. The
// scheme is the configured public origin's (security.ts), never a request header's.
const isHttps = (req: FastifyRequest): boolean => req.publicOrigin.startsWith("https:");
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
  // No idle timeout: a browser's entry is re-set (refreshed, moved last) whenever it keeps a new attempt.
  const attempts = new BoundedStore<PendingBrowser>({
    absoluteTimeoutMs: SIGN_IN_ATTEMPT_TTL_MS,
    maxEntries: options.signInAttempts?.maxBrowsers ?? 10_000,
  });
  const maxPerBrowser = options.signInAttempts?.maxPerBrowser ?? 5;
  const maxTokenCacheBytes = options.maxTokenCacheBytes ?? 32 * 1024;
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
      const bytes = Buffer.byteLength(session.tokenCache);
      if (bytes > maxTokenCacheBytes) req.log.warn({ bytes, bound: maxTokenCacheBytes }, "token cache over its bound: not kept");
      sessions.set(id, { id, ...session, tokenCache: bytes > maxTokenCacheBytes ? "" : session.tokenCache });
      reply.setCookie(sessionCookie(req), id, { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
    },
    end(req, reply) {
      clearCookie(req, reply);
      return req.session && sessions.delete(req.session.id) ? 1 : 0;
    },
    endBySid(req, reply, iss, sid) {
      const ours = req.session;
      const ended = sessions.deleteWhere((session) => session.sid === sid && session.claims.iss === iss);
      if (ours && ours.sid === sid && ours.claims.iss === iss) clearCookie(req, reply);
      return ended;
    },
    tokenCache(req, session) {
      return {
        read: () => sessions.get(session.id)?.tokenCache ?? "",
        write(serialized) {
          const bytes = Buffer.byteLength(serialized);
          if (bytes > maxTokenCacheBytes) {
            req.log.warn({ bytes, bound: maxTokenCacheBytes }, "token cache over its bound: not kept");
            return false;
          }
          const live = sessions.get(session.id);
          return live !== undefined && sessions.replace(session.id, { ...live, tokenCache: serialized });
        },
      };
    },
  } satisfies Sessions);

  app.decorate("signInAttempts", {
    keep(req, reply, attempt, returnUrl) {
      // The binding is always one this server minted: a cookie value it does not hold (planted, expired, forged) is
      // ignored and a fresh one minted. A known one is reused, so a second tab's attempt keeps the first's alive.
      const presented = cookieId(req, signInCookie(req));
      const known = presented ? attempts.get(presented) : undefined;
      const binding = known && presented ? presented : randomId();
      const browser: PendingBrowser = known ?? { attempts: new Map() };
      if (known) attempts.set(binding, browser); // refresh: 15 minutes from this attempt
      else if (!attempts.add(binding, browser)) return false;
      while (browser.attempts.size >= maxPerBrowser) {
        const oldest = browser.attempts.keys().next().value;
        if (oldest === undefined) break;
        browser.attempts.delete(oldest);
      }
      browser.attempts.set(attempt.state, { attempt, returnUrl, keptAt: Date.now() });
      reply.setCookie(signInCookie(req), binding, {
        path: "/",
        httpOnly: true,
        secure: true,
        sameSite: "none",
        maxAge: SIGN_IN_ATTEMPT_TTL_MS / 1000,
      });
      return true;
    },
    hasRoom(req) {
      const presented = cookieId(req, signInCookie(req));
      return (presented !== undefined && attempts.get(presented) !== undefined) || attempts.hasRoom();
    },
    take(req, state) {
      // The binding first: a response from another browser (or without the cookie) must not consume the attempt.
      const binding = cookieId(req, signInCookie(req));
      if (!binding) return { ok: false, reason: "other-browser" };
      const browser = attempts.get(binding);
      if (!browser) return { ok: false, reason: "unknown" }; // its attempts were all used, or expired
      const kept = browser.attempts.get(state);
      if (!kept) return { ok: false, reason: "unknown" };
      browser.attempts.delete(state);
      if (browser.attempts.size === 0) attempts.delete(binding);
      if (Date.now() - kept.keptAt >= SIGN_IN_ATTEMPT_TTL_MS) return { ok: false, reason: "unknown" };
      return { ok: true, attempt: kept.attempt, returnUrl: kept.returnUrl };
    },
  } satisfies SignInAttempts);
}

/** Sessions and sign-in attempts, shared with the route plugins (fastify-plugin: the decorators reach siblings). */
export const sessionsAndAttempts = fp(sessionsPlugin, { name: "sessions" });
