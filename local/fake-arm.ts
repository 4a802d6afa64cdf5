/**
 * A fake Azure Resource Manager on loopback: the few requests the migration command (migrate/) and the adopt checks
 * make about one Linux web app and its user-assigned identities, with the operator's bearer token checked and Azure
 * RBAC's answers. Plain http on 127.0.0.1, port 0. Shapes follow the REST references:
 *
 * - `GET {site}`: `Microsoft.Web/sites/read`.
 * - `PATCH {site}` with `identity` (learn.microsoft.com/rest/api/appservice/web-apps/update):
 *   `Microsoft.Web/sites/write`, and `…/userAssignedIdentities/assign/action` on each identity it adds.
 * - `GET {site}/config/web`: `Microsoft.Web/sites/config/read`.
 * - `POST {site}/config/appsettings/list` (…/web-apps/list-application-settings): `…/sites/config/list/action`.
 * - `PUT {site}/config/appsettings` (…/web-apps/update-application-settings), the whole collection:
 *   `Microsoft.Web/sites/config/write`.
 * - `GET`/`PUT {identity}` (learn.microsoft.com/rest/api/managedidentity/user-assigned-identities):
 *   `…/userAssignedIdentities/read` / `write`.
 * - `GET {scope}/providers/Microsoft.Authorization/permissions`: none, the caller's own permissions on the scope.
 *
 * The token must verify against the emulator (`verify`, e.g. `emu.verifyAccessToken`) for this server's URL as
 * audience; a missing or bad one is 401 `AuthenticationFailed`/`InvalidAuthenticationToken`. A missing action is 403
 * `AuthorizationFailed` (or `LinkedAuthorizationFailed` for the identity a PATCH links), with ARM's message naming
 * the client, the action and the scope. Roles are a subset of the built-in definitions
 * (learn.microsoft.com/azure/role-based-access-control/built-in-roles), assigned with {@link FakeArm.assign}.
 *
 * A settings write "restarts the app" as App Service does: `onSettingsChanged` runs before the PUT answers, so a test
 * can start the app again with the new settings.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { actionMatches } from "../deploy/arm-site";

/** The built-in roles the fake knows: `actions` / `notActions` as Azure defines them (the parts that matter here). */
export const BUILT_IN_ROLES = {
  Owner: { actions: ["*"], notActions: [] },
  Contributor: {
    actions: ["*"],
    notActions: [
      "Microsoft.Authorization/*/Delete",
      "Microsoft.Authorization/*/Write",
      "Microsoft.Authorization/elevateAccess/Action",
    ],
  },
  Reader: { actions: ["*/read"], notActions: [] },
  "Website Contributor": {
    actions: [
      "Microsoft.Authorization/*/read",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
      "Microsoft.Web/certificates/*",
      "Microsoft.Web/listSitesAssignedToHostName/read",
      "Microsoft.Web/serverFarms/join/action",
      "Microsoft.Web/serverFarms/read",
      "Microsoft.Web/sites/*",
    ],
    notActions: [],
  },
  "Managed Identity Operator": {
    actions: [
      "Microsoft.Authorization/*/read",
      "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
      "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
    ],
    notActions: [],
  },
  "Managed Identity Contributor": {
    actions: [
      "Microsoft.ManagedIdentity/userAssignedIdentities/read",
      "Microsoft.ManagedIdentity/userAssignedIdentities/write",
      "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
      "Microsoft.Authorization/*/read",
      "Microsoft.Resources/subscriptions/resourceGroups/read",
    ],
    notActions: [],
  },
} as const satisfies Record<string, { actions: readonly string[]; notActions: readonly string[] }>;
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

export interface FakeUserAssignedIdentity {
  readonly id: string;
  location: string;
  clientId: string;
  principalId: string;
  tenantId: string;
}

export interface FakeSite {
  readonly id: string;
  kind: string;
  location: string;
  linuxFxVersion: string;
  serverFarmId: string;
  /** The app settings (values included). */
  appSettings: Record<string, string>;
  /** `None`, `SystemAssigned`, `UserAssigned` or both; with the ids of the user-assigned identities it wears. */
  identity: { type: string; userAssignedIdentityIds: string[] };
}

