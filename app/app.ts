import { join } from "node:path";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { AppConfig } from "./app-config";
import type { UsedCredential } from "../contract/readiness";
import { platformIdentityHeaders } from "./auth/easy-auth";
import { createGraphClient } from "./auth/graph";
import {
  createManagedIdentityAssertion,
  createManagedIdentityTokenSource,
  type AssertionProvider,
} from "./auth/managed-identity";
import { createSignInClient } from "./auth/oidc";
import { createReadinessCheck, type ReadinessCacheOptions, type ReadinessCheck } from "./auth/readiness";
import { loggerOptions, msalLogger } from "./logging";
import { errorPages } from "./plugins/errors";
import { security } from "./plugins/security";
import { sessionsAndAttempts } from "./plugins/sessions";
import { sessionLimits, type SessionOptions } from "./sessions/limits";
import type { KeptSignInAttempt, Session, SessionStores } from "./sessions/records";
import { adminRoutes } from "./routes/admin";
import { assetRoutes } from "./routes/assets";
import { authRoutes } from "./routes/auth";
import { easyAuthRoutes } from "./routes/easy-auth";
import { healthRoutes } from "./routes/health";
import { pageRoutes } from "./routes/pages";
import type { SignInRateLimit } from "./sign-in-rate-limit";
import { createMemoryStores } from "./stores/memory";
import { createRedisStores, type RedisStoreOptions } from "./stores/redis";
import { TELEMETRY_OFF, type Telemetry } from "./telemetry/telemetry";
import { tracedStores } from "./telemetry/traced-stores";

/** Optional collaborators and tuning, mostly for tests. */
export interface AppDeps {
  /** The client-assertion source. Defaults to the user-assigned managed identity via msal-node. */
  readonly assertion?: AssertionProvider;
  /**
   * Fastify logger options; defaults to JSON logs at LOG_LEVEL (default "info") with redaction. `false` turns logging
   * off.
   */
  readonly logger?: FastifyServerOptions["logger"];
  /** Where JSON logs go (tests capture them); defaults to stdout. */
  readonly logStream?: NodeJS.WritableStream;
  /** Session timeouts and bounds, and sign-in attempt bounds, over `config.sessions`. Defaults: see SessionOptions. */
  readonly sessions?: SessionOptions;
  /**
   * Tuning of the Redis store when `config.redis` is set (timeouts, backoff, extra TLS options such as a local CA).
   * Defaults: see RedisStoreOptions.
   */
  readonly redis?: Pick<
    RedisStoreOptions,
    "tls" | "namespace" | "commandTimeoutMs" | "connectTimeoutMs" | "maxBackoffMs"
  >;
  /** /signin requests one client (IPv4 address or IPv6 /64) may make, and the clock. Defaults to 60 a minute. */
  readonly signInRateLimit?: SignInRateLimit;
  /** jose's JWKS refetch cooldown for unknown key IDs. Defaults to 10 s. */
  readonly jwksCooldownMs?: number;
  /** Folder of static assets served under /public/. Defaults to `public` next to this module (or the bundle). */
  readonly publicDir?: string;
  /**
   * The trust-chain proof behind `/readyz` (resolves when the chain works, throws why not). Defaults to the sign-in
   * client's client-credentials request with a fresh managed-identity token.
   */
  readonly proveTrustChain?: () => Promise<UsedCredential | undefined> | Promise<void>;
  /** How long `/readyz` reuses a result (and the clock it reads). Defaults: 5 min after success, 10 s after failure. */
  readonly readiness?: ReadinessCacheOptions;
  /** The HTTP server's timeouts; each defaults to {@link SERVER_TIMEOUTS}. */
  readonly serverTimeouts?: Partial<ServerTimeouts>;
  /**
   * Telemetry (app/telemetry/): app/server.ts starts it when `config.telemetry` is set. Defaults to off, and then
   * nothing is recorded.
   */
  readonly telemetry?: Telemetry;
}

/** How long the HTTP server waits for a client, in milliseconds. */
export interface ServerTimeouts {
  /** Until a request's headers have all arrived. */
  readonly headersMs: number;
  /** Until the whole request (headers and body) has arrived; at least `headersMs`. */
  readonly requestMs: number;
  /** An idle keep-alive connection between two requests. */
  readonly keepAliveMs: number;
  /** Any connection with no traffic at all (a backstop, longer than the keep-alive time). */
  readonly idleMs: number;
  /** How often Node checks the header and request timeouts (it checks no more often than this). */
  readonly checkIntervalMs: number;
}

/**
 * A slow client holds a socket and memory for as long as the server waits, so the server waits little: requests here
 * are small (64 KiB at most) and come through App Service's front end, which has the request already. Keep-alive
 * stays Fastify's 72 s, longer than a front end's usual 60 s idle time, so the front end closes first and never sends
 * on a connection the app is closing.
 */
