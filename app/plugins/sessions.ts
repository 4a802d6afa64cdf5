/**
 * Server-side sessions and sign-in attempts. The browser holds only random ids in cookies: `session` (the signed-in
 * user) and `signin` (binds this browser's sign-in attempts). Both live in the app's stores (app/stores): this
 * instance's memory by default, Redis shared by every instance when the app is scaled out.
 *
 * Decorates the app with `sessions` and `signInAttempts`, and every request with `session`: the current user's
 * session, or null. When the shared store is unreachable, a request that needs it fails with a StoreUnavailableError
 * (the error plugin answers 503, "sign-in is temporarily unavailable").
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fp from "fastify-plugin";
import type { JWTPayload } from "jose";
import { APP_ROUTES } from "../../contract/routes";
import type { SignInAttempt } from "../auth/oidc";
import type { TokenCachePartition } from "../auth/token-cache";
import { randomId } from "../store";
import type { Stores } from "../stores/types";
import type { TrustChain } from "../views";

/**
 * A signed-in user's server-side session. The cookie carries only its random id. Every field is JSON-serialisable:
 * a shared store writes the record whole (see {@link Sessions.save}).
 */
export interface Session {
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
   * session record, so they end with it and a shared store keeps them for every instance. Never sent to the browser
   * or logged.
   */
  readonly tokenCache: string;
}

/** Starts and ends sessions, setting and clearing the session cookie. */
interface Sessions {
  /** Starts a session under a new random id (no fixation), ending the request's current one, and sets the cookie. */
  start(req: FastifyRequest, reply: FastifyReply, session: Omit<Session, "id">): Promise<void>;
  /**
   * Writes the request's session back whole, with `session`'s fields (e.g. an updated token cache), keeping its
   * timeouts; a session signed out meanwhile (by another instance too) stays signed out. Returns false then.
   */
  save(req: FastifyRequest, session: Session): Promise<boolean>;
  /** Ends the request's session, if any, and clears the cookie; returns how many sessions ended (0 or 1). */
  end(req: FastifyRequest, reply: FastifyReply): Promise<number>;
  /**
   * Ends every session whose ID token came from issuer `iss` with Entra's session id `sid` (front-channel logout),
   * clearing the request's cookie when its session is one of them; returns how many ended.
   */
  endBySid(req: FastifyRequest, reply: FastifyReply, iss: string, sid: string): Promise<number>;
  /**
   * The request's session's token cache, for msal-node: reads the live record's, and writes it back with
   * {@link Sessions.save} (so never into a session that ended) only while it is within its bound
   * ({@link SessionOptions.maxTokenCacheBytes}).
   */
  tokenCache(req: FastifyRequest, session: Session): TokenCachePartition;
}

