/**
 * The harness of the route tests: the app from createApp against the public cloud's authority (msal-node has its
 * metadata built in, so /signin works offline) with a stub client assertion, driven through Fastify's inject.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { createApp } from "../../app/app";
import { ManagedIdentityError, type AssertionProvider } from "../../app/auth/managed-identity";
import { loadConfig, type AppConfig, type Env } from "../../app/app-config";

export const TENANT = "00000000-0000-4000-8000-00000000feed";
export const CLIENT = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/** Valid settings for a public-cloud app; `overrides` replace or add settings. */
export function offlineConfig(overrides: Env = {}): AppConfig {
  return loadConfig({
    AzureAd__Instance: "https://login.microsoftonline.com/",
    AzureAd__TenantId: TENANT,
    AzureAd__ClientId: CLIENT,
    AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
    AzureAd__ClientCredentials__0__ManagedIdentityClientId: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
    // Fastify's inject sends Host: localhost:80.
    PUBLIC_BASE_URL: "http://localhost",
    ...overrides,
  });
}

/** An assertion source that works or fails on demand, and counts its calls. */
interface StubAssertion extends AssertionProvider {
  failing: boolean;
  calls: number;
}

interface OfflineApp {
  readonly app: FastifyInstance;
  readonly assertion: StubAssertion;
  /** The URL of every route the app registered (HEAD routes included), from an onRoute hook. */
  readonly routes: readonly string[];
}

/** Builds the app (logging off) before the file's first test and closes it after the last. */
export function useOfflineApp(config: AppConfig = offlineConfig()): OfflineApp {
  const assertion: StubAssertion = {
    failing: false,
    calls: 0,
    async getAssertion() {
      this.calls++;
      if (this.failing)
        throw new ManagedIdentityError("mi_unavailable", "HTTP 500 from http://127.0.0.1:1/msi/token: boom");
      return "stub-assertion";
    },
    lastAssertionInfo: () => null,
  };
  const routes: string[] = [];
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    // /readyz proves the chain with the stub's token instead of asking Entra, and never reuses a result.
    app = createApp(config, {
      assertion,
      logger: false,
      proveTrustChain: async () => void (await assertion.getAssertion({ fresh: true })),
      readiness: { successTtlMs: 0, failureTtlMs: 0 },
    });
    // Every route is registered by a plugin, which loads on ready(): the hook sees them all.
    app.addHook("onRoute", (route) => void routes.push(route.url));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    get app() {
      if (!app) throw new Error("the app is not built: use it inside a test");
      return app;
    },
    assertion,
    routes,
  };
}
