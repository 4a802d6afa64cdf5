/** Liveness for App Service's health check, and readiness: the managed identity must produce its token. */
import type { FastifyInstance } from "fastify";
import { APP_ROUTES } from "../../contract/routes";
import { ManagedIdentityError, type AssertionProvider } from "../auth/managed-identity";
import type { AppConfig } from "../config";

interface HealthOptions {
  readonly config: AppConfig;
  readonly assertion: AssertionProvider;
}

export async function healthRoutes(app: FastifyInstance, { config, assertion }: HealthOptions): Promise<void> {
  app.get(APP_ROUTES.health, async () => ({ status: "ok" }));

  // Readiness: the managed identity must produce the token the sign-in exchanges (msal-node's cache answers most calls).
  app.get(APP_ROUTES.ready, async (req, reply) => {
    reply.header("cache-control", "no-store");
    try {
      await assertion.getAssertion();
      return { status: "ready", managedIdentityClientId: config.managedIdentityClientId, audience: config.tokenExchangeUrl };
    } catch (error) {
      const reason = error instanceof ManagedIdentityError ? error.reason : "the managed identity token could not be obtained";
      req.log.warn({ reason }, "not ready");
      return reply.code(503).send({ status: "unavailable", reason: `Managed identity token for ${config.tokenExchangeUrl} unavailable: ${reason}` });
    }
  });
}
