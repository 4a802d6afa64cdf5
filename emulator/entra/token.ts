/**
 * The token endpoint: `POST /{tid}/oauth2/v2.0/token`. The client authenticates with its only credential, its FIC: a
 * managed-identity token as a JWT client assertion, checked by fic.ts. Grants: authorization_code and refresh_token
 * (code-grant.ts), client_credentials (client-credentials.ts).
 */
import { EntraError, errorBody, requiredParameter as required, tenantNotFound, unknownApplication } from "../errors";
import { JWT_BEARER_ASSERTION_TYPE, validateClientAssertion } from "../fic";
import { checkClientSecret } from "./client-secret";
import { readForm, sendJson } from "../http";
import { issueAppToken } from "./client-credentials";
import { redeemCode, redeemRefreshToken } from "./code-grant";
import { correlationIdOf, tenantMatches, type EntraHandler, type EntraState } from "./state";

/** The grants the token endpoint implements (also advertised by discovery). */
export const GRANT_TYPES: readonly string[] = ["authorization_code", "refresh_token", "client_credentials"];

export const token: EntraHandler = async (state, req, res) => {
  const { ctx } = state;
  ctx.stats.tokenRequests++;
  const form = await readForm(req.raw);
  if (form.get("grant_type") === "client_credentials") ctx.stats.clientCredentialsRequests++;
  if (form.get("grant_type") === "refresh_token") ctx.stats.refreshTokenRequests++;
  if (ctx.faults.tokenEndpointDown === true) {
    req.raw.socket.destroy(); // no answer at all, as when the STS is unreachable
    return;
  }
  const correlationId = correlationIdOf(req);
  try {
    if (ctx.faults.tokenEndpointDown === "503") {
      throw new EntraError("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", 503);
    }
    if (!tenantMatches(state, req.params[0])) throw tenantNotFound(req.params[0]);
    sendJson(res, 200, await handleGrant(state, form));
  } catch (err) {
    if (!(err instanceof EntraError)) throw err;
    const headers: Record<string, string> = err.status === 503 ? { "Retry-After": "1" } : {};
    sendJson(res, err.status, errorBody(err, ctx.instance, correlationId), headers);
  }
};

async function handleGrant(state: EntraState, form: URLSearchParams): Promise<Record<string, unknown>> {
  const grantType = required(form, "grant_type");
  if (!GRANT_TYPES.includes(grantType)) {
    throw new EntraError(
      "unsupported_grant_type",
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    );
  }
  const clientId = required(form, "client_id");
  if (clientId.toLowerCase() !== state.ctx.registration.clientId.toLowerCase()) {
    const err = unknownApplication(clientId, state.ctx.tenantId);
    throw new EntraError("unauthorized_client", err.code, err.description);
  }
  await authenticateClient(state, form);
  if (grantType === "client_credentials") return issueAppToken(state, form);
  return grantType === "authorization_code" ? redeemCode(state, form) : redeemRefreshToken(state, form);
}

/**
 * The client authenticates with its FIC (a managed-identity token presented as a JWT client assertion) or, while the
 * registration still has one, a client secret (an app before its migration).
 */
async function authenticateClient(state: EntraState, form: URLSearchParams): Promise<void> {
  if (form.has("client_secret")) {
    if (form.has("client_assertion")) {
      throw new EntraError(
        "invalid_request",
        9002313,
        "Invalid request. Request is malformed or invalid. - The reason: both client_secret and client_assertion " +
          "were sent; send one credential.",
      );
    }
    checkClientSecret(state, form.get("client_secret") ?? "");
    return;
  }
  const assertion = form.get("client_assertion");
  if (!assertion) {
    throw new EntraError(
      "invalid_client",
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }
  if (form.get("client_assertion_type") !== JWT_BEARER_ASSERTION_TYPE) {
    throw new EntraError(
      "invalid_request",
      9002313,
      `Invalid request. Request is malformed or invalid. - The reason: ` +
        `client_assertion_type must be '${JWT_BEARER_ASSERTION_TYPE}'.`,
    );
  }
  await validateClientAssertion(state.ctx, assertion);
}