export interface FakeArmOptions {
  /** Verifies a bearer token for an audience (throws when invalid): `emu.verifyAccessToken`. */
  verify(token: string, audience: string[]): Promise<Record<string, unknown>>;
  /** The tenant id reported on identities. */
  tenantId: string;
  /**
   * The client and principal ids a newly created identity gets. Default: random GUIDs. A local world maps the id
   * to the emulator's managed identity, so the identity the command creates is the one the emulator's MI endpoint
   * serves.
   */
  newIdentityIds?(id: string): { clientId: string; principalId: string };
  /** Runs after a settings write (App Service restarts the app with them), before the PUT answers. */
  onSettingsChanged?(site: FakeSite): Promise<void> | void;
}

/** One request as the fake saw it, for assertions: method, path and the action it needed. Never a body. */
export interface FakeArmRequest {
  readonly method: string;
  readonly path: string;
  readonly action?: string;
  readonly status: number;
}

export interface FakeArm {
  /** `http://127.0.0.1:<port>`: the resource manager URL, and the tokens' audience. */
  readonly url: string;
  readonly sites: Map<string, FakeSite>;
  readonly identities: Map<string, FakeUserAssignedIdentity>;
  readonly requests: FakeArmRequest[];
  addSite(site: Omit<FakeSite, "identity"> & { identity?: FakeSite["identity"] }): FakeSite;
  addIdentity(identity: Omit<FakeUserAssignedIdentity, "tenantId">): FakeUserAssignedIdentity;
  /** Assigns a built-in role to a principal (object id) at a scope (subscription, group or resource id). */
  assign(principalId: string, role: BuiltInRole, scope: string): void;
  /** Removes every assignment of a principal. */
  unassign(principalId: string): void;
  /** The principals with at least one assignment. */
  assignedPrincipals(): string[];
  site(id: string): FakeSite | undefined;
  close(): Promise<void>;
}

const WEB = "Microsoft.Web/sites";
const UAMI = "Microsoft.ManagedIdentity/userAssignedIdentities";

class ArmFailure {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

export async function startFakeArm(options: FakeArmOptions): Promise<FakeArm> {
  const sites = new Map<string, FakeSite>();
  const identities = new Map<string, FakeUserAssignedIdentity>();
  const assignments: { principalId: string; role: BuiltInRole; scope: string }[] = [];
  const requests: FakeArmRequest[] = [];
  let url = "";

  const rolesAt = (principalId: string, scope: string) =>
    assignments
      .filter((a) => a.principalId === principalId && isWithin(scope, a.scope))
      .map((a) => BUILT_IN_ROLES[a.role]);
  const may = (principalId: string, action: string, scope: string): boolean =>
    rolesAt(principalId, scope).some(
      (r) => r.actions.some((p) => actionMatches(p, action)) && !r.notActions.some((p) => actionMatches(p, action)),
    );

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const parsed = new URL(req.url ?? "/", url);
    const path = decodeURIComponent(parsed.pathname).replace(/\/$/, "");
    const method = req.method ?? "GET";
    const record = (status: number, action?: string) =>
      requests.push({ method, path, status, ...(action ? { action } : {}) });
    const send = (status: number, body?: unknown, action?: string) => {
      record(status, action);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID() });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    const sendFailure = (f: ArmFailure, action?: string) =>
      send(f.status, { error: { code: f.code, message: f.message } }, action);

