/**
 * The guardrails, as pure functions over plain resource descriptions. Nothing here imports `@pulumi/policy` or talks
 * to an engine, so the same rules back both the policy pack the Pulumi CLI runs (`policy/index.ts`, through
 * `policy/pack.ts`) and the offline check `npm run plan` runs over the mocks' planned resources (`policy/offline.ts`).
 *
 * Every message names the resource and says how to fix it. Rules match resource types by their Pulumi type token;
 * azure-native's versioned modules (`azure-native:web/v20240401:WebApp`) count as the default module.
 */
import { clouds } from "../contract/clouds";
import { AzureAdSetting, SIGNED_ASSERTION_FROM_MANAGED_IDENTITY, isGuid } from "../contract/settings";

/** One planned resource, the way a rule sees it. */
export interface PlannedResource {
  /** The Pulumi type token, e.g. `azure-native:web:WebApp`. */
  readonly type: string;
  /** The logical name. */
  readonly name: string;
  readonly urn?: string;
  /** Resource rules: the inputs. Stack rules: the outputs (resolved state). */
  readonly props: Record<string, any>;
  /** Stack rules: the inputs too, for what the provider does not echo back (Azure never returns app settings). */
  readonly inputs?: Record<string, any>;
  /** The provider ID, when known (offline runs know it). */
  readonly id?: string;
}

/** A policy over one resource: the messages of its violations, none when the resource complies. */
export interface ResourceRule {
  readonly kind: "resource";
  readonly name: string;
  readonly description: string;
  appliesTo(type: string): boolean;
  check(resource: PlannedResource): string[];
}

/** A violation a stack rule found, charged to one resource (or to the whole stack). */
export interface StackFinding {
  readonly message: string;
  readonly resource?: PlannedResource;
}

/** A policy over the whole stack, for what a single resource cannot tell. */
export interface StackRule {
  readonly kind: "stack";
  readonly name: string;
  readonly description: string;
  check(resources: readonly PlannedResource[]): StackFinding[];
}

export type Rule = ResourceRule | StackRule;

/** GitHub Actions' OIDC issuer: the only issuer besides Entra's that a FIC here may trust (CI identities). */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
/** Entra's limit of federated credentials on one app registration or one user-assigned identity. */
export const MAX_FICS_PER_PARENT = 20;
/** Token-exchange audiences of the supported clouds (contract/clouds.ts). */
export const KNOWN_AUDIENCES: readonly string[] = Object.values(clouds).map((c) => c.tokenExchangeAudience);
const KNOWN_INSTANCES: readonly string[] = Object.values(clouds).map((c) => c.instance);

// ---------------------------------------------------------------------------------------------------------------
// Type tokens

/** Splits a type token into package, module (without an API-version suffix) and resource name. */
function parseType(type: string): { pkg: string; module: string; resource: string } {
  const [pkg = "", module = "", resource = ""] = type.split(":");
  return { pkg, module: module.split("/")[0]!, resource };
}

/** An azure-native type in `module` named one of `names`. */
const arm =
  (module: string, ...names: string[]) =>
  (type: string): boolean => {
    const t = parseType(type);
    return t.pkg === "azure-native" && t.module === module && names.includes(t.resource);
  };

/** A type of any provider (azuread, msgraph, …) whose resource name is one of `names`. */
const named =
  (...names: string[]) =>
  (type: string): boolean =>
    names.includes(parseType(type).resource) && parseType(type).pkg !== "azure-native";

const isWebApp = arm("web", "WebApp", "WebAppSlot");
const isSettingsResource = arm("web", "WebAppApplicationSettings", "WebAppApplicationSettingsSlot");
const isConnectionStringsResource = arm("web", "WebAppConnectionStrings", "WebAppConnectionStringsSlot");
const isScmAllowed = arm("web", "WebAppScmAllowed", "WebAppScmAllowedSlot");
const isFtpAllowed = arm("web", "WebAppFtpAllowed", "WebAppFtpAllowedSlot");
const isUami = arm("managedidentity", "UserAssignedIdentity");
const isUamiFic = arm("managedidentity", "FederatedIdentityCredential");
const isAppFic = named("ApplicationFederatedIdentityCredential", "ApplicationFlexibleFederatedIdentityCredential");
const isFlexibleFic = named("ApplicationFlexibleFederatedIdentityCredential");
const isFic = (type: string) => isAppFic(type) || isUamiFic(type);
const isApp = named("Application", "ApplicationRegistration");
const isRedisCache = arm("redis", "Redis");
const isRedisEnterpriseDb = arm("redisenterprise", "Database");
const isRedisEnterprise = arm("redisenterprise", "RedisEnterprise");
const isCommand = (type: string) => ["command:local:Command", "command:remote:Command"].includes(type);

