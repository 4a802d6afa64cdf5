/**
 * A Linux web app through Azure Resource Manager's REST API, as the operator (any `TokenCredential`: the operator's
 * `DefaultAzureCredential`, or a test's). Used by the migration command (migrate/) and the adopt stack's checks.
 *
 * - App settings are one collection: list is `POST {site}/config/appsettings/list`, write is
 *   `PUT {site}/config/appsettings` with the WHOLE collection (learn.microsoft.com/rest/api/appservice/web-apps/
 *   list-application-settings and .../update-application-settings). {@link ArmSite.applySettings} therefore reads,
 *   changes only the names in the change, and writes back; every other setting goes back as it was read.
 * - Identity: `GET {site}` and `PATCH {site}` with `identity`
 *   (learn.microsoft.com/rest/api/appservice/web-apps/update).
 *   The PATCH names every user-assigned identity the site already wears, so none is dropped.
 * - User-assigned identities: `GET`/`PUT Microsoft.ManagedIdentity/userAssignedIdentities/{name}` (api-version
 *   2023-01-31, learn.microsoft.com/rest/api/managedidentity/user-assigned-identities).
 * - The operator's permissions on a scope: `GET {scope}/providers/Microsoft.Authorization/permissions`
 *   (learn.microsoft.com/rest/api/authorization/permissions/list-for-resource), so a command can stop before its first
 *   change when an action is missing.
 *
 * Values read (app settings hold secrets) stay in memory: they are never printed, logged, thrown or put into an error
 * message; errors carry ARM's error code, the HTTP status and the action, and ARM's own message bounded to one line.
 */
import type { TokenCredential } from "@azure/identity";
import type { SettingsChange } from "../contract/credential-list";
import { oneLine } from "./cli";

/** The Microsoft.Web API version the stack's azure-native resources use (azure-native v3: 2025-05-01). */
export const WEB_API_VERSION = "2025-05-01";
/** The Microsoft.ManagedIdentity API version of azure-native v3's `UserAssignedIdentity` (2023-01-31). */
export const MANAGED_IDENTITY_API_VERSION = "2023-01-31";
/** The Microsoft.Authorization API version of the permissions list. */
export const AUTHORIZATION_API_VERSION = "2022-04-01";

/** The actions each write needs, as Azure RBAC names them (learn.microsoft.com/azure/role-based-access-control/
 * permissions/web-and-mobile, .../identity). */
export const SiteAction = {
  ReadSite: "Microsoft.Web/sites/read",
  ListSettings: "Microsoft.Web/sites/config/list/Action",
  WriteSettings: "Microsoft.Web/sites/config/Write",
  WriteSite: "Microsoft.Web/sites/Write",
  ReadIdentity: "Microsoft.ManagedIdentity/userAssignedIdentities/read",
  WriteIdentity: "Microsoft.ManagedIdentity/userAssignedIdentities/write",
  AssignIdentity: "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
} as const;

/** An ARM resource as read: only the parts this module looks at are typed. */
export interface ArmResource {
  readonly kind?: string;
  readonly location?: string;
  readonly identity?: { readonly type?: string; readonly userAssignedIdentities?: Record<string, unknown> };
  readonly properties?: Record<string, unknown> & {
    readonly serverFarmId?: string;
    readonly siteConfig?: { readonly linuxFxVersion?: string | null } | null;
  };
}

/** A failed ARM request: what was being done, ARM's status and error code. Never a setting value. */
export class ArmRequestError extends Error {
  constructor(
    readonly what: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`Azure Resource Manager refused to ${what}: ${status} ${code}${detail ? ` (${detail})` : ""}`);
    this.name = "ArmRequestError";
  }
}

export interface ArmOptions {
  /** The cloud's Resource Manager URL, e.g. `https://management.azure.com` (a local fake's loopback URL in tests). */
  readonly resourceManagerUrl: string;
  readonly credential: TokenCredential;
  /** Default: the global fetch. */
  readonly fetch?: typeof fetch;
}

