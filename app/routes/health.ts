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
  /**
   * Whether `/readyz` names the credential that proved the chain: only when the list offers a choice (more than one
   * credential, e.g. during a migration off a client secret). With one there is nothing to tell, and the public body
   * stays the contract's status and code.
   */
  readonly reportCredential: boolean;
  readonly readiness: ReadinessCheck;
  /** Whether the session store can serve requests now (the memory store always can). */
  readonly storeAvailable: () => Promise<boolean>;
}

export async function healthRoutes(
  app: FastifyInstance,
  { readiness, storeAvailable, reportCredential }: HealthOptions,
): Promise<void> {
  app.get(APP_ROUTES.health, async () => ({ status: "ok" }));

  let storeWasDown = false;
  app.get(APP_ROUTES.ready, async (req, reply) => {
    reply.header("cache-control", "no-store");
    // No sign-in works without the session store: check it first (a cached PING, so a flood of /readyz stays cheap).
    const storeUp = await storeAvailable();
    if (storeUp !== !storeWasDown) {
      if (storeUp) req.log.info({ reason: AppReadinessReason.Ok }, "session store reachable again");
      else req.log.warn({ reason: AppReadinessReason.StoreUnavailable }, "session store unavailable: not ready");
      storeWasDown = !storeUp;
    }
    if (!storeUp) return reply.code(503).send(readinessBody(AppReadinessReason.StoreUnavailable));
    const { reason, detail, cached, credential } = await readiness.check();
    const ready = reason === AppReadinessReason.Ok;
    // Logged once per real check, not for every cached answer, so a flood of /readyz cannot flood the log either.
    if (!cached) {
      if (ready) req.log.info({ reason, credential }, "trust chain checked: ready");
      else req.log.warn({ reason, detail }, "trust chain checked: not ready");
    }
    return reply.code(ready ? 200 : 503).send(readinessBody(reason, reportCredential ? credential : undefined));
  });
}