/** How a message names a resource: its type's short name and its logical name. */
function ref(r: PlannedResource): string {
  return `${parseType(r.type).resource || r.type} "${r.name}"`;
}

const show = (value: unknown): string => (value === undefined ? "unset" : JSON.stringify(value));

// ---------------------------------------------------------------------------------------------------------------
// Secret detection, shared by the app-settings, connection-strings and command rules

/** Words of a setting name: split on `__`, `_`, `-`, `.`, `:` and camelCase boundaries, lower-cased. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_\-.:]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Why a setting *name* looks like it holds a secret, or undefined. `secret`/`password`/`certificate` anywhere; `key`
 * and `token` only as the last word, so `ApiKey` and `GITHUB_TOKEN` are caught but `KeyVaultReferenceIdentity`,
 * `…__TokenExchangeUrl` and `…__ManagedIdentityClientId` are not.
 */
export function secretName(name: string): string | undefined {
  const w = words(name);
  const anywhere = w.find((x) => ["secret", "secrets", "password", "passwd", "pwd", "certificate", "cert", "pfx", "privatekey", "sas"].includes(x));
  if (anywhere) return `its name contains "${anywhere}"`;
  const last = w.at(-1);
  if (last && ["key", "keys", "apikey", "token", "accesstoken", "signature"].includes(last)) return `its name ends in "${last}"`;
  return undefined;
}

const SECRET_VALUES: readonly [RegExp, string][] = [
  [/(?:^|;)\s*AccountKey\s*=/i, "a storage account key (AccountKey=)"],
  [/(?:^|;)\s*SharedAccessKey\s*=/i, "a shared access key (SharedAccessKey=)"],
  [/SharedAccessSignature/i, "a shared access signature"],
  [/(?:^|;)\s*(?:Password|Pwd)\s*=/i, "a password (Password=)"],
  [/[?&]sig=/i, "a SAS token (sig=)"],
  [/-----BEGIN [A-Z ]*(?:PRIVATE KEY|CERTIFICATE)-----/, "a PEM key or certificate"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, "a JWT"],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a user name and password"],
];

/** Why a *value* looks like a secret, or undefined. */
export function secretValue(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return SECRET_VALUES.find(([pattern]) => pattern.test(value))?.[1];
}

// ---------------------------------------------------------------------------------------------------------------
// Reading resources

/** A web app's app settings as a map, from `siteConfig.appSettings` (`{name, value}[]`) or a settings resource's `properties`. */
function appSettingsOf(props: Record<string, any> | undefined): Record<string, unknown> | undefined {
  if (!props) return undefined;
  const list = props.siteConfig?.appSettings;
  if (Array.isArray(list)) return Object.fromEntries(list.map((s: { name: string; value: unknown }) => [s.name, s.value]));
  return undefined;
}

/** Settings as a stack rule sees them: the outputs', else the inputs' (App Service never returns app settings). */
function stackSettingsOf(r: PlannedResource): Record<string, unknown> | undefined {
  return appSettingsOf(r.props) ?? appSettingsOf(r.inputs);
}

/** A property from the outputs, else from the inputs. */
function field(r: PlannedResource, key: string): any {
  return r.props[key] ?? r.inputs?.[key];
}

/** A property from the inputs, else from the outputs: for what identifies a resource (names, resource group). */
function inputField(r: PlannedResource, key: string): any {
  return r.inputs?.[key] ?? r.props[key];
}

interface AttachedIdentity {
  readonly id: string;
  readonly clientId?: string;
  readonly principalId?: string;
}

/**
 * The user-assigned identities a web app wears. The output is a map `{ [armId]: { clientId, principalId } }`; the
 * input (and the offline plan) a list of ARM IDs, resolved against the stack's identities by ID or by name.
 */
