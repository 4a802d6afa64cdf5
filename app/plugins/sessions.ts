/**
 * Server-side sessions and sign-in attempts. The browser holds only random ids in cookies: `session` (the signed-in
 * user) and `signin` (binds this browser's sign-in attempts). Both live in the app's stores (app/stores): this
 * instance's memory by default, Redis shared by every instance when the app is scaled out.
 *
 * Decorates the app with `sessions` and `signInAttempts`, and every request with `session`: the current user's
 * session, or null. When the shared store is unreachable, a request that needs it fails with a StoreUnavailableError
 * (the error plugin answers 503, "sign-in is temporarily unavailable"); a sign-in when the store holds its bound of
 * other users' sessions fails with a SessionsFullError (503, "try again later").
 *
 * The records are in app/sessions/records.ts, the decorators' types in decorators.ts, the limits in limits.ts and the
 * cookie policy in cookies.ts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fp from "fastify-plugin";
import { APP_ROUTES } from "../../contract/routes";
import { randomId } from "../random-id";
import { cookieId, sessionCookie, sessionCookieOptions, signInCookie, signInCookieOptions } from "../sessions/cookies";
import type { Sessions, SignInAttempts } from "../sessions/decorators";
import type { SessionStores } from "../sessions/records";
import { SessionsFullError } from "../stores/types";

interface SessionsPluginOptions {
  readonly stores: SessionStores;
  /** See `SessionOptions.maxTokenCacheBytes` (app/sessions/limits.ts). */
  readonly maxTokenCacheBytes: number;
}

async function sessionsPlugin(app: FastifyInstance, options: SessionsPluginOptions): Promise<void> {
  const { stores, maxTokenCacheBytes } = options;
  const { sessions, attempts } = stores;
  /** Whether a serialized token cache is within its bound (and a warning when it is not). */
  const withinBound = (req: FastifyRequest, serialized: string): boolean => {
    const bytes = Buffer.byteLength(serialized);
    if (bytes > maxTokenCacheBytes) {
      req.log.warn({ bytes, bound: maxTokenCacheBytes }, "token cache over its bound: not kept");
    }
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
    reply.clearCookie(sessionCookie(req), sessionCookieOptions(req));
  };
  const decorated: Sessions = {
    async start(req, reply, session) {
      if (req.session) await sessions.delete(req.session.id);
      const id = randomId();
      const tokenCache = withinBound(req, session.tokenCache) ? session.tokenCache : "";
      const created = await sessions.create(id, { id, ...session, tokenCache });
      if (!created) {
        req.session = null;
        clearCookie(req, reply);
        throw new SessionsFullError();
      }
      reply.setCookie(sessionCookie(req), id, sessionCookieOptions(req));
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
        write: async (serialized) =>
          withinBound(req, serialized) && decorated.save(req, { ...session, tokenCache: serialized }),
      };
    },
  };
  app.decorate("sessions", decorated);

  app.decorate("signInAttempts", {
    async keep(req, reply, attempt, returnUrl) {
      // The binding is always one this server minted: a cookie value the store does not hold (planted, expired,
      // forged) is ignored and a fresh one minted. A known one is reused, so a second tab's attempt keeps the first's
      // alive.
      const presented = cookieId(req, signInCookie(req));
      const binding = await attempts.keep(presented, randomId(), attempt.state, { attempt, returnUrl });
      if (binding === undefined) return false;
      reply.setCookie(signInCookie(req), binding, signInCookieOptions());
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