export const SERVER_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 72_000,
  idleMs: 120_000,
  checkIntervalMs: 1_000,
};

/**
 * Builds the sample web app without listening (app/server.ts listens): the plugins below, registered explicitly
 * (the esbuild bundle rules out autoload) and in this order, because hooks and handlers reach only the routes
 * registered after them. Routes are documented in app/README.md.
 */
export function createApp(config: AppConfig, deps: AppDeps = {}): FastifyInstance {
  const timeouts = { ...SERVER_TIMEOUTS, ...deps.serverTimeouts };
  const telemetry = deps.telemetry ?? TELEMETRY_OFF;
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(deps.logStream, telemetry.logging),
    requestTimeout: timeouts.requestMs,
    keepAliveTimeout: timeouts.keepAliveMs,
    connectionTimeout: timeouts.idleMs,
    http: { headersTimeout: timeouts.headersMs, connectionsCheckingInterval: timeouts.checkIntervalMs },
    // On App Service or Container Apps the platform's front end is the one proxy in front of the app: trust
    // X-Forwarded-* one hop deep only, so req.ip is the address the front end saw (the rightmost X-Forwarded-For
    // entry), not a client-chosen one. Container Apps: "Azure Container Apps only provides the right-most IP. Users
    // must validate any other values" (https://learn.microsoft.com/azure/container-apps/ingress-overview#http-headers).
    trustProxy: config.behindPlatformFrontEnd ? (_address: string, hop: number) => hop === 0 : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
  });

  // First, so every request's span is the parent of what its hooks and handler do.
  telemetry.instrument(app);
  const loggerOptionsForMsal = msalLogger(app.log);
  // One managed-identity token source for every resource: the client assertion and the Redis password.
  // A credential list without the managed identity (an app still on its secret) never asks the endpoint.
  const tokens = createManagedIdentityTokenSource({
    managedIdentityClientId: config.managedIdentityClientId,
    identityEndpoint: config.managedIdentityClientId ? config.identityEndpoint : undefined,
    loggerOptions: loggerOptionsForMsal,
    telemetrySteps: telemetry,
  });
  const assertion = deps.assertion ?? createManagedIdentityAssertion({ ...config, source: tokens });
  const client = createSignInClient({
    config,
    assertion,
    loggerOptions: loggerOptionsForMsal,
    ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
  });

  app.register(errorPages);
  app.register(security, { instanceOrigin: new URL(config.instance).origin, publicOrigins: config.publicOrigins });
  // Easy Auth mode: the platform signs users in and the app keeps no session (app/auth/easy-auth.ts says when).
  if (config.easyAuth) {
    app.register(easyAuthRoutes, { config, assertion });
    app.register(healthRoutes, {
      readiness: countedReadiness(
        createReadinessCheck(deps.proveTrustChain ?? (() => client.proveTrustChain()), deps.readiness),
        telemetry,
      ),
      storeAvailable: async () => true,
      reportCredential: config.clientCredentials.length > 1,
    });
    app.register(assetRoutes, { dir: deps.publicDir ?? join(__dirname, "public") });
    return app;
  }
  // Nobody vouches for the platform's identity headers here: drop them before any route sees them.
  app.register(platformIdentityHeaders);
  const limits = sessionLimits({ ...config.sessions, ...deps.sessions });
  const stores: SessionStores = config.redis
    ? tracedStores(
        createRedisStores<Session, KeptSignInAttempt>(
          { ...deps.redis, target: config.redis, tokens, log: app.log },
          limits.sessions,
          limits.attempts,
        ),
        telemetry,
        config.redis,
      )
    : createMemoryStores<Session, KeptSignInAttempt>(limits.sessions, limits.attempts);
  app.register(sessionsAndAttempts, { stores, maxTokenCacheBytes: limits.maxTokenCacheBytes });
  app.register(pageRoutes, { graph: createGraphClient({ config, client, telemetry }) });
  app.register(adminRoutes);
  app.register(authRoutes, {
    config,
    client,
    assertion,
    ...(deps.signInRateLimit ? { rateLimit: deps.signInRateLimit } : {}),
    telemetry,
  });
  app.register(healthRoutes, {
    readiness: countedReadiness(
      createReadinessCheck(deps.proveTrustChain ?? (() => client.proveTrustChain()), deps.readiness),
      telemetry,
    ),
    storeAvailable: () => stores.available(),
    reportCredential: config.clientCredentials.length > 1,
  });
  app.register(assetRoutes, { dir: deps.publicDir ?? join(__dirname, "public") });
  return app;
}

/** The readiness check with each answer counted in the `readiness.checks` metric and the `readiness.ready` gauge. */
function countedReadiness(readiness: ReadinessCheck, telemetry: Telemetry): ReadinessCheck {
  if (!telemetry.enabled) return readiness;
  return {
    ...readiness,
    async check() {
      const result = await readiness.check();
      telemetry.readinessChecked(result.reason);
      return result;
    },
  };
}