    const token = /^Bearer ([\w.-]+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!token) {
      return sendFailure(
        new ArmFailure(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."),
      );
    }
    let claims: Record<string, unknown>;
    try {
      claims = await options.verify(token, [url, `${url}/`]);
    } catch {
      return sendFailure(
        new ArmFailure(
          401,
          "InvalidAuthenticationToken",
          "The access token is invalid, expired or for another audience.",
        ),
      );
    }
    const caller = String(claims.oid ?? "");
    if (!parsed.searchParams.get("api-version")) {
      return sendFailure(
        new ArmFailure(
          400,
          "MissingApiVersionParameter",
          "The api-version query parameter (?api-version=) is required for all requests.",
        ),
      );
    }
    const body = method === "PUT" || method === "PATCH" || method === "POST" ? await readJson(req) : undefined;
    if (body instanceof ArmFailure) return sendFailure(body);

    const authorize = (action: string, scope: string): ArmFailure | undefined =>
      may(caller, action, scope)
        ? undefined
        : new ArmFailure(
            403,
            "AuthorizationFailed",
            `The client '${caller}' with object id '${caller}' does not have authorization to perform action ` +
              `'${action}' over scope '${scope}' or the scope is invalid. If access was recently granted, please ` +
              "refresh your credentials.",
          );

    const permissions = /^(.*)\/providers\/Microsoft\.Authorization\/permissions$/i.exec(path);
    if (permissions && method === "GET") {
      const scope = permissions[1]!;
      return send(200, {
        value: rolesAt(caller, scope).map((r) => ({
          actions: [...r.actions],
          notActions: [...r.notActions],
          dataActions: [],
          notDataActions: [],
        })),
      });
    }

    const siteMatch = new RegExp(
      `^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${WEB}/[^/]+)(/.*)?$`,
      "i",
    ).exec(path);
    if (siteMatch) {
      const [, siteId, rest = ""] = siteMatch;
      const route = `${method} ${rest.toLowerCase()}`;
      const action = SITE_ACTIONS[route];
      if (!action)
        return sendFailure(new ArmFailure(404, "NotFound", `No route for ${method} ${rest || "/"} in this fake.`));
      const denied = authorize(action, siteId!);
      if (denied) return sendFailure(denied, action);
      const site = sites.get(siteId!.toLowerCase());
      if (!site) {
        return sendFailure(
          new ArmFailure(
            404,
            "ResourceNotFound",
            `The Resource '${WEB}/${siteId!.split("/").pop()}' under resource group was not found.`,
          ),
          action,
        );
      }
      switch (route) {
        case "GET ":
          return send(200, siteBody(site, identities), action);
        case "GET /config/web":
          return send(
            200,
            { id: `${site.id}/config/web`, name: "web", properties: { linuxFxVersion: site.linuxFxVersion } },
            action,
          );
        case "POST /config/appsettings/list":
          return send(200, settingsBody(site), action);
        case "PUT /config/appsettings": {
          const properties = (body as { properties?: unknown } | undefined)?.properties;
          if (typeof properties !== "object" || properties === null || Array.isArray(properties)) {
            return sendFailure(
              new ArmFailure(400, "BadRequest", 'The body must be {"properties": {name: value}}.'),
              action,
            );
          }
          const next: Record<string, string> = {};
          for (const [name, value] of Object.entries(properties)) {
            if (typeof value !== "string") {
              return sendFailure(new ArmFailure(400, "BadRequest", `Setting '${name}' must be a string.`), action);
            }
            next[name] = value;
          }
          site.appSettings = next;
          await options.onSettingsChanged?.(site);
          return send(200, settingsBody(site), action);
        }
        case "PATCH ": {
          const identity = (body as { identity?: { type?: unknown; userAssignedIdentities?: unknown } } | undefined)
            ?.identity;
          if (identity) {
            const failure = patchIdentity(site, identity, (id) => authorize(`${UAMI}/assign/action`, id), identities);
            if (failure) return sendFailure(failure, action);
          }
          return send(200, siteBody(site, identities), action);
        }
      }
    }

    const identityMatch = new RegExp(`^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/${UAMI}/[^/]+$`, "i").exec(
      path,
    );
    if (identityMatch && (method === "GET" || method === "PUT")) {
      const action = `${UAMI}/${method === "GET" ? "read" : "write"}`;
      const denied = authorize(action, path);
      if (denied) return sendFailure(denied, action);
      const found = identities.get(path.toLowerCase());
      if (method === "GET") {
        return found
          ? send(200, identityBody(found), action)
          : sendFailure(
              new ArmFailure(404, "ResourceNotFound", `The Resource '${UAMI}/${path.split("/").pop()}' was not found.`),
              action,
            );
      }
      const location = (body as { location?: unknown } | undefined)?.location;
      if (typeof location !== "string" || !location) {
        return sendFailure(
          new ArmFailure(400, "LocationRequired", "The location property is required for this definition."),
          action,
        );
      }
      if (found) return send(200, identityBody(found), action);
      const ids = options.newIdentityIds?.(path) ?? { clientId: randomUUID(), principalId: randomUUID() };
      const made = { id: path, location, tenantId: options.tenantId, ...ids };
      identities.set(path.toLowerCase(), made);
      return send(201, identityBody(made), action);
    }
    return sendFailure(new ArmFailure(404, "NotFound", `No route for ${method} ${path} in this fake.`));
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "InternalServerError", message: String(error) } }));
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    sites,
    identities,
    requests,
    addSite(site) {
      const full: FakeSite = { identity: { type: "None", userAssignedIdentityIds: [] }, ...site };
      sites.set(site.id.toLowerCase(), full);
      return full;
    },
    addIdentity(identity) {
      const full = { ...identity, tenantId: options.tenantId };
      identities.set(identity.id.toLowerCase(), full);
      return full;
    },
    assign(principalId, role, scope) {
      assignments.push({ principalId, role, scope });
    },
    unassign(principalId) {
      for (let i = assignments.length - 1; i >= 0; i--)
        if (assignments[i]!.principalId === principalId) assignments.splice(i, 1);
    },
    assignedPrincipals: () => [...new Set(assignments.map((a) => a.principalId))],
    site: (id) => sites.get(id.toLowerCase()),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const SITE_ACTIONS: Record<string, string> = {
  "GET ": `${WEB}/read`,
  "PATCH ": `${WEB}/write`,
  "GET /config/web": `${WEB}/config/read`,
  "POST /config/appsettings/list": `${WEB}/config/list/action`,
  "PUT /config/appsettings": `${WEB}/config/write`,
};

