/**
 * The Redis connection the shared stores run on: one kept ioredis client per app instance, reached over TLS with
 * the user-assigned managed identity's Entra token as the password and the identity's object ID as the user name.
 * No key, password or connection string exists anywhere: the token comes from the same managed-identity source as
 * the client assertion.
 * - it re-authenticates (`AUTH <user> <token>`) on the same connection before each token expires, and every
 *   reconnect authenticates with the newest token;
 * - when Redis is unreachable a command fails at once (no offline queue) or within `commandTimeoutMs`, as a
 *   {@link StoreUnavailableError}, while the client reconnects with capped exponential backoff and jitter.
 */
import type { ConnectionOptions } from "node:tls";
import Redis from "ioredis";
import type { FastifyBaseLogger } from "fastify";
import type { ManagedIdentityTokenSource } from "../auth/managed-identity";
import { safeError } from "../logging";
import { StoreUnavailableError } from "./types";

/** Where Redis is and who the app is to it (app/app-config.ts reads these from the `Redis__…` settings). */
export interface RedisTarget {
  readonly host: string;
  readonly port: number;
  /** The managed identity's object (principal) ID: the Redis user name. */
  readonly username: string;
  /** The Entra resource of the token, e.g. `https://redis.azure.com` (the cloud's Redis scope without `/.default`). */
  readonly resource: string;
}

export interface RedisConnectionOptions {
  readonly target: RedisTarget;
  readonly tokens: ManagedIdentityTokenSource;
  readonly log: FastifyBaseLogger;
  /** Extra TLS options (tests and local runs: the CA of a local Redis). */
  readonly tls?: ConnectionOptions;
  /** How long one command may take before the request gets a 503. Defaults to 2 s. */
  readonly commandTimeoutMs?: number;
  /** How long a connection attempt may take. Defaults to 5 s. */
  readonly connectTimeoutMs?: number;
  /** Longest wait between reconnection attempts. Defaults to 5 s. */
  readonly maxBackoffMs?: number;
  /** Clock. Defaults to Date.now. */
  readonly now?: () => number;
}

/** An Entra-authenticated Redis connection. */
export interface RedisConnection {
  readonly client: Redis;
  /** Runs a command; any failure (unreachable, timeout, refused, out of memory) is a StoreUnavailableError. */
  run<T>(what: string, command: (client: Redis) => Promise<T>): Promise<T>;
  /** Ready when connected and authenticated, proven by a PING at most once a second (`/readyz` is public). */
  available(): Promise<boolean>;
  close(): Promise<void>;
}

/** How long before a token expires the connection re-authenticates: half its life, at most 5 minutes before the end. */
export function reauthenticationDelayMs(expiresOn: Date | null, now = Date.now()): number {
  if (!expiresOn) return 60_000;
  const left = expiresOn.getTime() - now;
  const delay = left > 10 * 60_000 ? Math.min(left / 2, left - 5 * 60_000) : left / 2;
  return Math.max(1_000, Math.floor(delay));
}

/** Connects to Redis as the managed identity and keeps the connection authenticated with fresh tokens. */
export function connectRedis(options: RedisConnectionOptions): RedisConnection {
  const { target, tokens, log } = options;
  const now = options.now ?? Date.now;
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
        schedule(reauthenticationDelayMs(expiresOn, now()));
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

  let lastCheck: { at: number; ok: Promise<boolean> } | undefined;

  return {
    client,
    async run(what, command) {
      if (closed) throw new StoreUnavailableError("the app is shutting down");
      try {
        return await command(client);
      } catch (error) {
        throw new StoreUnavailableError(`${what}: ${(error as Error).message.slice(0, 200)}`);
      }
    },
    available() {
      const at = now();
      if (lastCheck && at - lastCheck.at < 1_000) return lastCheck.ok;
      const ready = authenticated && client.status === "ready";
      const ok = ready
        ? client.ping().then(
            () => true,
            () => false,
          )
        : Promise.resolve(false);
      lastCheck = { at, ok };
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