/** The requests shared by the site and the identity: bearer token for `{resourceManagerUrl}/.default`, JSON. */
export class Arm {
  readonly origin: string;
  private readonly scope: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly opts: ArmOptions) {
    const url = new URL(opts.resourceManagerUrl);
    this.origin = url.origin;
    this.scope = `${url.origin}/.default`;
    this.fetchFn = opts.fetch ?? fetch;
  }

  /** A JSON request to `{origin}{path}?api-version=…`; undefined for 404 when `allowNotFound`. */
  async request<T = ArmResource>(
    method: "GET" | "POST" | "PUT" | "PATCH",
    path: string,
    apiVersion: string,
    what: string,
    body?: unknown,
    allowNotFound = false,
  ): Promise<T | undefined> {
    if (!path.startsWith("/") || path.includes("?") || path.includes("#") || path.includes("..")) {
      throw new Error(`not an ARM resource path: ${JSON.stringify(path.slice(0, 200))}`);
    }
    const token = await this.opts.credential.getToken(this.scope);
    if (!token?.token) throw new ArmRequestError(what, 401, "NoToken", `no token for ${this.scope}`);
    return azureJsonRequest<T>(
      this.fetchFn,
      `${this.origin}${path}?api-version=${apiVersion}`,
      { method, token: token.token, body, allowNotFound },
      (status, code, detail) => new ArmRequestError(what, status, code, detail),
    );
  }

  /**
   * The actions the caller may NOT perform on `scope` among `actions`, from the permissions list (`actions` /
   * `notActions` with `*` wildcards, case-insensitive, as Azure RBAC matches them).
   */
  async missingActions(scope: string, actions: readonly string[]): Promise<string[]> {
    const result = await this.request<{ value?: { actions?: string[]; notActions?: string[] }[] }>(
      "GET",
      `${scope}/providers/Microsoft.Authorization/permissions`,
      AUTHORIZATION_API_VERSION,
      `list your permissions on ${scope}`,
    );
    const permissions = result?.value ?? [];
    return actions.filter(
      (action) =>
        !permissions.some(
          (p) =>
            (p.actions ?? []).some((a) => actionMatches(a, action)) &&
            !(p.notActions ?? []).some((a) => actionMatches(a, action)),
        ),
    );
  }
}

/**
 * A JSON request with a bearer token to an Azure REST API whose errors are `{error: {code, message}}` (Resource
 * Manager, Microsoft Graph): the parsed body, `{}` for 204, undefined for a 404 when `allowNotFound`; any other
 * failure is thrown as `fail(status, code, message)` with the service's code and message made one bounded line.
 * Redirects are not followed (the token must not travel elsewhere); a minute bounds each request.
 */