/** True when `scope` is `assigned` or below it (segment-wise, case-insensitive). */
function isWithin(scope: string, assigned: string): boolean {
  const s = scope.toLowerCase();
  const a = assigned.toLowerCase().replace(/\/$/, "");
  return s === a || s.startsWith(`${a}/`);
}

/** Merges a PATCH's identity into the site: listed identities added (each needs assign), `null` ones removed. */
function patchIdentity(
  site: FakeSite,
  identity: { type?: unknown; userAssignedIdentities?: unknown },
  authorizeAssign: (id: string) => ArmFailure | undefined,
  identities: Map<string, FakeUserAssignedIdentity>,
): ArmFailure | undefined {
  const type = typeof identity.type === "string" ? identity.type : site.identity.type;
  const listed = (identity.userAssignedIdentities ?? {}) as Record<string, unknown>;
  const ids = [...site.identity.userAssignedIdentityIds];
  for (const [id, value] of Object.entries(listed)) {
    const known = ids.findIndex((i) => i.toLowerCase() === id.toLowerCase());
    if (value === null) {
      if (known >= 0) ids.splice(known, 1);
      continue;
    }
    if (known >= 0) continue;
    if (!identities.has(id.toLowerCase())) {
      return new ArmFailure(400, "FailedIdentityOperation", `Identity '${id}' was not found.`);
    }
    const denied = authorizeAssign(id);
    if (denied) {
      return new ArmFailure(
        403,
        "LinkedAuthorizationFailed",
        denied.message
          .replace(
            "does not have authorization to perform action",
            "has permission to write the site; " + "however, it does not have permission to perform action(s)",
          )
          .replace("over scope", "on the linked scope(s)"),
      );
    }
    ids.push(id);
  }
  if (ids.length > 0 && !/userassigned/i.test(type)) {
    return new ArmFailure(
      400,
      "BadRequest",
      "The identity type must include UserAssigned when user-assigned identities are listed.",
    );
  }
  site.identity = {
    type: ids.length === 0 && /userassigned/i.test(type) ? "None" : type,
    userAssignedIdentityIds: ids,
  };
  return undefined;
}

function siteBody(site: FakeSite, identities: Map<string, FakeUserAssignedIdentity>): Record<string, unknown> {
  const name = site.id.split("/").pop()!;
  return {
    id: site.id,
    name,
    type: WEB,
    kind: site.kind,
    location: site.location,
    identity: {
      type: site.identity.type,
      ...(site.identity.userAssignedIdentityIds.length > 0
        ? {
            userAssignedIdentities: Object.fromEntries(
              site.identity.userAssignedIdentityIds.map((id) => {
                const found = identities.get(id.toLowerCase());
                return [id, { clientId: found?.clientId, principalId: found?.principalId }];
              }),
            ),
          }
        : {}),
    },
    properties: {
      state: "Running",
      defaultHostName: `${name}.azurewebsites.net`,
      serverFarmId: site.serverFarmId,
      siteConfig: { linuxFxVersion: site.linuxFxVersion },
    },
  };
}

function settingsBody(site: FakeSite): Record<string, unknown> {
  return {
    id: `${site.id}/config/appsettings`,
    name: "appsettings",
    type: `${WEB}/config`,
    properties: { ...site.appSettings },
  };
}

function identityBody(identity: FakeUserAssignedIdentity): Record<string, unknown> {
  return {
    id: identity.id,
    name: identity.id.split("/").pop(),
    type: UAMI,
    location: identity.location,
    properties: { clientId: identity.clientId, principalId: identity.principalId, tenantId: identity.tenantId },
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 1_048_576) return new ArmFailure(413, "RequestEntityTooLarge", "The request body is too large.");
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return new ArmFailure(
      400,
      "InvalidRequestContent",
      "The request content was invalid and could not be deserialized.",
    );
  }
}
