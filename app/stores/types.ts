/**
 * Where sessions and pending sign-ins live: one instance's memory (the default, memory.ts) or Redis shared by every
 * instance (redis.ts). Both implement these interfaces, asynchronously, with the same timeouts and bounds.
 *
 * Values are JSON-serialisable records written whole: a store never merges fields, so a session (and anything it
 * carries, such as the user's serialised token cache) is stored entirely or not at all.
 */

/**
 * What a store needs to know about a session: the ID token's issuer and Entra's session id, for front-channel logout,
 * and its tenant and object ID (`tid` + `oid`), the user whose sessions are capped.
 */
export interface SessionIndexFields {
  readonly claims: { readonly iss?: unknown; readonly tid?: unknown; readonly oid?: unknown };
  readonly sid?: string;
}

/** The user a session belongs to, `tid` + `oid` (Entra's immutable pair), or undefined when the claims lack either. */
export function sessionUser(session: SessionIndexFields): string | undefined {
  const { tid, oid } = session.claims;
  return typeof tid === "string" && tid && typeof oid === "string" && oid ? `${tid}\n${oid}` : undefined;
}

/** Signed-in users' sessions, by session id (a bearer secret: a store never puts it in a key name as it is). */
export interface SessionStore<S extends SessionIndexFields> {
  /** The live session under `id` (and marks it active: the idle timeout starts again), or undefined. */
  get(id: string): Promise<S | undefined>;
  /**
   * Stores a new session under a new id. Beyond {@link SessionLimits.maxSessionsPerUser} the same user's oldest
   * sessions end; at {@link SessionLimits.maxSessions} live sessions it stores nothing and returns false: another
   * user's session is never evicted.
   */
  create(id: string, session: S): Promise<boolean>;
  /**
   * Replaces the whole session under `id`, keeping its timeouts, only while it is still live: a session signed out
   * meanwhile stays signed out. Returns false when it was gone.
   */
  replace(id: string, session: S): Promise<boolean>;
  /** Removes the session under `id`; returns whether there was one. */
  delete(id: string): Promise<boolean>;
  /** Removes every session whose ID token came from `iss` with Entra session id `sid`; returns how many. */
  deleteBySid(iss: string, sid: string): Promise<number>;
}

/** Timeouts and bounds of sessions (defaults: 1 h idle, 8 h absolute, 10 000 sessions, 10 per user). */
export interface SessionLimits {
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  /** Live sessions in the store (per instance in memory, in all in Redis); new sign-ins are refused beyond it. */
  readonly maxSessions: number;
  /** Live sessions of one user (`tid` + `oid`); a new one ends that user's own oldest beyond it. */
  readonly maxSessionsPerUser: number;
}

/**
 * Sign-in attempts in progress, kept under the binding (a random value in the browser's `signin` cookie, as secret
 * as a session id) and the attempt's `state`.
 */
export interface SignInAttemptStore<A> {
  /** False when {@link SignInAttemptStore.keep} would refuse a browser presenting `binding` (or none). */
  hasRoom(binding: string | undefined): Promise<boolean>;
  /**
   * Keeps `attempt` under `state` for the attempt TTL, under `binding` when the store holds it (refreshing it), else
   * under `fresh`, which must be new. Beyond the per-browser bound the browser's own oldest attempt is dropped.
   * Returns the binding used, or undefined (keeping nothing) when the store already holds its bound of browsers.
   */
  keep(binding: string | undefined, fresh: string, state: string, attempt: A): Promise<string | undefined>;
  /** Removes and returns (single use, atomically) the live attempt under `binding` and `state`, or undefined. */
  take(binding: string, state: string): Promise<A | undefined>;
}

/** Bounds on sign-ins in progress. */
export interface SignInAttemptLimits {
  /** How long an attempt lives: 15 minutes, ASP.NET's nonce lifetime. */
  readonly ttlMs: number;
  /** Browsers with a sign-in in progress; beyond it new ones are refused, never another browser's evicted. */
  readonly maxBrowsers: number;
  /** Attempts one browser may have in progress (tabs); its own oldest is dropped beyond it. */
  readonly maxPerBrowser: number;
}

/** The two stores an app instance uses, and their lifecycle. */
export interface Stores<S extends SessionIndexFields, A> {
  readonly sessions: SessionStore<S>;
  readonly attempts: SignInAttemptStore<A>;
  /** "memory" or "redis", for the log. */
  readonly kind: string;
  /** Resolves true when the store can serve requests now (memory: always). */
  available(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The shared store could not be reached (or did not answer in time). Pages answer 503 "sign-in is temporarily
 * unavailable", `/readyz` says `store_unavailable`; the message names the cause for the log only.
 */
export class StoreUnavailableError extends Error {
  readonly statusCode = 503;
  constructor(cause: string) {
    super(`The session store is unavailable: ${cause}`);
    this.name = "StoreUnavailableError";
  }
}

/**
 * The store holds its bound of live sessions ({@link SessionLimits.maxSessions}): a new sign-in is refused rather than
 * another user's session evicted. Pages answer 503 "too many people are signed in, try again later".
 */
export class SessionsFullError extends Error {
  readonly statusCode = 503;
  constructor() {
    super("The session store holds its bound of live sessions: new sign-ins are refused until some end.");
    this.name = "SessionsFullError";
  }
}