export async function azureJsonRequest<T>(
  fetchFn: typeof fetch,
  url: string,
  init: { method: string; token: string; body?: unknown; allowNotFound?: boolean },
  fail: (status: number, code: string, detail: string) => Error,
): Promise<T | undefined> {
  const response = await fetchFn(url, {
    method: init.method,
    headers: {
      authorization: `Bearer ${init.token}`,
      ...(init.body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    redirect: "manual",
    signal: AbortSignal.timeout(60_000),
  });
  if (response.status === 404 && init.allowNotFound) return undefined;
  if (!response.ok) {
    const error = ((await response.json().catch(() => ({}))) as { error?: { code?: unknown; message?: unknown } })
      .error;
    throw fail(
      response.status,
      typeof error?.code === "string" ? oneLine(error.code, 80) : "NoErrorCode",
      typeof error?.message === "string" ? oneLine(error.message, 800) : "",
    );
  }
  if (response.status === 204) return {} as T;
  return (await response.json().catch(() => ({}))) as T;
}

// Azure RBAC's action match: case-insensitive, `*` matches any run of characters, and a middle `/*/` segment also
// matches no segment at all, as the built-in Managed Identity Operator role shows: its action
// `Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action` grants `…/userAssignedIdentities/assign/action`
// (learn.microsoft.com/azure/role-based-access-control/built-in-roles/identity#managed-identity-operator).
export function actionMatches(pattern: string, action: string): boolean {
  const literal = (part: string) => part.replace(/[.+?^${}()|[\]\\/]/g, "\\$&");
  const source = pattern
    .split("/*/")
    .map((piece) => piece.split("*").map(literal).join(".*"))
    .join("(?:/.*)?/");
  return new RegExp(`^${source}$`, "i").test(action);
}

/** `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}`, any case. */
const SITE_ID = new RegExp(
  String.raw`^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Web/sites/` +
    "[a-z0-9-]{2,60}$",
  "i",
);
/** `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`. */
const IDENTITY_ID = new RegExp(
  String.raw`^/subscriptions/[0-9a-f-]{36}/resourceGroups/[-\w._()]{1,90}/providers/` +
    String.raw`Microsoft\.ManagedIdentity/userAssignedIdentities/[-\w]{3,128}$`,
  "i",
);

export function isSiteId(value: string): boolean {
  return SITE_ID.test(value);
}

export function isUserAssignedIdentityId(value: string): boolean {
  return IDENTITY_ID.test(value);
}

export interface SiteDescription {
  readonly kind: string;
  readonly location: string;
  readonly linuxFxVersion?: string;
  readonly serverFarmId: string;
}

export interface SiteIdentity {
  /** `None`, `SystemAssigned`, `UserAssigned` or `SystemAssigned, UserAssigned`. */
  readonly type: string;
  /** The resource IDs of the user-assigned identities the site wears, as ARM spells them. */
  readonly userAssignedIdentityIds: string[];
}

/** The site (`Microsoft.Web/sites`), read and changed through ARM as the operator. */
export class ArmSite {
  readonly siteId: string;
  private readonly arm: Arm;

  constructor(opts: ArmOptions & { siteId: string }) {
    if (!isSiteId(opts.siteId)) {
      throw new Error(
        `not a web app resource ID: ${JSON.stringify(opts.siteId.slice(0, 300))}; expected ` +
          "/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Web/sites/<name>",
      );
    }
    this.siteId = opts.siteId;
    this.arm = new Arm(opts);
  }

  /** The site's app settings (values included: keep them in memory only). */
  async settings(): Promise<Record<string, string>> {
    const result = await this.arm.request<{ properties?: Record<string, unknown> }>(
      "POST",
      `${this.siteId}/config/appsettings/list`,
      WEB_API_VERSION,
      "list the site's app settings",
    );
    const settings: Record<string, string> = {};
    for (const [name, value] of Object.entries(result?.properties ?? {})) {
      if (typeof value === "string") settings[name] = value;
    }
    return settings;
  }

  /**
   * Reads the settings, applies `change` (only its names) and writes the whole collection back. No request when the
   * change changes nothing, so it is safe to re-run.
   */
  async applySettings(change: SettingsChange): Promise<void> {
    const current = await this.settings();
    const next = { ...current };
    for (const name of change.remove) delete next[name];
    Object.assign(next, change.set);
    const same =
      Object.keys(next).length === Object.keys(current).length &&
      Object.entries(next).every(([name, value]) => current[name] === value);
    if (same) return;
    await this.arm.request(
      "PUT",
      `${this.siteId}/config/appsettings`,
      WEB_API_VERSION,
      "write the site's app settings",
      {
        properties: next,
      },
    );
  }

  async identity(): Promise<SiteIdentity> {
    const site = await this.site();
    const identity = site.identity;
    return {
      type: typeof identity?.type === "string" ? identity.type : "None",
      userAssignedIdentityIds: Object.keys(identity?.userAssignedIdentities ?? {}),
    };
  }

  /** Puts the identity on the site next to the ones it wears (a system-assigned identity is kept). Idempotent. */
  async addUserAssignedIdentity(identityResourceId: string): Promise<void> {
    if (!isUserAssignedIdentityId(identityResourceId)) {
      throw new Error(`not a user-assigned identity resource ID: ${JSON.stringify(identityResourceId.slice(0, 300))}`);
    }
    const current = await this.identity();
    const worn = current.userAssignedIdentityIds;
    if (worn.some((id) => id.toLowerCase() === identityResourceId.toLowerCase())) return;
    const systemAssigned = /systemassigned/i.test(current.type);
    const userAssignedIdentities = Object.fromEntries([...worn, identityResourceId].map((id) => [id, {}]));
    await this.arm.request("PATCH", this.siteId, WEB_API_VERSION, "put the managed identity on the site", {
      identity: { type: systemAssigned ? "SystemAssigned, UserAssigned" : "UserAssigned", userAssignedIdentities },
    });
  }

  async describe(): Promise<SiteDescription> {
    const site = await this.site();
    const properties = site.properties ?? {};
    let linuxFxVersion = properties.siteConfig?.linuxFxVersion || undefined;
    if (!linuxFxVersion) {
      const web = await this.arm.request<{ properties?: { linuxFxVersion?: string } }>(
        "GET",
        `${this.siteId}/config/web`,
        WEB_API_VERSION,
        "read the site's configuration",
      );
      linuxFxVersion = web?.properties?.linuxFxVersion || undefined;
    }
    return {
      kind: String(site.kind ?? ""),
      location: String(site.location ?? ""),
      linuxFxVersion,
      serverFarmId: String(properties.serverFarmId ?? ""),
    };
  }

  /** Of `actions`, the ones the operator may not perform on the site (see {@link Arm.missingActions}). */
  missingActions(actions: readonly string[]): Promise<string[]> {
    return this.arm.missingActions(this.siteId, actions);
  }

  private async site(): Promise<ArmResource> {
    return (await this.arm.request("GET", this.siteId, WEB_API_VERSION, "read the site"))!;
  }
}

/** A user-assigned managed identity (`Microsoft.ManagedIdentity/userAssignedIdentities`) through ARM. */
export class ArmUserAssignedIdentity {
  private readonly arm: Arm;

  constructor(opts: ArmOptions & { identityId: string }) {
    if (!isUserAssignedIdentityId(opts.identityId)) {
      throw new Error(
        `not a user-assigned identity resource ID: ${JSON.stringify(opts.identityId.slice(0, 300))}; expected ` +
          "/subscriptions/<id>/resourceGroups/<group>/providers/" +
          "Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
      );
    }
    this.identityId = opts.identityId;
    this.arm = new Arm(opts);
  }

  readonly identityId: string;

  /** Its client and principal IDs, or undefined when it does not exist. */
  async get(): Promise<{ clientId: string; principalId: string; tenantId: string; location: string } | undefined> {
    const found = await this.arm.request(
      "GET",
      this.identityId,
      MANAGED_IDENTITY_API_VERSION,
      "read the managed identity",
      undefined,
      true,
    );
    return found && identityIds(found);
  }

  /** Creates it in `location` when missing (a PUT of an existing identity would also leave it as it is). */
  async ensure(
    location: string,
  ): Promise<{ clientId: string; principalId: string; tenantId: string; created: boolean }> {
    const found = await this.get();
    if (found) return { ...found, created: false };
    const made = await this.arm.request(
      "PUT",
      this.identityId,
      MANAGED_IDENTITY_API_VERSION,
      "create the managed identity",
      {
        location,
      },
    );
    return { ...identityIds(made ?? {}), created: true };
  }

  /** Of `actions`, the ones the operator may not perform on the identity's resource group (it may not exist yet). */
  missingActions(actions: readonly string[]): Promise<string[]> {
    const group = this.identityId.slice(0, this.identityId.toLowerCase().indexOf("/providers/"));
    return this.arm.missingActions(group, actions);
  }
}

function identityIds(resource: ArmResource) {
  const p = resource.properties ?? {};
  return {
    clientId: String(p.clientId ?? ""),
    principalId: String(p.principalId ?? ""),
    tenantId: String(p.tenantId ?? ""),
    location: String(resource.location ?? ""),
  };
}
