/**
 * App Service's managed-identity endpoint (`IDENTITY_ENDPOINT`, API version 2019-08-01), served over plain HTTP as the
 * platform does. Protocol: notes/entra-fic.md §3.
 *
 *   GET /msi/token?api-version=2019-08-01&resource=…&client_id=…   (or principal_id / object_id / mi_res_id)
 *   X-IDENTITY-HEADER: <IDENTITY_HEADER>
 *
 * Only a user-assigned identity is "attached", so a request must name it with exactly one id parameter.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { Router, sendJson, takeFault, type Request } from "./http";
import { mintManagedIdentityToken, resourceFromScope } from "./tokens";
import type { EmulatorContext } from "./types";

const API_VERSION = "2019-08-01";
const ID_PARAMETERS = ["client_id", "principal_id", "object_id", "mi_res_id"] as const;

/** The router of the MI endpoint. */
export function managedIdentityRouter(ctx: EmulatorContext): Router {
  return new Router().on("GET", /^\/msi\/token$/, (req, res) => token(ctx, req, res));
}

/** App Service's error body: `{statusCode, message, correlationId}`, plus the correlation id as a header. */
function fail(res: ServerResponse, statusCode: number, message: string, headers: Record<string, string> = {}): void {
  const correlationId = randomUUID();
  sendJson(res, statusCode, { statusCode, message, correlationId }, { "X-CORRELATION-ID": correlationId, ...headers });
}

async function token(ctx: EmulatorContext, req: Request, res: ServerResponse): Promise<void> {
  ctx.stats.miRequests++;
  const { faults, registration, identityHeader } = ctx;

  // An injected platform error comes before any request checks: the platform, not the request, is at fault.
  const fault = takeFault(faults, "mi");
  if (fault)
    return fail(
      res,
      fault.status,
      `Injected fault: the managed identity endpoint answered ${fault.status}.`,
      fault.headers,
    );

  // The header is App Service's SSRF guard: a server tricked into fetching a URL cannot add it.
  const presented = req.raw.headers["x-identity-header"];
  if (presented === undefined) return fail(res, 400, "The X-IDENTITY-HEADER header is required.");
  if (presented !== identityHeader) return fail(res, 401, "The X-IDENTITY-HEADER header value is not valid.");

  const query = req.url.searchParams;
  if (query.get("api-version") !== API_VERSION) {
    return fail(res, 400, `The api-version '${query.get("api-version") ?? ""}' is not supported; use ${API_VERSION}.`);
  }
  const resource = query.get("resource");
  if (!resource) return fail(res, 400, "The resource parameter is required.");

  const given = ID_PARAMETERS.filter((p) => query.has(p));
  if (given.length > 1) return fail(res, 400, `Only one of ${ID_PARAMETERS.join(", ")} may be given.`);
  const { uami } = registration;
  const expected: Record<(typeof ID_PARAMETERS)[number], string> = {
    client_id: uami.clientId,
    principal_id: uami.principalId,
    object_id: uami.principalId,
    mi_res_id: uami.resourceId,
  };
  // No id parameter means "the system-assigned identity", and none is attached. GUIDs and ARM ids are case-insensitive.
  const [param] = given;
  if (!param || query.get(param)!.toLowerCase() !== expected[param].toLowerCase()) {
    return fail(res, 400, "Unable to load the proper Managed Identity.");
  }

  const { token: accessToken, expiresOn } = await mintManagedIdentityToken(ctx, {
    resource: resourceFromScope(resource),
  });
  sendJson(res, 200, {
    access_token: accessToken,
    expires_on: String(expiresOn), // a string of epoch seconds, as App Service sends it
    resource,
    token_type: "Bearer",
    client_id: uami.clientId,
  });
}
