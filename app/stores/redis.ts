/**
 * The shared stores: Redis (Azure Managed Redis when deployed), reached over TLS with the user-assigned managed
 * identity's Entra token as the password and the identity's object ID as the user name. No key, password or
 * connection string exists anywhere: the token comes from the same managed-identity source as the client assertion.
 *
 * One kept ioredis client per app instance:
 * - it re-authenticates (`AUTH <user> <token>`) on the same connection before each token expires, and every
 *   reconnect authenticates with the newest token;
 * - when Redis is unreachable a command fails at once (no offline queue) or within `commandTimeoutMs`, as a
 *   {@link StoreUnavailableError}, while the client reconnects with capped exponential backoff and jitter;
 * - key names hold no secret: session ids and sign-in bindings are bearer secrets, so keys carry their sha256;
 * - every value is written whole by one command or one script, and a sign-in attempt is taken (read and removed) by
 *   one script, so two instances can never both redeem it.
 *
 * Key layout (namespace `secretless:` by default):
 *   s:<sha256(session id)>            string  "<createdAt ms>|<session JSON>"   PX = min(idle, absolute left)
 *   sid:<sha256(iss \n sid)>          set     sha256(session id)s, for front-channel logout   PX = absolute timeout
 *   {att}:b:<sha256(binding)>         hash    state → "<keptAt ms>|<attempt JSON>"      PX = attempt TTL
 *   {att}:browsers                    zset    sha256(binding) scored by expiry, to bound browsers in progress
 * The `{att}` hash tag keeps the attempt keys one script touches in one slot, so the scripts also run on a clustered
 * Redis (Azure Managed Redis's Enterprise and OSS clustering policies).
 */
import { createHash } from "node:crypto";
import type { ConnectionOptions } from "node:tls";
import Redis from "ioredis";
import type { FastifyBaseLogger } from "fastify";
import type { ManagedIdentityTokenSource } from "../auth/managed-identity";
import { safeError } from "../logging";
import type { SessionIndexFields, SessionLimits, SignInAttemptLimits, Stores } from "./types";
import { StoreUnavailableError } from "./types";

/** Where Redis is and who the app is to it (app/config.ts reads these from the `Redis__…` settings). */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  /** The managed identity's object (principal) ID: the Redis user name. */
  readonly username: string;
  /** The Entra resource of the token, e.g. `https://redis.azure.com` (the cloud's Redis scope without `/.default`). */
  readonly resource: string;
}

export interface RedisStoreOptions {
  readonly target: RedisTarget;
  readonly tokens: ManagedIdentityTokenSource;
  readonly log: FastifyBaseLogger;
  /** Extra TLS options (tests and local runs: the CA of a local Redis). */
  readonly tls?: ConnectionOptions;
  /** Key prefix. Defaults to `secretless:`. */
  readonly namespace?: string;
  /** How long one command may take before the request gets a 503. Defaults to 2 s. */
  readonly commandTimeoutMs?: number;
  /** How long a connection attempt may take. Defaults to 5 s. */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts. Defaults to 5 s. */
  readonly maxBackoffMs?: number;
}

const hash = (value: string): string => createHash("sha256").update(value).digest("base64url");

/** `<ms>|<json>`: a timestamp the scripts can read without decoding JSON, then the record. */
const stamped = (ms: number, value: unknown): string => `${ms}|${JSON.stringify(value)}`;
function unstamp<T>(raw: string): { ms: number; value: T } {
  const bar = raw.indexOf("|");
  return { ms: Number(raw.slice(0, bar)), value: JSON.parse(raw.slice(bar + 1)) as T };
}

// Replaces a session's value, keeping its creation time and TTL, only while it exists.
const REPLACE_SESSION = `
local old = redis.call('GET', KEYS[1])
if not old then return 0 end
local created = string.match(old, '^(%d+)|')
redis.call('SET', KEYS[1], created .. '|' .. ARGV[1], 'KEEPTTL')
return 1`;

// KEYS: browser hash, browsers zset. ARGV: now, ttl, maxBrowsers, maxPerBrowser, state, value, member, mustBeNew.
// Returns 1 kept, 0 refused (full), -1 the presented binding is unknown (the caller retries with a fresh one).
const KEEP_ATTEMPT = `
local now = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local known = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[8] == '0' and not known then return -1 end
if not known and redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
local fields = redis.call('HGETALL', KEYS[1])
local kept = {}
for i = 1, #fields, 2 do
  kept[#kept + 1] = { fields[i], tonumber(string.match(fields[i + 1], '^(%d+)|')) }
end
table.sort(kept, function(a, b) return a[2] < b[2] end)
for i = 1, #kept - tonumber(ARGV[4]) + 1 do redis.call('HDEL', KEYS[1], kept[i][1]) end
redis.call('HSET', KEYS[1], ARGV[5], ARGV[6])
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now + ttl, ARGV[7])
return 1`;

