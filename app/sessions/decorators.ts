/**
 * What the sessions plugin (app/plugins/sessions.ts) adds to Fastify: `app.sessions`, `app.signInAttempts` and
 * `req.session`, with the module augmentation that types them for every route plugin.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import type { SignInAttempt } from "../auth/oidc";
import type { TokenCachePartition } from "../auth/token-cache";
import type { Session } from "./records";

/** Starts and ends sessions, setting and clearing the session cookie. */
export interface Sessions {
  /**
   * Starts a session under a new random id (no fixation), ending the request's current one, and sets the cookie.
   * Throws a SessionsFullError (a 503 page) when the store holds its bound of sessions of other users.
   */
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
   * (`SessionOptions.maxTokenCacheBytes`, limits.ts).
   */
  tokenCache(req: FastifyRequest, session: Session): TokenCachePartition;
}

/** Keeps sign-in attempts server-side between /signin and the callback, bound to the browser that started them. */
export interface SignInAttempts {
  /**
   * Keeps an attempt for 15 minutes under this browser's binding and sets the binding cookie. Returns false, keeping
   * nothing, when the app already holds its bound of browsers with sign-ins in progress: someone else's are never
   * evicted.
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

export type TakenSignInAttempt =
  | { readonly ok: true; readonly attempt: SignInAttempt; readonly returnUrl: string }
  | { readonly ok: false; readonly reason: "unknown" | "other-browser" };

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