function attachedIdentities(site: PlannedResource, resources: readonly PlannedResource[]): AttachedIdentity[] {
  const uai = site.props.identity?.userAssignedIdentities ?? site.inputs?.identity?.userAssignedIdentities;
  const entries: [string, any][] = Array.isArray(uai)
    ? uai.map((id: string) => [id, undefined])
    : uai && typeof uai === "object"
      ? Object.entries(uai)
      : [];
  return entries.map(([id, details]) => {
    if (details?.principalId) return { id, clientId: details.clientId, principalId: details.principalId };
    const lastSegment = id.split("/").at(-1)?.toLowerCase();
    const uami = resources.find(
      (r) => isUami(r.type) && (r.id?.toLowerCase() === id.toLowerCase() || String(r.props.name).toLowerCase() === lastSegment),
    );
    return { id, clientId: uami?.props.clientId, principalId: uami?.props.principalId };
  });
}

/** The stack's app registration whose client ID a web app signs in as, if it is in this stack. */
function appOf(site: PlannedResource, resources: readonly PlannedResource[]): PlannedResource | undefined {
  const clientId = stackSettingsOf(site)?.[AzureAdSetting.ClientId];
  return clientId === undefined ? undefined : resources.find((r) => isApp(r.type) && r.props.clientId === clientId);
}

/** The federated credentials of an app registration (`applicationId` is `/applications/{objectId}`). */
function ficsOf(app: PlannedResource, resources: readonly PlannedResource[]): PlannedResource[] {
  const ids = [app.id, app.props.objectId && `/applications/${app.props.objectId}`].filter(Boolean);
  return resources.filter((r) => isAppFic(r.type) && ids.includes(field(r, "applicationId")));
}

// ---------------------------------------------------------------------------------------------------------------
// Rule builders

function resourceRule(
  name: string,
  description: string,
  appliesTo: (type: string) => boolean,
  check: (r: PlannedResource) => (string | undefined)[],
): ResourceRule {
  return { kind: "resource", name, description, appliesTo, check: (r) => (appliesTo(r.type) ? check(r).filter((m): m is string => !!m) : []) };
}

function stackRule(name: string, description: string, check: (resources: readonly PlannedResource[]) => StackFinding[]): StackRule {
  return { kind: "stack", name, description, check };
}

/** Web apps in the stack that sign in through an app registration of the same stack, with that app's FICs. */
function signInWebApps(resources: readonly PlannedResource[]) {
  return resources
    .filter((r) => isWebApp(r.type))
    .flatMap((site) => {
      const app = appOf(site, resources);
      if (!app) return [];
      return [{ site, app, fics: ficsOf(app, resources), identities: attachedIdentities(site, resources), settings: stackSettingsOf(site) ?? {} }];
    });
}

const CREDENTIAL_TYPES = [
  "ApplicationPassword",
  "ServicePrincipalPassword",
  "ApplicationCertificate",
  "ServicePrincipalCertificate",
  "ServicePrincipalTokenSigningCertificate",
  "SynchronizationSecret",
];
const CREDENTIAL_INPUTS = ["password", "passwords", "passwordCredentials", "keyCredentials"];
const FIX_SECRETLESS =
  "The app proves itself with its managed identity's token through a federated identity credential; it needs no secret.";

function issuerCloud(issuer: unknown): string | undefined {
  if (typeof issuer !== "string") return undefined;
  for (const [cloud, { instance }] of Object.entries(clouds)) {
    const m = issuer.startsWith(instance) ? /^([^/]+)\/v2\.0$/.exec(issuer.slice(instance.length)) : null;
    if (m && isGuid(m[1]!)) return cloud;
  }
  return undefined;
}

const GITHUB_SUBJECT = /^repo:[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+:(?:ref:refs\/(?:heads|tags)\/[^\s*]+|environment:[^\s*]+|pull_request)$/;
const TLS_OK = ["1.2", "1.3"];
const STORAGE_TLS_OK = ["TLS1_2", "TLS1_3"];
const PRINCIPAL_TYPES = ["ServicePrincipal", "User", "Group", "ForeignGroup", "Device"];
const RG_SCOPE = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+(?:\/.*)?$/i;

/** `AzureAd__ClientCredentials__{n}__{Field}` settings, grouped by `n`. */
function clientCredentials(settings: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const groups = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(settings)) {
    const m = /^AzureAd__ClientCredentials__(\d+)__(\w+)$/.exec(key);
    if (m) groups.set(m[1]!, { ...groups.get(m[1]!), [m[2]!]: value });
  }
  return groups;
}

