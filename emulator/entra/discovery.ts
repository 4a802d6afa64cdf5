/**
 * OpenID Connect discovery and the signing keys:
 *
 *   GET /{tid}/v2.0/.well-known/openid-configuration   (also /{tid}/.well-known/openid-configuration)
 *   GET /{tid}/discovery/v2.0/keys
 */
import { errorBody, tenantNotFound } from "../errors";
import { sendJson } from "../http";
import { tenantMatches, type EntraHandler } from "./state";
import { GRANT_TYPES } from "./token";

/** The discovery document; every endpoint lives under the tenant, like Entra's. */
export const discovery: EntraHandler = (state, req, res) => {
  const { ctx } = state;
  if (!tenantMatches(state, req.params[0]))
    return sendJson(res, 400, errorBody(tenantNotFound(req.params[0]), ctx.instance));
  const base = `${ctx.instance}${ctx.tenantId}`;
  sendJson(res, 200, {
    issuer: ctx.issuer,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_types_supported: ["code"],
    response_modes_supported: ["query", "fragment", "form_post"],
    grant_types_supported: GRANT_TYPES,
    // Only assertions: the emulated registration has no secrets (a FIC is its only credential).
    token_endpoint_auth_methods_supported: ["private_key_jwt"],
    code_challenge_methods_supported: ["S256", "plain"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    claims_supported: [
      "sub",
      "iss",
      "aud",
      "exp",
      "iat",
      "nbf",
      "nonce",
      "name",
      "oid",
      "tid",
      "ver",
      "preferred_username",
      "login_hint",
      "sid",
    ],
    request_uri_parameter_supported: false,
    frontchannel_logout_supported: true,
    frontchannel_logout_session_supported: true, // logout sends iss and sid to the front-channel logout URL
    http_logout_supported: true,
  });
};

/** The JWKS: the current signing key and the ones still published after a rotation. */
export const keys: EntraHandler = (state, req, res) => {
  const { ctx } = state;
  if (!tenantMatches(state, req.params[0]))
    return sendJson(res, 400, errorBody(tenantNotFound(req.params[0]), ctx.instance));
  sendJson(res, 200, ctx.keys.jwks());
};
