/**
 * The Entra ID endpoints a web app's sign-in uses, on Entra's paths (`/{tenant}/…`; the tenant segment is compared
 * case-insensitively because msal-node lower-cases the authority), one file each, sharing one {@link EntraState}:
 *
 *   GET      /{tid}/v2.0/.well-known/openid-configuration   discovery.ts (also /{tid}/.well-known/openid-configuration)
 *   GET      /{tid}/discovery/v2.0/keys                      discovery.ts
 *   GET      /{tid}/oauth2/v2.0/authorize                    authorize.ts: auth code (+PKCE), test user auto-selected
 *   POST     /{tid}/oauth2/v2.0/token                        token.ts: grants in code-grant.ts, client-credentials.ts
 *   GET|POST /{tid}/oauth2/v2.0/logout                       logout.ts: end session, front-channel logout iframe
 *
 * Protocol: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow and notes/entra-fic.md §5.
 */
import { Router, type Handler } from "../http";
import type { EmulatorContext } from "../types";
import { authorize } from "./authorize";
import { discovery, keys } from "./discovery";
import { logout } from "./logout";
import { createEntraState, type EntraHandler, type EntraState } from "./state";
import { token } from "./token";

/** The router of the Entra endpoints, over one state (codes, refresh tokens, sign-in session), fresh unless given. */
export function entraRouter(ctx: EmulatorContext, state: EntraState = createEntraState(ctx)): Router {
  const bind =
    (handler: EntraHandler): Handler =>
    (req, res) =>
      handler(state, req, res);
  return new Router()
    .on("GET", /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, bind(discovery))
    .on("GET", /^\/([^/]+)\/\.well-known\/openid-configuration$/, bind(discovery))
    .on("GET", /^\/([^/]+)\/discovery\/v2\.0\/keys$/, bind(keys))
    .on("GET", /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/, bind(authorize))
    .on("POST", /^\/([^/]+)\/oauth2\/v2\.0\/token$/, bind(token))
    .on(["GET", "POST"], /^\/([^/]+)\/oauth2\/v2\.0\/logout$/, bind(logout));
}
