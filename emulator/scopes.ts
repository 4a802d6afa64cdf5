/**
 * The scopes of a user sign-in, sorted as Entra sorts them: the OpenID Connect scopes, Microsoft Graph's delegated
 * permissions (short `User.Read`, or prefixed with Graph's URI or app id), and other resources' scopes, which the
 * emulator does not know (it has no other resource). Also the consent check, with Entra's AADSTS65001.
 */
import { EntraError } from "./errors";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "./tokens";
import type { EmulatorContext } from "./types";

const OIDC_SCOPES = new Set(["openid", "profile", "email", "offline_access"]);

/** Graph's delegated permissions the registration holds (and, unless `consentMissing`, that were consented to). */
const GRANTED_GRAPH_PERMISSIONS = ["User.Read"];

/** A requested scope list, sorted. */
export interface UserScopes {
  /**
   * Graph permissions as requested, prefix kept (`User.Read`, `https://graph.microsoft.com/User.Read`, `…/.default`).
   */
  graph: string[];
  /** The `aud` of the access token: Graph's URI when a permission was asked for with it, else Graph's app id. */
  audience: string;
  /** The first scope of another resource, if any. */
  foreign: string | undefined;
}

/**
 * The resource prefix of a scope (`https://graph.microsoft.com/User.Read` → `https://graph.microsoft.com`), if any.
 */
function resourceOf(scope: string): string | undefined {
  const slash = scope.lastIndexOf("/");
  return slash > 0 ? scope.slice(0, slash).replace(/\/$/, "") : undefined;
}

/** Sorts a space-separated scope list. */
export function parseScopes(scope: string): UserScopes {
  const requested = [...new Set(scope.split(" ").filter(Boolean))].filter((s) => !OIDC_SCOPES.has(s));
  const graph: string[] = [];
  let foreign: string | undefined;
  for (const s of requested) {
    const resource = resourceOf(s)?.toLowerCase();
    if (resource === undefined || resource === GRAPH_RESOURCE || resource === GRAPH_APP_ID) graph.push(s);
    else foreign ??= s;
  }
  const byUri = graph.some((s) => resourceOf(s)?.toLowerCase() === GRAPH_RESOURCE);
  return { graph, audience: byUri ? GRAPH_RESOURCE : GRAPH_APP_ID, foreign };
}

/** A Graph permission without its resource prefix; `.default` stands for every granted permission. */
function permissionNames(scope: string): string[] {
  const name = scope.slice(scope.lastIndexOf("/") + 1);
  return name === ".default" ? GRANTED_GRAPH_PERMISSIONS : [name];
}

/**
 * What a user grant is given: `scp` (Entra's order: `openid profile <permissions> email`) and the token response's
 * `scope`, which names the permissions as they were asked for, so MSAL's cache finds the token under the same scopes.
 * A sign-in with only OpenID scopes gets the consented permissions, as from Entra (none while consent is missing).
 */
export function grantedScopes(scopes: UserScopes, consented: boolean): { scp: string; scope: string } {
  const defaults = consented ? GRANTED_GRAPH_PERMISSIONS : [];
  const asked = scopes.graph.length ? scopes.graph : defaults;
  const names = [...new Set(asked.flatMap(permissionNames))];
  const asRequested = asked.flatMap((s) =>
    s.endsWith("/.default") ? GRANTED_GRAPH_PERMISSIONS.map((p) => `${GRAPH_RESOURCE}/${p}`) : [s],
  );
  return {
    scp: ["openid", "profile", ...names, "email"].join(" "),
    scope: ["openid", "profile", ...new Set(asRequested), "email"].join(" "),
  };
}

/**
 * The error a request for these scopes gets before any token is issued: AADSTS500011 for another resource,
 * AADSTS65001 (`suberror: consent_required`) for a Graph permission while consent is missing.
 */
export function scopeError(ctx: EmulatorContext, scopes: UserScopes): EntraError | undefined {
  if (scopes.foreign !== undefined) {
    return new EntraError(
      "invalid_resource",
      500011,
      `The resource principal named ${resourceOf(scopes.foreign)} was not found in the tenant named ${ctx.tenantId}. ` +
        "This can happen if the application has not been installed by the " +
        "administrator of the tenant or consented to " +
        "by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
    );
  }
  if (ctx.faults.consentMissing && scopes.graph.length > 0) {
    const { clientId, displayName } = ctx.registration;
    return new EntraError(
      "invalid_grant",
      65001,
      `The user or administrator has not consented to use the application with ID '${clientId}' named ` +
        `'${displayName ?? clientId}'. Send an interactive authorization request for this user and resource.`,
      400,
      "consent_required",
    );
  }
  return undefined;
}
