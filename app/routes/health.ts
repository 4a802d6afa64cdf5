/**
 * Liveness for App Service's health check, and readiness: the whole trust chain (managed identity → federated
 * credential → Entra) must work. The readiness body is the public contract of contract/readiness.ts: a status and a
 * short code, nothing else; the details go to the log.
 */
import type { FastifyInstance } from "fastify";
import { AppReadinessReason, readinessBody } from "../../contract/readiness";
import { APP_ROUTES } from "../../contract/routes";
import type { ReadinessCheck } from "../auth/readiness";

interface HealthOptions {
  readonly readiness: ReadinessCheck;
}

export async function healthRoutes(app: FastifyInstance, { readiness }: HealthOptions): Promise<void> {
  app.get(APP_ROUTES.health, async () => ({ status: "ok" }));

  app.get(APP_ROUTES.ready, async (req, reply) => {
    reply.header("cache-control", "no-store");
    const { reason, detail, cached } = await readiness.check();
    const ready = reason === AppReadinessReason.Ok;
    // Logged once per real check, not for every cached answer, so a flood of /readyz cannot flood the log either.
    if (!cached) {
      if (ready) req.log.info({ reason }, "trust chain checked: ready");
      else req.log.warn({ reason, detail }, "trust chain checked: not ready");
    }
    return reply.code(ready ? 200 : 503).send(readinessBody(reason));
  });
}
