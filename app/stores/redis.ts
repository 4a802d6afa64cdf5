/**
 * The shared stores: Redis (Azure Managed Redis when deployed), on one Entra-authenticated connection per app
 * instance (redis-connection.ts), holding sessions (redis-sessions.ts) and sign-in attempts
 * (redis-sign-in-attempts.ts) with the memory stores' timeouts and bounds, through the scripts of redis-scripts.ts.
 *
 * - key names hold no secret: session ids and sign-in bindings are bearer secrets, so keys carry their sha256;
 * - every value is written whole, and every operation that touches more than one key is one script, so two
 *   instances never see half of it and a sign-in attempt is redeemed once;
 * - nothing is evicted: the stack sets the database's eviction policy to NoEviction (components/session-redis.ts).
 * Under
 *   an LRU policy the sid index, written once at sign-in, would be evicted before the sessions it names (read on every
 *   request) and a front-channel logout would silently end nothing. With NoEviction, Redis out of memory refuses new
 *   writes (a sign-in gets a 503) but keeps every key, and the logout script (allow-oom) still runs. Every key has a
 *   TTL, and the session bound (maxSessions) keeps the store below its memory.
 *
 * Key layout (namespace `secretless:` by default):
 *   {s}:s:<sha256(session id)>    string  "<createdAt ms>|<user tag>|<session JSON>"  PX = min(idle, absolute left)
 *   {s}:all                       zset    every live session's member, scored by when it idles out (the bound)
 *   {s}:u:<sha256(tid \n oid)>    zset    one user's sessions, in creation order (the per-user cap)  PX = absolute
 *   {s}:sid:<sha256(iss \n sid)>  set     one Entra session's sessions, for front-channel logout  PX = absolute
 *   {att}:b:<sha256(binding)>         hash    state → "<keptAt ms>|<attempt JSON>"      PX = attempt TTL
 *   {att}:browsers                    zset    sha256(binding) scored by expiry, to bound browsers in progress
 * The `{s}` and `{att}` hash tags keep the keys one script touches in one slot, so the scripts also run on a clustered
 * Redis (Azure Managed Redis's Enterprise and OSS clustering policies); all sessions share one slot as the price of a
 * global bound and a one-round-trip logout.
 */
import type { ManagedIdentityTokenSource } from "../auth/managed-identity";
import type { FastifyBaseLogger } from "fastify";
import { connectRedis, type RedisConnectionOptions, type RedisTarget } from "./redis-connection";
import { createRedisSessionStore } from "./redis-sessions";
import { createRedisSignInAttemptStore } from "./redis-sign-in-attempts";
import type { SessionIndexFields, SessionLimits, SignInAttemptLimits, Stores } from "./types";

export { reauthenticationDelayMs, type RedisTarget } from "./redis-connection";

export interface RedisStoreOptions extends RedisConnectionOptions {
  readonly target: RedisTarget;
  readonly tokens: ManagedIdentityTokenSource;
  readonly log: FastifyBaseLogger;
  /** Key prefix. Defaults to `secretless:`. */
  readonly namespace?: string;
}

/** Connects to Redis with the managed identity and returns the session and sign-in attempt stores on it. */
export function createRedisStores<S extends SessionIndexFields, A>(
  options: RedisStoreOptions,
  sessionLimits: SessionLimits,
  attemptLimits: SignInAttemptLimits,
): Stores<S, A> {
  const namespace = options.namespace ?? "secretless:";
  const now = options.now ?? Date.now;
  const connection = connectRedis(options);
  return {
    kind: "redis",
    sessions: createRedisSessionStore<S>(connection, namespace, sessionLimits, now),
    attempts: createRedisSignInAttemptStore<A>(connection, namespace, attemptLimits, now),
    available: () => connection.available(),
    close: () => connection.close(),
  };
}
