/**
 * The client-credentials grant (`grant_type=client_credentials`): an app-only access token for
 * `scope=<resource>/.default`,
 * the client authenticated by its FIC exactly as for the user grants (token.ts). An app proves its trust chain with it
 * (managed identity → FIC → Entra) without a user. Protocol:
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
 */
import { EntraError, requiredParameter } from "../errors";
import { mintAppAccessToken, resourceFromScope, USER_TOKEN_LIFETIME_SECONDS } from "../tokens";
import type { EntraState } from "./state";

/** Answers a client-credentials request whose client is already authenticated. */
export async function issueAppToken(state: EntraState, form: URLSearchParams): Promise<Record<string, unknown>> {
  const resource = resourceOfScope(requiredParameter(form, "scope"));
  return {
    token_type: "Bearer",
    expires_in: USER_TOKEN_LIFETIME_SECONDS,
    ext_expires_in: USER_TOKEN_LIFETIME_SECONDS,
    access_token: await mintAppAccessToken(state.ctx, { clientId: form.get("client_id")!, resource }),
  };
}

/** The resource of a `<resource>/.default` scope; any other scope is AADSTS1002012, as Entra answers. */
function resourceOfScope(scope: string): string {
  const resource = resourceFromScope(scope);
  if (resource === scope || !resource || /\s/.test(resource)) {
    throw new EntraError(
      "invalid_scope",
      1002012,
      `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with ` +
        "/.default suffixed to the resource identifier (application ID URI).",
    );
  }
  return resource;
}