// KEYS: browser hash, browsers zset. ARGV: state, member. Returns the attempt's value, removed, or nil.
const TAKE_ATTEMPT = `
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[2])
end
return value`;

// KEYS: browser hash, browsers zset. ARGV: now, maxBrowsers. 1 when a browser could keep an attempt.
const HAS_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', tonumber(ARGV[1]))
if redis.call('ZCARD', KEYS[2]) < tonumber(ARGV[2]) then return 1 end
return 0`;

/** How long before a token expires the connection re-authenticates: half its life, at most 5 minutes before the end. */
export function reauthenticationDelayMs(expiresOn: Date | null, now = Date.now()): number {
  if (!expiresOn) return 60_000;
  const left = expiresOn.getTime() - now;
  const delay = left > 10 * 60_000 ? Math.min(left / 2, left - 5 * 60_000) : left / 2;
  return Math.max(1_000, Math.floor(delay));
}

/** Connects to Redis with the managed identity and returns the session and sign-in attempt stores on it. */
export function createRedisStores<S extends SessionIndexFields, A>(
  options: RedisStoreOptions,
  sessionLimits: SessionLimits,
  attemptLimits: SignInAttemptLimits,
): Stores<S, A> {
  const { target, tokens, log } = options;
  const ns = options.namespace ?? "secretless:";
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const client = new Redis({
    host: target.host,
    port: target.port,
    username: target.username,
    lazyConnect: true,
    tls: { servername: target.host, minVersion: "TLSv1.2", ...options.tls },
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // Fail a command at once while disconnected (the request answers 503) instead of queueing it past its timeout.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    // Capped exponential backoff with jitter; never gives up.
    retryStrategy: (times) => Math.min(maxBackoffMs, 100 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 100),
    // Reconnect after a failover or a read-only replica answer.
    reconnectOnError: (error) => /READONLY|LOADING/.test(error.message),
  });

  let closed = false;
  let authenticated = false;
  let refreshTimer: NodeJS.Timeout | undefined;
  let refreshing: Promise<void> | undefined;
  let failures = 0;

  client.on("error", (error: Error) => {
    // Never the token: ioredis's errors name the host and the reply, not the password.
    log.warn({ store: "redis", err: safeError(error) }, "redis connection error");
    if (/WRONGPASS|NOAUTH/.test(error.message)) void refresh(true);
  });
  client.on("ready", () => {
    authenticated = true;
    log.info({ store: "redis", host: target.host }, "redis connected");
  });
  client.on("close", () => {
    authenticated = false;
  });

  const schedule = (delayMs: number): void => {
    if (closed) return;
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => void refresh(false), delayMs);
    refreshTimer.unref();
  };

  /**
   * Fetches the managed identity's token and makes it the password: for the next (re)connect, and with AUTH on the
   * live connection. On failure, tries again with backoff; the current token stays in use while it lasts.
   */
  const refresh = (fresh: boolean): Promise<void> => {
    refreshing ??= (async () => {
      try {
        const { token, expiresOn } = await tokens.getToken(target.resource, { fresh });
        client.options.password = token;
        failures = 0;
        if (client.status === "ready") {
          await client.auth(target.username, token);
          log.info({ store: "redis", expiresOn }, "redis re-authenticated with a new managed-identity token");
        } else if (client.status === "wait") {
          await client.connect().catch(() => undefined); // the retry strategy takes over from here
        }
        schedule(reauthenticationDelayMs(expiresOn));
      } catch (error) {
        failures++;
        log.warn({ store: "redis", err: safeError(error) }, "no managed-identity token for redis yet");
        schedule(Math.min(maxBackoffMs * 6, 1_000 * 2 ** Math.min(failures, 5)));
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  };
  void refresh(false);

  /** Runs a command; any failure (unreachable, timeout, refused) is a StoreUnavailableError. */
  const run = async <T>(what: string, command: () => Promise<T>): Promise<T> => {
    if (closed) throw new StoreUnavailableError("the app is shutting down");
    try {
      return await command();
    } catch (error) {
      throw new StoreUnavailableError(`${what}: ${(error as Error).message.slice(0, 200)}`);
    }
  };

  const sessionKey = (id: string): string => `${ns}s:${hash(id)}`;
  const sidKey = (iss: string, sid: string): string => `${ns}sid:${hash(`${iss}\n${sid}`)}`;
  const browserKey = (binding: string): string => `${ns}{att}:b:${hash(binding)}`;
  const browsersKey = `${ns}{att}:browsers`;

  let lastCheck: { at: number; ok: Promise<boolean> } | undefined;

  return {
    kind: "redis",
    sessions: {
      async get(id) {
        const key = sessionKey(id);
        const raw = await run("read a session", () => client.get(key));
        if (raw === null) return undefined;
        const { ms: createdAt, value } = unstamp<S>(raw);
        const left = createdAt + sessionLimits.absoluteTimeoutMs - Date.now();
        if (left <= 0) {
          await run("end an expired session", () => client.del(key));
          return undefined;
        }
        await run("refresh a session", () => client.pexpire(key, Math.min(sessionLimits.idleTimeoutMs, left)));
        return value;
      },
      async create(id, session) {
        const now = Date.now();
        // The front-channel logout index first: a session never exists without its index entry.
        if (typeof session.claims.iss === "string" && session.sid) {
          const index = sidKey(session.claims.iss, session.sid);
          await run("index a session", () => client.multi().sadd(index, hash(id)).pexpire(index, sessionLimits.absoluteTimeoutMs).exec());
        }
        const ttl = Math.min(sessionLimits.idleTimeoutMs, sessionLimits.absoluteTimeoutMs);
        await run("store a session", () => client.set(sessionKey(id), stamped(now, session), "PX", ttl, "NX"));
      },
      async replace(id, session) {
        const replaced = await run("replace a session", () => client.eval(REPLACE_SESSION, 1, sessionKey(id), JSON.stringify(session)));
        return replaced === 1;
      },
      async delete(id) {
        return (await run("end a session", () => client.del(sessionKey(id)))) === 1;
      },
      async deleteBySid(iss, sid) {
        const index = sidKey(iss, sid);
        const members = await run("find sessions by sid", () => client.smembers(index));
        let ended = 0;
        for (const member of members) ended += await run("end a session", () => client.del(`${ns}s:${member}`));
        await run("drop a sid index", () => client.del(index));
        return ended;
      },
    },
    attempts: {
      async hasRoom(binding) {
        const key = binding === undefined ? `${ns}{att}:b:none` : browserKey(binding);
        const room = await run("check sign-ins in progress", () => client.eval(HAS_ROOM, 2, key, browsersKey, Date.now(), attemptLimits.maxBrowsers));
        return room === 1;
      },
      async keep(presented, fresh, state, attempt) {
        const value = stamped(Date.now(), attempt);
        const attemptWith = (binding: string, mustBeNew: boolean) =>
          run("keep a sign-in attempt", () =>
            client.eval(KEEP_ATTEMPT, 2, browserKey(binding), browsersKey, Date.now(), attemptLimits.ttlMs, attemptLimits.maxBrowsers, attemptLimits.maxPerBrowser, state, value, hash(binding), mustBeNew ? "1" : "0"),
          );
        if (presented !== undefined && (await attemptWith(presented, false)) === 1) return presented;
        return (await attemptWith(fresh, true)) === 1 ? fresh : undefined;
      },
      async take(binding, state) {
        const raw = (await run("take a sign-in attempt", () => client.eval(TAKE_ATTEMPT, 2, browserKey(binding), browsersKey, state, hash(binding)))) as string | null;
        if (raw === null) return undefined;
        const { ms: keptAt, value } = unstamp<A>(raw);
        return Date.now() - keptAt < attemptLimits.ttlMs ? value : undefined;
      },
    },
    /** Ready when connected and authenticated, proven by a PING at most once a second (`/readyz` is public). */
    available() {
      const now = Date.now();
      if (lastCheck && now - lastCheck.at < 1_000) return lastCheck.ok;
      const ok = authenticated && client.status === "ready" ? client.ping().then(() => true, () => false) : Promise.resolve(false);
      lastCheck = { at: now, ok };
      return ok;
    },
    async close() {
      closed = true;
      clearTimeout(refreshTimer);
      await refreshing?.catch(() => undefined);
      client.disconnect();
    },
  };
}