/** The secret-looking entries of a name → value map, as messages. */
function secretEntries(r: PlannedResource, what: string, entries: [string, unknown][]): string[] {
  return entries.flatMap(([name, value]) => {
    const byName = secretName(name);
    const byValue = secretValue(value);
    const why = [byName, byValue && `its value looks like ${byValue}`].filter(Boolean).join(" and ");
    return why
      ? [`${ref(r)} has ${what} "${name}" that looks like a secret: ${why}. Fix: remove it; authenticate with the web app's user-assigned managed identity (Entra ID tokens) instead of a key, password or connection-string secret.`]
      : [];
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The rules

export const rules: readonly Rule[] = [
  resourceRule(
    "no-app-credential-resources",
    "App registrations and service principals get no client secret, password or certificate resource.",
    named(...CREDENTIAL_TYPES),
    (r) => [
      `${ref(r)} gives an app registration or service principal a secret or certificate credential. Fix: delete it. ${FIX_SECRETLESS}`,
    ],
  ),
  resourceRule(
    "no-app-credential-inputs",
    "App registrations and service principals declare no password or key credential inline.",
    named("Application", "ApplicationRegistration", "ServicePrincipal"),
    (r) =>
      CREDENTIAL_INPUTS.filter((k) => {
        const v = r.props[k];
        return v !== undefined && v !== null && !(Array.isArray(v) && v.length === 0);
      }).map((k) => `${ref(r)} sets "${k}", a secret or certificate credential. Fix: remove "${k}". ${FIX_SECRETLESS}`),
  ),
  resourceRule(
    "fic-issuer",
    "A federated identity credential trusts Entra's v2.0 issuer of a known cloud, or GitHub Actions for CI identities.",
    isFic,
    (r) => {
      const issuer = r.props.issuer;
      if (issuer === GITHUB_ISSUER || issuerCloud(issuer)) return [];
      return [
        `${ref(r)} trusts issuer ${show(issuer)}. Fix: for a managed identity use "{instance}{tenant GUID}/v2.0" with instance one of ${KNOWN_INSTANCES.join(", ")}; for a GitHub Actions identity use "${GITHUB_ISSUER}".`,
      ];
    },
  ),
  resourceRule(
    "fic-audience",
    "A federated identity credential accepts exactly one audience: its cloud's token-exchange audience.",
    isFic,
    (r) => {
      const audiences = r.props.audiences;
      const cloud = issuerCloud(r.props.issuer) as keyof typeof clouds | undefined;
      const expected = cloud ? [clouds[cloud].tokenExchangeAudience] : KNOWN_AUDIENCES;
      if (!Array.isArray(audiences) || audiences.length !== 1) {
        return [`${ref(r)} has audiences ${show(audiences)}; it must have exactly one. Fix: set audiences to ["${expected[0]}"].`];
      }
      if (!expected.includes(audiences[0])) {
        return [
          `${ref(r)} accepts audience ${show(audiences[0])}, not ${cloud ? `the ${cloud} cloud's token-exchange audience` : "a known token-exchange audience"}. Fix: set audiences to [${expected.map((a) => `"${a}"`).join(" or ")}].`,
        ];
      }
      return [];
    },
  ),
  resourceRule(
    "fic-subject",
    "A federated identity credential's subject has the issuer's shape: a managed identity's principal ID (GUID), or repo:OWNER/REPO:… for GitHub.",
    (type) => isFic(type) && !isFlexibleFic(type),
    (r) => {
      const subject = r.props.subject;
      if (r.props.issuer === GITHUB_ISSUER) {
        return typeof subject === "string" && GITHUB_SUBJECT.test(subject)
          ? []
          : [`${ref(r)} trusts GitHub subject ${show(subject)}. Fix: use "repo:OWNER/REPO:environment:NAME", "repo:OWNER/REPO:ref:refs/heads/BRANCH", "repo:OWNER/REPO:ref:refs/tags/TAG" or "repo:OWNER/REPO:pull_request" (no wildcards).`];
      }
      if (!issuerCloud(r.props.issuer)) return []; // fic-issuer reports it
      return typeof subject === "string" && isGuid(subject)
        ? []
        : [`${ref(r)} trusts subject ${show(subject)}, which is not a GUID. Fix: set subject to the managed identity's principal ID (its object ID, not its client ID).`];
    },
  ),
  resourceRule("webapp-https-only", "A web app serves HTTPS only.", isWebApp, (r) => [
    r.props.httpsOnly !== true ? `${ref(r)} has httpsOnly ${show(r.props.httpsOnly)}. Fix: set httpsOnly: true.` : undefined,
  ]),
  resourceRule("webapp-min-tls", "A web app and its SCM site accept TLS 1.2 or later only.", isWebApp, (r) =>
    (["minTlsVersion", "scmMinTlsVersion"] as const).map((k) => {
      const v = r.props.siteConfig?.[k];
      return TLS_OK.includes(v) ? undefined : `${ref(r)} has siteConfig.${k} ${show(v)}. Fix: set siteConfig.${k}: "1.2" (or "1.3").`;
    }),
  ),
  resourceRule("webapp-ftps-disabled", "A web app has FTP and FTPS turned off.", isWebApp, (r) => {
    const v = r.props.siteConfig?.ftpsState;
    return [v !== "Disabled" ? `${ref(r)} has siteConfig.ftpsState ${show(v)}. Fix: set siteConfig.ftpsState: "Disabled"; deploy with Entra ID tokens, not FTP.` : undefined];
  }),
  resourceRule("webapp-remote-debugging-off", "A web app has remote debugging turned off.", isWebApp, (r) => [
    r.props.siteConfig?.remoteDebuggingEnabled === true
      ? `${ref(r)} has siteConfig.remoteDebuggingEnabled true. Fix: set siteConfig.remoteDebuggingEnabled: false.`
      : undefined,
  ]),
  resourceRule("webapp-user-assigned-identity", "A web app wears a user-assigned managed identity.", isWebApp, (r) => {
    const identity = r.props.identity;
    const ids = identity?.userAssignedIdentities;
    const count = Array.isArray(ids) ? ids.length : ids && typeof ids === "object" ? Object.keys(ids).length : 0;
    return [
      !String(identity?.type ?? "").includes("UserAssigned") || count === 0
        ? `${ref(r)} wears no user-assigned managed identity (identity ${show(identity)}). Fix: set identity: { type: "UserAssigned", userAssignedIdentities: [<identity's resource ID>] }; only a user-assigned identity can be trusted by a federated credential.`
        : undefined,
    ];
  }),
  resourceRule(
    "webapp-client-credentials",
    "A signing-in web app's AzureAd__ClientCredentials__* settings use the managed identity: SourceType SignedAssertionFromManagedIdentity, a ManagedIdentityClientId, a known TokenExchangeUrl.",
    isWebApp,
    (r) => {
      const settings = appSettingsOf(r.props) ?? {};
      const groups = clientCredentials(settings);
      if (groups.size === 0) {
        return [
          settings[AzureAdSetting.ClientId] !== undefined
            ? `${ref(r)} signs in as ${AzureAdSetting.ClientId} but has no client credential settings. Fix: set ${AzureAdSetting.SourceType}=${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}, ${AzureAdSetting.ManagedIdentityClientId} and ${AzureAdSetting.TokenExchangeUrl}.`
            : undefined,
        ];
      }
      return [...groups].flatMap(([n, c]) => {
        const key = (f: string) => `AzureAd__ClientCredentials__${n}__${f}`;
        return [
          c.SourceType !== SIGNED_ASSERTION_FROM_MANAGED_IDENTITY
            ? `${ref(r)} has ${key("SourceType")} ${show(c.SourceType)}. Fix: set it to "${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}"; no other credential source is secretless.`
            : undefined,
          typeof c.ManagedIdentityClientId !== "string" || !isGuid(c.ManagedIdentityClientId)
            ? `${ref(r)} has ${key("ManagedIdentityClientId")} ${show(c.ManagedIdentityClientId)}. Fix: set it to the client ID (a GUID) of the user-assigned identity the web app wears.`
            : undefined,
          !KNOWN_AUDIENCES.includes(c.TokenExchangeUrl as string)
            ? `${ref(r)} has ${key("TokenExchangeUrl")} ${show(c.TokenExchangeUrl)}. Fix: set it to the FIC's audience, one of ${KNOWN_AUDIENCES.join(", ")}.`
            : undefined,
        ];
      });
    },
  ),
  resourceRule(
    "no-secret-settings",
    "No app setting or connection string whose name or value looks like a secret, on a web app or a settings resource.",
    (type) => isWebApp(type) || isSettingsResource(type) || isConnectionStringsResource(type),
    (r) => {
      if (isSettingsResource(r.type)) return secretEntries(r, "app setting", Object.entries(r.props.properties ?? {}));
      if (isConnectionStringsResource(r.type)) {
        const properties: Record<string, { value?: unknown }> = r.props.properties ?? {};
        return secretEntries(r, "connection string", Object.entries(properties).map(([name, c]) => [name, c?.value]));
      }
      const connectionStrings: { name: string; connectionString?: unknown }[] = r.props.siteConfig?.connectionStrings ?? [];
      return [
        ...secretEntries(r, "app setting", Object.entries(appSettingsOf(r.props) ?? {})),
        ...secretEntries(r, "connection string", connectionStrings.map((c) => [c.name, c.connectionString])),
      ];
    },
  ),
  resourceRule("no-secret-command-inputs", "A command resource's scripts and environment carry no secret.", isCommand, (r) => [
    ...(["create", "update", "delete"] as const).map((k) => {
      const why = secretValue(r.props[k]);
      return why ? `${ref(r)} has a "${k}" command that contains ${why}. Fix: let the script sign in with a workload identity (az login --federated-token / managed identity) instead.` : undefined;
    }),
    ...secretEntries(r, "environment variable", Object.entries(r.props.environment ?? {})),
  ]),
  resourceRule(
    "storage-account-hardened",
    "A storage account allows no shared-key access and no public blob access, and requires TLS 1.2 or later.",
    arm("storage", "StorageAccount"),
    (r) => [
      r.props.allowSharedKeyAccess !== false
        ? `${ref(r)} has allowSharedKeyAccess ${show(r.props.allowSharedKeyAccess)} (account keys and SAS work). Fix: set allowSharedKeyAccess: false and use Entra ID (RBAC) data access.`
        : undefined,
      r.props.allowBlobPublicAccess !== false
        ? `${ref(r)} has allowBlobPublicAccess ${show(r.props.allowBlobPublicAccess)}. Fix: set allowBlobPublicAccess: false.`
        : undefined,
      !STORAGE_TLS_OK.includes(r.props.minimumTlsVersion)
        ? `${ref(r)} has minimumTlsVersion ${show(r.props.minimumTlsVersion)}. Fix: set minimumTlsVersion: "TLS1_2".`
        : undefined,
    ],
  ),
  resourceRule(
    "role-assignment-scope",
    "A role assignment is scoped to a resource group or narrower, never a subscription or management group.",
    arm("authorization", "RoleAssignment"),
    (r) => [
      typeof r.props.scope !== "string" || !RG_SCOPE.test(r.props.scope)
        ? `${ref(r)} has scope ${show(r.props.scope)}, wider than a resource group. Fix: scope it to the resource group (/subscriptions/{id}/resourceGroups/{name}) or to the one resource it needs.`
        : undefined,
    ],
  ),
  resourceRule(
    "role-assignment-principal-type",
    "A role assignment names its principal's type, so a brand-new identity is not rejected while it replicates.",
    arm("authorization", "RoleAssignment"),
    (r) => [
      !PRINCIPAL_TYPES.includes(r.props.principalType)
        ? `${ref(r)} has principalType ${show(r.props.principalType)}. Fix: set principalType, e.g. "ServicePrincipal" for a managed identity (one of ${PRINCIPAL_TYPES.join(", ")}).`
        : undefined,
    ],
  ),

  stackRule("webapp-basic-auth-off", "Every web app has SCM and FTP basic-auth publishing turned off (allow: false).", (resources) =>
    resources
      .filter((r) => isWebApp(r.type))
      .flatMap((site) => {
        // Identify by inputs: a publishing policy's `name` output is "scm"/"ftp", its input the site's name.
        const key = (r: PlannedResource) =>
          [inputField(r, "resourceGroupName"), inputField(r, "name"), r.type.endsWith("Slot") ? inputField(r, "slot") : ""].join("/");
        return (
          [
            ["SCM", isScmAllowed, "WebAppScmAllowed"],
            ["FTP", isFtpAllowed, "WebAppFtpAllowed"],
          ] as const
        ).flatMap(([kind, is, cls]) => {
          const policies = resources.filter((p) => is(p.type) && key(p) === key(site));
          if (policies.length === 0) {
            return [{ resource: site, message: `${ref(site)} leaves ${kind} basic-auth publishing on: no ${cls} resource turns it off. Fix: add web.${cls} { resourceGroupName, name: <site name>, allow: false }.` }];
          }
          return policies
            .filter((p) => field(p, "allow") !== false)
            .map((p) => ({ resource: p, message: `${ref(p)} sets allow ${show(field(p, "allow"))} for ${ref(site)}: ${kind} basic-auth publishing credentials work. Fix: set allow: false.` }));
        });
      }),
  ),
  stackRule("fic-count", `At most ${MAX_FICS_PER_PARENT} federated identity credentials per app registration or user-assigned identity.`, (resources) => {
    const byParent = new Map<string, PlannedResource[]>();
    for (const r of resources.filter((x) => isFic(x.type))) {
      const parent = isAppFic(r.type) ? `app registration ${field(r, "applicationId")}` : `identity ${field(r, "resourceGroupName")}/${field(r, "resourceName")}`;
      byParent.set(parent, [...(byParent.get(parent) ?? []), r]);
    }
    return [...byParent]
      .filter(([, fics]) => fics.length > MAX_FICS_PER_PARENT)
      .map(([parent, fics]) => ({
        resource: fics[MAX_FICS_PER_PARENT],
        message: `${parent} has ${fics.length} federated identity credentials; Entra allows ${MAX_FICS_PER_PARENT}. Fix: remove ${fics.length - MAX_FICS_PER_PARENT}, or split them across identities.`,
      }));
  }),
  stackRule(
    "fic-trusts-webapp-identity",
    "The FICs of a web app's app registration trust the principal ID of an identity the web app wears, and nothing else.",
    (resources) =>
      signInWebApps(resources).flatMap(({ site, app, fics, identities }) => {
        if (fics.length === 0) {
          return [{ resource: app, message: `${ref(app)}, which ${ref(site)} signs in as, has no federated identity credential, so sign-in fails (AADSTS70021). Fix: add one whose subject is the principal ID of the identity the web app wears.` }];
        }
        const principals = identities.map((i) => i.principalId);
        return fics
          .filter((f) => !principals.includes(field(f, "subject")))
          .map((f) => {
            const subject = field(f, "subject");
            const hint = identities.some((i) => i.clientId === subject) ? " That is the identity's client ID; a FIC's subject is its principal (object) ID." : "";
            return {
              resource: f,
              message: `${ref(f)} on ${ref(app)} trusts subject ${show(subject)}, which is not the principal ID of an identity ${ref(site)} wears (${principals.map(show).join(", ") || "none"}).${hint} Fix: set subject to the principal ID of the web app's user-assigned identity.`,
            };
          });
      }),
  ),
  resourceRule(
    "redis-no-access-keys",
    "A Redis cache takes Microsoft Entra tokens only: access-key authentication is off.",
    (type) => isRedisCache(type) || isRedisEnterpriseDb(type),
    (r) => {
      if (isRedisEnterpriseDb(r.type)) {
        return r.props.accessKeysAuthentication === "Disabled"
          ? []
          : [`${ref(r)} has accessKeysAuthentication ${show(r.props.accessKeysAuthentication)}; access keys are shared secrets (and on by default). Fix: set accessKeysAuthentication: "Disabled" and give the app's managed identity an AccessPolicyAssignment.`];
      }
      const problems: string[] = [];
      if (r.props.disableAccessKeyAuthentication !== true) {
        problems.push(`${ref(r)} has disableAccessKeyAuthentication ${show(r.props.disableAccessKeyAuthentication)}; access keys are shared secrets. Fix: set disableAccessKeyAuthentication: true.`);
      }
      if (r.props.redisConfiguration?.aadEnabled !== "true") {
        problems.push(`${ref(r)} has redisConfiguration.aadEnabled ${show(r.props.redisConfiguration?.aadEnabled)}; without Entra authentication nothing can sign in once keys are off. Fix: set redisConfiguration: { aadEnabled: "true" } and add an AccessPolicyAssignment for the app's identity.`);
      }
      return problems;
    },
  ),
  resourceRule(
    "redis-tls-only",
    "A Redis cache is reached over TLS 1.2 or later only.",
    (type) => isRedisCache(type) || isRedisEnterpriseDb(type) || isRedisEnterprise(type),
    (r) => {
      if (isRedisEnterpriseDb(r.type)) {
        return r.props.clientProtocol === undefined || r.props.clientProtocol === "Encrypted"
          ? []
          : [`${ref(r)} has clientProtocol ${show(r.props.clientProtocol)}: tokens would cross the network in clear. Fix: set clientProtocol: "Encrypted".`];
      }
      const problems: string[] = [];
      if (!TLS_OK.includes(r.props.minimumTlsVersion)) {
        problems.push(`${ref(r)} has minimumTlsVersion ${show(r.props.minimumTlsVersion)}. Fix: set minimumTlsVersion: "1.2".`);
      }
      if (isRedisCache(r.type) && r.props.enableNonSslPort === true) {
        problems.push(`${ref(r)} has enableNonSslPort true: tokens would cross the network in clear. Fix: set enableNonSslPort: false.`);
      }
      return problems;
    },
  ),
  stackRule(
    "webapp-identity-matches-fic",
    "A web app's ManagedIdentityClientId is the client ID of the identity its app registration's FIC trusts.",
    (resources) =>
      signInWebApps(resources).flatMap(({ site, fics, identities, settings }) => {
        const trusted = identities.filter((i) => fics.some((f) => field(f, "subject") === i.principalId));
        const clientId = settings[AzureAdSetting.ManagedIdentityClientId];
        if (trusted.length === 0 || trusted.some((i) => i.clientId === clientId)) return [];
        const hint = trusted.some((i) => i.principalId === clientId) ? " That is the identity's principal ID; the setting takes its client ID." : "";
        return [{ resource: site, message: `${ref(site)} has ${AzureAdSetting.ManagedIdentityClientId} ${show(clientId)}, but the identity its FIC trusts has client ID ${trusted.map((i) => show(i.clientId)).join(" or ")}.${hint} Fix: set ${AzureAdSetting.ManagedIdentityClientId} to ${show(trusted[0]!.clientId)}.` }];
      }),
  ),
  stackRule("webapp-token-exchange-matches-fic", "A web app's TokenExchangeUrl is the audience of the FIC that trusts its identity.", (resources) =>
    signInWebApps(resources).flatMap(({ site, fics, identities, settings }) => {
      const principals = identities.map((i) => i.principalId);
      const trusting = fics.filter((f) => principals.includes(field(f, "subject")));
      const audiences = [...new Set((trusting.length ? trusting : fics).flatMap((f) => field(f, "audiences") ?? []))];
      const url = settings[AzureAdSetting.TokenExchangeUrl];
      if (audiences.length === 0 || audiences.includes(url)) return [];
      return [{ resource: site, message: `${ref(site)} has ${AzureAdSetting.TokenExchangeUrl} ${show(url)}, but its FIC accepts ${audiences.map(show).join(", ")}: token exchange would fail (AADSTS700212). Fix: set ${AzureAdSetting.TokenExchangeUrl} to ${show(audiences[0])}.` }];
    }),
  ),
];

/** One violation, as the CLI reports it: the policy, the resource it is charged to, and the message. */
export interface Violation {
  readonly policy: string;
  readonly description: string;
  readonly message: string;
  readonly resource?: { readonly type: string; readonly name: string; readonly urn?: string };
}

/**
 * Runs every rule: resource rules over each resource's inputs (`inputs`, else `props`), stack rules over the outputs
 * (`props`) with the inputs beside them. Violations come in rule order, then resource order.
 */
export function evaluate(resources: readonly PlannedResource[]): Violation[] {
  const at = (r: PlannedResource | undefined) => (r ? { type: r.type, name: r.name, ...(r.urn ? { urn: r.urn } : {}) } : undefined);
  return rules.flatMap((rule): Violation[] => {
    const found: { message: string; resource?: PlannedResource }[] =
      rule.kind === "resource"
        ? resources.flatMap((r) => rule.check({ ...r, props: r.inputs ?? r.props }).map((message) => ({ message, resource: r })))
        : rule.check(resources);
    return found.map((f) => ({ policy: rule.name, description: rule.description, message: f.message, resource: at(f.resource) }));
  });
}