/** Keeps sign-in attempts server-side between /signin and the callback, bound to the browser that started them. */
interface SignInAttempts {
  /**
   * Keeps an attempt for 15 minutes under this browser's binding and sets the binding cookie. Returns false, keeping
   * nothing, when the app already holds its bound of browsers with sign-ins in progress: someone else's are never evicted.
   */
  keep(req: FastifyRequest, reply: FastifyReply, attempt: SignInAttempt, returnUrl: string): Promise<boolean>;
  /** False when {@link SignInAttempts.keep} would refuse this browser's attempt: a cheap check before building one. */
  hasRoom(req: FastifyRequest): Promise<boolean>;
  /**
   * Takes (single use) the attempt under `state`, only if this browser started it: a response posted from another
   * browser, or without the cookie, consumes nothing.
   */
  take(req: FastifyRequest, state: string): Promise<TakenSignInAttempt>;
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
 * Session timeouts and bounds (defaults: 1 h idle, 8 h absolute, 10 000 sessions in memory, 32 KiB of tokens each),
 * and the sign-in attempts' bounds.
 */
export interface SessionOptions {
  readonly idleTimeoutMs?: number;
  readonly absoluteTimeoutMs?: number;
  readonly maxSessions?: number;
  /**
   * The largest serialized token cache one session keeps, in bytes. One user's ID, Graph access and refresh token take
   * a few KiB; a cache beyond the bound is not kept (the user signs in again), so sessions × this bounds the store.
   */
  readonly maxTokenCacheBytes?: number;
  readonly signInAttempts?: SignInAttemptOptions;
}

/** What the stores keep for one sign-in attempt. */
export interface KeptSignInAttempt {
  readonly attempt: SignInAttempt;
  readonly returnUrl: string;
}

/** The stores the sessions plugin runs on. */
export type SessionStores = Stores<Session, KeptSignInAttempt>;

/** The limits {@link SessionOptions} sets, defaults applied: what either store is built with. */
export function sessionLimits(options: SessionOptions = {}) {
  return {
    sessions: {
      idleTimeoutMs: options.idleTimeoutMs ?? 60 * 60_000,
      absoluteTimeoutMs: options.absoluteTimeoutMs ?? 8 * 60 * 60_000,
      maxSessions: options.maxSessions ?? 10_000,
    },
    attempts: {
      ttlMs: SIGN_IN_ATTEMPT_TTL_MS,
      maxBrowsers: options.signInAttempts?.maxBrowsers ?? 10_000,
      maxPerBrowser: options.signInAttempts?.maxPerBrowser ?? 5,
    },
    maxTokenCacheBytes: options.maxTokenCacheBytes ?? 32 * 1024,
  };
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

interface SessionsPluginOptions {
  readonly stores: SessionStores;
  /** See {@link SessionOptions.maxTokenCacheBytes}. */
  readonly maxTokenCacheBytes: number;
}

async function sessionsPlugin(app: FastifyInstance, { stores, maxTokenCacheBytes }: SessionsPluginOptions): Promise<void> {
  const { sessions, attempts } = stores;
  /** Whether a serialized token cache is within its bound (and a warning when it is not). */
  const withinBound = (req: FastifyRequest, serialized: string): boolean => {
    const bytes = Buffer.byteLength(serialized);
    if (bytes > maxTokenCacheBytes) req.log.warn({ bytes, bound: maxTokenCacheBytes }, "token cache over its bound: not kept");
    return bytes <= maxTokenCacheBytes;
  };
  app.addHook("onClose", () => stores.close());

  await app.register(fastifyCookie);
  app.decorateRequest("session", null);
  // Only a request that carries a session cookie reads the store, and never for health checks or assets, which must
  // answer while the shared store is down.
  app.addHook("onRequest", async (req) => {
    const path = req.url.split("?")[0] ?? "";
    if (path === APP_ROUTES.health || path === APP_ROUTES.ready || path.startsWith("/public/")) return;
    const id = cookieId(req, sessionCookie(req));
    req.session = id ? ((await sessions.get(id)) ?? null) : null;
  });

  const clearCookie = (req: FastifyRequest, reply: FastifyReply): void => {
    reply.clearCookie(sessionCookie(req), { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
  };
  const decorated: Sessions = {
    async start(req, reply, session) {
      if (req.session) await sessions.delete(req.session.id);
      const id = randomId();
      await sessions.create(id, { id, ...session, tokenCache: withinBound(req, session.tokenCache) ? session.tokenCache : "" });
      reply.setCookie(sessionCookie(req), id, { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
    },
    async save(req, session) {
      if (!req.session || session.id !== req.session.id) return false;
      const saved = await sessions.replace(session.id, session);
      req.session = saved ? session : null;
      return saved;
    },
    async end(req, reply) {
      clearCookie(req, reply);
      return req.session && (await sessions.delete(req.session.id)) ? 1 : 0;
    },
    async endBySid(req, reply, iss, sid) {
      const ours = req.session;
      const ended = await sessions.deleteBySid(iss, sid);
      if (ours && ours.sid === sid && ours.claims.iss === iss) clearCookie(req, reply);
      return ended;
    },
    tokenCache(req, session) {
      return {
        // The live record's: a refresh another request (or instance) saved meanwhile is seen.
        read: async () => (await sessions.get(session.id))?.tokenCache ?? "",
        write: async (serialized) => withinBound(req, serialized) && decorated.save(req, { ...session, tokenCache: serialized }),
      };
    },
  };
  app.decorate("sessions", decorated);

  app.decorate("signInAttempts", {
    async keep(req, reply, attempt, returnUrl) {
      // The binding is always one this server minted: a cookie value the store does not hold (planted, expired,
      // forged) is ignored and a fresh one minted. A known one is reused, so a second tab's attempt keeps the first's alive.
      const binding = await attempts.keep(cookieId(req, signInCookie(req)), randomId(), attempt.state, { attempt, returnUrl });
      if (binding === undefined) return false;
      reply.setCookie(signInCookie(req), binding, {
        path: "/",
        httpOnly: true,
        secure: true,
        sameSite: "none",
        maxAge: SIGN_IN_ATTEMPT_TTL_MS / 1000,
      });
      return true;
    },
    hasRoom: (req) => attempts.hasRoom(cookieId(req, signInCookie(req))),
    async take(req, state) {
      // The binding first: a response from another browser (or without the cookie) must not consume the attempt.
      const binding = cookieId(req, signInCookie(req));
      if (!binding) return { ok: false, reason: "other-browser" };
      const kept = await attempts.take(binding, state); // unknown, used, expired, or all of its browser's gone
      return kept ? { ok: true, attempt: kept.attempt, returnUrl: kept.returnUrl } : { ok: false, reason: "unknown" };
    },
  } satisfies SignInAttempts);
}

/** Sessions and sign-in attempts, shared with the route plugins (fastify-plugin: the decorators reach siblings). */
export const sessionsAndAttempts = fp(sessionsPlugin, { name: "sessions" });
