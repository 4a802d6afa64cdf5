import { join } from "node:path";
import Fastify, { type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { AppConfig } from "./config";
import { createManagedIdentityAssertion, type AssertionProvider } from "./auth/managed-identity";
import { createSignInClient } from "./auth/oidc";
import { loggerOptions, msalLogger } from "./logging";
import { errorPages } from "./plugins/errors";
import { security } from "./plugins/security";
import { sessionsAndAttempts, type SessionOptions } from "./plugins/sessions";
import { assetRoutes } from "./routes/assets";
import { authRoutes, type SignInRateLimit } from "./routes/auth";
import { healthRoutes } from "./routes/health";
import { pageRoutes } from "./routes/pages";

/** Optional collaborators and tuning, mostly for tests. */
export interface AppDeps {
  /** The client-assertion source. Defaults to the user-assigned managed identity via msal-node. */
  readonly assertion?: AssertionProvider;
  /** Fastify logger options; defaults to JSON logs at LOG_LEVEL (default "info") with redaction. `false` turns logging off. */
  readonly logger?: FastifyServerOptions["logger"];
  /** Where JSON logs go (tests capture them); defaults to stdout. */
  readonly logStream?: NodeJS.WritableStream;
  /** Session timeouts and bound, and sign-in attempt bounds. Defaults: see SessionOptions. */
  readonly sessions?: SessionOptions;
  /** /signin requests one client address may make. Defaults to 30 a minute. */
  readonly signInRateLimit?: SignInRateLimit;
  /** jose's JWKS refetch cooldown for unknown key IDs. Defaults to 10 s. */
  readonly jwksCooldownMs?: number;
  /** Folder of static assets served under /public/. Defaults to `public` next to this module (or the bundle). */
  readonly publicDir?: string;
}

/**
 * Builds the sample web app without listening (app/server.ts listens): the plugins below, registered explicitly
 * (the esbuild bundle rules out autoload) and in this order, because hooks and handlers reach only the routes
 * registered after them. Routes are documented in app/README.md.
 */
export function createApp(config: AppConfig, deps: AppDeps = {}): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? loggerOptions(deps.logStream),
    // On App Service its front end is the one proxy in front of the app: trust X-Forwarded-* one hop deep only, so
    // req.ip is the address the front end saw, not a client-chosen X-Forwarded-For entry. Nothing else is trusted.
    trustProxy: config.behindAppServiceFrontEnd ? (_address: string, hop: number) => hop === 0 : false,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
  });

  const loggerOptionsForMsal = msalLogger(app.log);
  const assertion =
    deps.assertion ??
    createManagedIdentityAssertion({
      managedIdentityClientId: config.managedIdentityClientId,
      tokenExchangeUrl: config.tokenExchangeUrl,
      loggerOptions: loggerOptionsForMsal,
    });
  const client = createSignInClient({
    config,
    assertion,
    loggerOptions: loggerOptionsForMsal,
    ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
  });

  app.register(errorPages);
  app.register(security, { instanceOrigin: new URL(config.instance).origin, publicOrigins: config.publicOrigins });
  app.register(sessionsAndAttempts, deps.sessions ?? {});
  app.register(pageRoutes);
  app.register(authRoutes, { config, client, assertion, ...(deps.signInRateLimit ? { rateLimit: deps.signInRateLimit } : {}) });
  app.register(healthRoutes, { config, assertion });
  app.register(assetRoutes, { dir: deps.publicDir ?? join(__dirname, "public") });
  return app;
}
