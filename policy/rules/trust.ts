/**
 * Who may act as what: federated credentials wherever they are, role assignments per principal, redirect URIs, the
 * providers' own settings, and private data stores. These need the whole stack (which identity a web app wears, which
 * groups the stack owns), so most are stack rules; their inputs come from the stack's own resources and, for the
 * GitHub repository CI identities may trust, from the pack's config (see RuleContext).
 */
import { ADOPT_SCRIPTS, ADOPT_UNDO_FLAG, adoptedRegistration, adoptedSiteHosts, wornOnAdoptedSite } from "./adopt";
import { clouds } from "../../contract/clouds";
import { ACR_PULL_ROLE_ID } from "../../contract/container-apps";
import { MONITORING_METRICS_PUBLISHER_ROLE_ID } from "../../contract/telemetry";
import { appPathProblem } from "../../contract/rules";
import {
  type PlannedResource,
  type ResourceRule,
  type RuleContext,
  type StackFinding,
  type StackRule,
  resourceRule,
  stackRule,
} from "./model";
import {
  GITHUB_ISSUER,
  GITHUB_REPOSITORY,
  GITHUB_SUBJECT,
  arm,
  attachedIdentities,
  field,
  inputField,
  isApp,
  isAppFic,
  isAppHost,
  isContainerApp,
  isArmIdOf,
  isWebApp,
  isUami,
  isUamiFic,
  named,
  ref,
  show,
} from "./shared";

const lower = (v: unknown) => String(v ?? "").toLowerCase();
const lastSegment = (id: unknown) =>
  lower(
    String(id ?? "")
      .split("/")
      .at(-1),
  );

/** A user-assigned identity of this stack, with what the rules need to know about it. */
interface StackIdentity {
  readonly resource: PlannedResource;
  readonly name: string;
  readonly resourceGroup: string;
  readonly principalId?: string;
  readonly tenantId?: string;
  /** A web app of this stack wears it: it is the app's credential. */
  readonly worn: boolean;
  /** Its federated credentials (azure-native managedidentity FICs whose parent it is). */
  readonly fics: PlannedResource[];
}

/** Whether a managed-identity FIC's parent is the identity `name` in `resourceGroup` (both lower-cased). */
const sameParent = (fic: PlannedResource, name: string, resourceGroup: string) =>
  lower(inputField(fic, "resourceName")) === name && lower(inputField(fic, "resourceGroupName")) === resourceGroup;

/** Whether a web app wears identity `r` (by principal ID, ARM ID or name). */
function wears(w: { id: string; principalId?: string }, r: PlannedResource, pid: string | undefined, name: string) {
  if (pid !== undefined && w.principalId === pid) return true;
  return (r.id !== undefined && lower(w.id) === lower(r.id)) || lastSegment(w.id) === name;
}

function stackIdentities(resources: readonly PlannedResource[]): StackIdentity[] {
  const sites = resources.filter((r) => isAppHost(r.type));
  const worn = sites.flatMap((s) => attachedIdentities(s, resources));
  const uamiFics = resources.filter((r) => isUamiFic(r.type));
  return resources
    .filter((r) => isUami(r.type))
    .map((r) => {
      const name = lower(field(r, "name") ?? inputField(r, "resourceName"));
      const resourceGroup = lower(inputField(r, "resourceGroupName"));
      const principalId = field(r, "principalId");
      return {
        resource: r,
        name,
        resourceGroup,
        principalId,
        tenantId: field(r, "tenantId"),
        worn: worn.some((w) => wears(w, r, principalId, name)) || wornOnAdoptedSite(r, resources),
        fics: uamiFics.filter((f) => sameParent(f, name, resourceGroup)),
      };
    });
}

/** The tenant GUID and cloud of an Entra v2.0 issuer, or undefined. */
function entraIssuer(issuer: unknown): { tenant: string; cloud: string } | undefined {
  if (typeof issuer !== "string") return undefined;
  for (const [cloud, { instance }] of Object.entries(clouds)) {
    const m = issuer.startsWith(instance) ? /^([0-9a-fA-F-]{36})\/v2\.0$/.exec(issuer.slice(instance.length)) : null;
    if (m) return { tenant: m[1]!.toLowerCase(), cloud };
  }
  return undefined;
}

const CONFIG_HINT =
  "Fix: tell the pack the repository: `pulumi preview --policy-pack policy --policy-pack-config policy-config.json` " +
  'with {"fic-trust-allowed": {"repository": "OWNER/REPO"}} (or OWNER@OWNER_ID/REPO@REPO_ID); `npm run ' +
  "plan:bootstrap` passes the bootstrap stack's `repository` key.";

/** Findings for a CI identity's GitHub credential against the configured repository. */
function checkCiSubject(fic: PlannedResource, identity: StackIdentity, context: RuleContext): StackFinding[] {
  const subject = field(fic, "subject");
  const issuer = field(fic, "issuer");
  if (issuer !== GITHUB_ISSUER) {
    return [
      {
        resource: fic,
        message:
          `${ref(fic)} on identity "${identity.name}" trusts issuer ${show(issuer)}; a ` +
          `CI identity trusts GitHub Actions only. Fix: set issuer to "${GITHUB_ISSUER}", or delete it (a managed ` +
          `identity of another tenant or system must not act as this one).`,
      },
    ];
  }
  const m = typeof subject === "string" ? GITHUB_SUBJECT.exec(subject) : null;
  if (!m) return []; // fic-subject reports the shape
  if (!context.repository) {
    return [
      {
        resource: fic,
        message:
          `${ref(fic)} on identity "${identity.name}" trusts GitHub subject ` +
          `${show(subject)}, but the pack was not told which repository CI runs in, so it cannot tell a foreign ` +
          `repository from yours. ${CONFIG_HINT}`,
      },
    ];
  }
  if (!GITHUB_REPOSITORY.test(context.repository)) {
    return [
      {
        resource: fic,
        message:
          `The pack's configured repository ${show(context.repository)} is neither ` +
          `OWNER/REPO nor OWNER@OWNER_ID/REPO@REPO_ID, so ${ref(fic)} cannot be checked. ${CONFIG_HINT}`,
      },
    ];
  }
  if (m[1] !== context.repository) {
    return [
      {
        resource: fic,
        message:
          `${ref(fic)} on identity "${identity.name}" trusts GitHub repository "${m[1]}" ` +
          `(subject ${show(subject)}), not the configured ` +
          `"${context.repository}": whoever controls that repository's ` +
          `workflows would act as this identity. Fix: trust only "repo:${context.repository}:…" (character for ` +
          `character, case and form included), or correct the configured repository.`,
      },
    ];
  }
  return [];
}

export const ficTrustAllowed: StackRule = stackRule(
  "fic-trust-allowed",
  "Federated credentials, wherever they are: an app registration's trust this tenant's Entra issuer and the " +
    "principal ID of an identity a web app of this stack wears; an identity a web app wears has none; only CI " +
    "identities trust GitHub, and only the configured repository.",
  (resources, context) => {
    const identities = stackIdentities(resources);
    const findings: StackFinding[] = [];
    // Managed identities' credentials.
    for (const fic of resources.filter((r) => isUamiFic(r.type))) {
      const parent = identities.find((i) => i.fics.includes(fic));
      if (!parent) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} adds a federated credential to identity ` +
            `${show(inputField(fic, "resourceName"))} in group ${show(inputField(fic, "resourceGroupName"))}, which ` +
            `this stack does not create: an outside identity's trust is no stack's to widen. Fix: delete it.`,
        });
      } else if (parent.worn) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} lets ${show(field(fic, "issuer"))} subject ` +
            `${show(field(fic, "subject"))} act as identity "${parent.name}", ` +
            `which a web app wears: its token is the ` +
            `app's client assertion, so that outsider could sign in as the app and redeem its codes. Fix: delete it; ` +
            `the identity a web app wears has no federated credential.`,
        });
      } else {
        findings.push(...checkCiSubject(fic, parent, context));
      }
    }
    // App registrations' credentials.
    const apps = resources.filter((r) => isApp(r.type));
    for (const fic of resources.filter((r) => isAppFic(r.type))) {
      const appId = field(fic, "applicationId");
      // An adopted registration (existingAppClientId) takes the stack's FIC too; the checks below hold for it alike.
      const app =
        apps.find((a) => appId && (appId === a.id || appId === `/applications/${field(a, "objectId")}`)) ??
        adoptedRegistration(appId, resources);
      const issuer = field(fic, "issuer");
      const subject = field(fic, "subject");
      if (!app) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} adds a federated credential to application ` +
            `${show(appId)}, which this stack does not create: it would let one of this stack's identities act as ` +
            `another app. Fix: delete it.`,
        });
        continue;
      }
      if (issuer === GITHUB_ISSUER) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} on ${ref(app)} trusts GitHub Actions ` +
            `(${show(subject)}): any such workflow could sign in as the app. Fix: delete it; only the CI bootstrap's ` +
            `managed identities trust GitHub.`,
        });
        continue;
      }
      const entra = entraIssuer(issuer);
      if (!entra) continue; // fic-issuer reports it
      const identity = identities.find((i) => i.principalId !== undefined && i.principalId === subject);
      if (!identity?.worn) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} on ${ref(app)} trusts subject ${show(subject)}, which ` +
            `is not the principal ID of an identity a web app of this stack wears ` +
            `(${
              identities
                .filter((i) => i.worn)
                .map((i) => show(i.principalId))
                .join(", ") || "none"
            }): another ` +
            `identity — another stack's, another tenant's — could sign in as the app. Fix: set subject to the ` +
            `principal ID of the web app's user-assigned identity.`,
        });
        continue;
      }
      if (identity.tenantId && lower(identity.tenantId) !== entra.tenant) {
        findings.push({
          resource: fic,
          message:
            `${ref(fic)} on ${ref(app)} trusts tenant ${entra.tenant}'s issuer, ` +
            `but identity "${identity.name}" lives in tenant ${identity.tenantId}: a managed identity of another ` +
            `tenant could present a token with that subject. Fix: set issuer to ` +
            `"${clouds[entra.cloud as keyof typeof clouds].instance}${identity.tenantId}/v2.0".`,
        });
      }
    }
    return findings;
  },
  {
    properties: {
      repository: {
        type: "string",
        description: "The GitHub repository CI identities may trust: OWNER/REPO or OWNER@OWNER_ID/REPO@REPO_ID.",
      },
    },
  },
);

/** Built-in role definition GUIDs (MicrosoftDocs/azure-docs built-in-roles; bootstrap/roles.ts cites each). */
export const ROLE = {
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  WebsiteContributor: "de139f84-1756-47ae-9be6-808fbbe84772",
  WebPlanContributor: "2cc479cb-7b4d-49a8-b449-8c00fd0f0a4b",
  ManagedIdentityContributor: "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
  ManagedIdentityOperator: "f1a07417-d97a-45cb-824c-7a7467783830",
  /** "Create and manage Azure Managed Redis resources. Cannot read or write data stored in the " +
    "cache." (built-in roles, Databases). */
  AzureManagedRedisContributor: "3015e5ed-6856-4ab3-b2f0-b8492aa30ca6",
  StorageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  StorageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  KeyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
  /** Pull images, nothing else (built-in roles, Containers; contract/container-apps.ts cites it). */
  AcrPull: ACR_PULL_ROLE_ID,
  /** Publishes telemetry to Application Insights with Entra ID (built-in roles, Monitor; contract/telemetry.ts). */
  MonitoringMetricsPublisher: MONITORING_METRICS_PUBLISHER_ROLE_ID,
} as const;
type RoleName = keyof typeof ROLE;

/**
 * The roles each kind of principal may hold: the allow-list of role assignments. None of them can grant access
 * (Owner, User Access Administrator, Role Based Access Control Administrator are never here).
 */
export const ALLOWED_ROLES: Record<"appIdentity" | "ciPullRequest" | "ciDeploy" | "operator", readonly RoleName[]> = {
  // The app stack grants its identity no Azure role but these (Redis is an AccessPolicyAssignment, data plane), each
  // only where ROLE_SCOPES allows: publishing its telemetry, and (hosting containerApps) pulling its image.
  appIdentity: ["MonitoringMetricsPublisher", "AcrPull"],
  // A CI identity any pull request's code can use: read only (bootstrap: preview identity).
  ciPullRequest: ["Reader", "StorageBlobDataReader", "KeyVaultCryptoUser"],
  // A CI identity only protected jobs get (bootstrap: deploy identity, `least` or `contributor`).
  ciDeploy: [
    "WebsiteContributor",
    "WebPlanContributor",
    "ManagedIdentityContributor",
    "ManagedIdentityOperator",
    "AzureManagedRedisContributor",
    "Contributor",
    "Reader",
    "StorageBlobDataContributor",
    "KeyVaultCryptoUser",
  ],
  // A person the bootstrap names (operatorObjectId), migrating state: data access to state and key.
  operator: ["StorageBlobDataContributor", "KeyVaultCryptoUser"],
};

/**
 * Roles that may be held only on one kind of resource of this stack, never a group or wider: Monitoring Metrics
 * Publisher on an Application Insights component ("setting the target Application Insights resource as the role
 * scope", learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication), so the app writes its own telemetry
 * and no one else's.
 */
export const ROLE_SCOPES: Partial<Record<RoleName, { readonly what: string; readonly is: (type: string) => boolean }>> =
  {
    MonitoringMetricsPublisher: {
      what: "an Application Insights component",
      is: arm("applicationinsights", "Component"),
    },
    // AcrPull on the stack's own registry only (learn.microsoft.com/azure/container-apps/managed-identity-image-pull:
    // the identity needs AcrPull on the registry it pulls from), so the app pulls its image and no one else's.
    AcrPull: { what: "a container registry", is: arm("containerregistry", "Registry") },
  };

const APP_IDENTITY_HINT =
  "; the app reaches Redis through an AccessPolicyAssignment and needs no Azure role beyond publishing its telemetry " +
  "and pulling its image";
const roleName = (guid: string) => (Object.entries(ROLE) as [RoleName, string][]).find(([, g]) => g === guid)?.[0];

export const roleAssignmentAllowed: StackRule = stackRule(
  "role-assignment-allowed",
  "Each role assignment gives an allowed role to its kind of principal (app identity: Monitoring Metrics Publisher " +
    "on its own Application Insights and AcrPull on its own registry only; pull-request CI " +
    "identity: read only; deploy CI identity: the bootstrap's roles), inside a resource group this stack owns; Redis " +
    "access policies go to the app's identity only.",
  (resources) => {
    const identities = stackIdentities(resources);
    const ownGroups = new Set(
      resources
        .filter((r) => arm("resources", "ResourceGroup")(r.type))
        .map((r) => lower(field(r, "name") ?? inputField(r, "resourceGroupName")))
        .concat(resources.filter((r) => isAppHost(r.type)).map((r) => lower(inputField(r, "resourceGroupName")))),
    );
    const findings: StackFinding[] = [];
    for (const ra of resources.filter((r) => arm("authorization", "RoleAssignment")(r.type))) {
      const principalId = field(ra, "principalId");
      const guid = lastSegment(field(ra, "roleDefinitionId"));
      const role = roleName(guid);
      const identity = identities.find((i) => i.principalId !== undefined && i.principalId === principalId);
      const github = identity?.fics.filter((f) => field(f, "issuer") === GITHUB_ISSUER) ?? [];
      const [kind, who] = identity?.worn
        ? (["appIdentity", `the app's identity "${identity.name}"`] as const)
        : identity && github.length > 0
          ? github.some((f) => /:pull_request$/.test(String(field(f, "subject"))))
            ? (["ciPullRequest", `CI identity "${identity.name}" (which pull requests' code can use)`] as const)
            : (["ciDeploy", `CI identity "${identity.name}"`] as const)
          : !identity && field(ra, "principalType") === "User"
            ? (["operator", `user ${show(principalId)}`] as const)
            : ([
                undefined,
                identity
                  ? `identity "${identity.name}", which no CI workflow or web app uses`
                  : `principal ${show(principalId)}, which this stack does not create`,
              ] as const);
      const allowed = kind ? ALLOWED_ROLES[kind] : [];
      if (!role || !allowed.includes(role)) {
        findings.push({
          resource: ra,
          message:
            `${ref(ra)} gives ${who} role ` +
            `${role ? `${role} (${guid})` : show(guid)}, which it may not hold (allowed: ` +
            `${allowed.join(", ") || "none"}). Fix: remove ` +
            `it${kind === "appIdentity" ? APP_IDENTITY_HINT : ""}. ` +
            "A new grant is a reviewed change to policy/rules/trust.ts ALLOWED_ROLES.",
        });
      }
      const scope = String(field(ra, "scope") ?? "");
      const scoped = role === undefined ? undefined : ROLE_SCOPES[role];
      if (scoped && !resources.some((r) => scoped.is(r.type) && isArmIdOf(scope, r))) {
        findings.push({
          resource: ra,
          message:
            `${ref(ra)} gives role ${role} at scope ${show(scope)}, which is not ${scoped.what} of this stack. Fix: ` +
            `scope it to ${scoped.what} this stack creates (its resource ID), never a resource group or subscription.`,
        });
      }
      const group = /^\/subscriptions\/[^/]+\/resourceGroups\/([^/]+)(?:\/|$)/i.exec(scope)?.[1];
      if (group !== undefined && !ownGroups.has(lower(group))) {
        findings.push({
          resource: ra,
          message:
            `${ref(ra)} is scoped to resource group "${group}", which this stack ` +
            `neither creates nor deploys into (${[...ownGroups].map(show).join(", ") || "none"}). Fix: scope it to a ` +
            `group of this stack or a resource in one.`,
        });
      }
    }
    // Microsoft Graph application permissions: only CI identities hold them (the bootstrap's Application.Read.All for
    // the preview identity, Application.ReadWrite.OwnedBy for the deploy identity; their IDs are looked up per tenant).
    for (const ara of resources.filter((r) => named("AppRoleAssignment")(r.type))) {
      const principal = field(ara, "principalObjectId");
      const identity = identities.find((i) => i.principalId !== undefined && i.principalId === principal);
      const ci = identity && !identity.worn && identity.fics.some((f) => field(f, "issuer") === GITHUB_ISSUER);
      // The main stack's own app roles for people (appRoleAssignments): see ownAppRoleProblem.
      if (!ci && !identity) {
        const problem = ownAppRoleProblem(ara, resources);
        if (problem === undefined) continue;
        findings.push({ resource: ara, message: `${ref(ara)} ${problem}` });
        continue;
      }
      if (!ci) {
        findings.push({
          resource: ara,
          message:
            `${ref(ara)} gives an application permission to ` +
            `${identity ? `identity "${identity.name}"` : show(principal)}, which is not a CI identity of this ` +
            `stack${identity?.worn ? " (a web app wears it: the app would act tenant-wide as itself)" : ""}. Fix: ` +
            `remove it.`,
        });
      }
    }
    const wornPrincipals = identities.filter((i) => i.worn).map((i) => i.principalId);
    for (const apa of resources.filter((r) => arm("redisenterprise", "AccessPolicyAssignment")(r.type))) {
      const objectId = field(apa, "user")?.objectId;
      if (!wornPrincipals.includes(objectId)) {
        findings.push({
          resource: apa,
          message:
            `${ref(apa)} gives Redis data access to ${show(objectId)}, which is ` +
            `not the principal ID of an identity a web app of this stack wears. Fix: assign the app's identity only.`,
        });
      }
      if (field(apa, "accessPolicyName") !== "default") {
        findings.push({
          resource: apa,
          message:
            `${ref(apa)} uses access policy ` +
            `${show(field(apa, "accessPolicyName"))}. Fix: use "default", the data-access policy Azure Managed Redis ` +
            `offers.`,
        });
      }
    }
    return findings;
  },
);

const isAppRole = named("ApplicationAppRole");
/** The `/applications/{objectId}` forms an app's sub-resources name it by. */
const appIds = (app: PlannedResource) =>
  [app.id, field(app, "objectId") && `/applications/${field(app, "objectId")}`].filter(
    (id): id is string => typeof id === "string",
  );
/** Who an app role may be assigned to: users and groups ("User"), never other applications ("Application"). */
const APP_ROLE_MEMBER_TYPES = ["User"];

export const appRolesOwnApp: StackRule = stackRule(
  "app-roles-own-app",
  "An app role (ApplicationAppRole) is declared on this stack's own app registration, for users and groups only.",
  (resources) =>
    resources
      .filter((r) => isAppRole(r.type))
      .flatMap((role): StackFinding[] => {
        const applicationId = field(role, "applicationId");
        const app = resources.find((a) => isApp(a.type) && appIds(a).includes(applicationId));
        const types = (field(role, "allowedMemberTypes") as unknown[] | undefined) ?? [];
        return [
          ...(app
            ? []
            : [
                {
                  resource: role,
                  message:
                    `${ref(role)} adds a role to application ${show(applicationId)}, ` +
                    "which this stack does not create: it would change who may do " +
                    "what in another app. Fix: declare roles on " +
                    "the stack's own app registration (its applicationId).",
                },
              ]),
          ...(types.length > 0 && types.every((t) => APP_ROLE_MEMBER_TYPES.includes(String(t)))
            ? []
            : [
                {
                  resource: role,
                  message:
                    `${ref(role)} has allowedMemberTypes ${show(types)}: an "Application" role is an ` +
                    "application permission other apps can be granted to act as " +
                    "themselves against this one. Fix: set " +
                    'allowedMemberTypes: ["User"] (users and groups).',
                },
              ]),
        ];
      }),
);

/** A redirect URI's problem, or undefined: https, no user info, no port but 443, no fragment, host one of `hosts`. */
function redirectProblem(uri: unknown, hosts: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(String(uri));
  } catch {
    return "is not an absolute URL";
  }
  if (url.protocol !== "https:") return `uses ${url.protocol.replace(":", "")}, not https`;
  if (url.username || url.password) return "carries user info";
  if (url.hash) return "has a fragment";
  if (url.port && url.port !== "443") return `names port ${url.port}`;
  if (!hosts.includes(url.hostname.toLowerCase()))
    return (
      `points at host "${url.hostname}", not one of this stack's ` +
      `web apps (${hosts.map(show).join(", ") || "none known"})`
    );
  return undefined;
}

const isRedirectUris = named("ApplicationRedirectUris");
const isFullApplication = named("Application");

export const redirectUrisOwnHost: StackRule = stackRule(
  "redirect-uris-own-host",
  "Every redirect URI (ApplicationRedirectUris, an application's web/spa/public-client URIs) is https on a host name " +
    "of this stack's own web apps.",
  (resources) => {
    const hosts = resources
      .filter((r) => isAppHost(r.type))
      .flatMap((s) =>
        isContainerApp(s.type)
          ? [s.props.configuration?.ingress?.fqdn]
          : [field(s, "defaultHostName"), ...((field(s, "hostNames") as unknown[]) ?? [])],
      )
      .filter((h): h is string => typeof h === "string")
      .map((h) => h.toLowerCase())
      // An adopted site's host (existingWebAppName) is the stack's site too.
      .concat(adoptedSiteHosts(resources));
    const findings: StackFinding[] = [];
    for (const r of resources) {
      let uris: [string, unknown][] = [];
      if (isRedirectUris(r.type)) {
        uris = ((field(r, "redirectUris") as unknown[]) ?? []).map((u) => ["redirectUris", u]);
      } else if (isFullApplication(r.type)) {
        for (const key of ["web", "singlePageApplication", "publicClient"] as const) {
          const list = (field(r, key)?.redirectUris as unknown[]) ?? [];
          uris.push(...list.map((u): [string, unknown] => [`${key}.redirectUris`, u]));
        }
      }
      for (const [where, uri] of uris) {
        const problem = redirectProblem(uri, hosts);
        if (problem) {
          findings.push({
            resource: r,
            message:
              `${ref(r)} has redirect URI ${show(uri)} (${where}) that ${problem}: ` +
              `sign-in codes would be sent there. Fix: register only https://<the web app's host name><callback ` +
              `path>.`,
          });
        }
      }
    }
    return findings;
  },
);

/** The settings each provider may take: no credential (OIDC, managed identity or az login sign in), no plugin URL. */
export const ALLOWED_PROVIDER_SETTINGS: Record<string, readonly string[]> = {
  "pulumi:providers:azure-native": [
    "version",
    "environment",
    "location",
    "subscriptionId",
    "tenantId",
    "clientId",
    "useOidc",
    "useMsi",
    "useDefaultAzureCredential",
    "auxiliaryTenantIds",
    "partnerId",
    "disablePulumiPartnerId",
    "disableInstanceDiscovery",
  ],
  "pulumi:providers:azuread": [
    "version",
    "environment",
    "tenantId",
    "clientId",
    "useOidc",
    "useMsi",
    "useCli",
    "partnerId",
    "disableTerraformPartnerId",
  ],
  "pulumi:providers:command": ["version"],
  // The bootstrap's GitHub provider (deploy environment): the owner only. Its token comes from GITHUB_TOKEN at run
  // time; as an input (`token`, `appAuth`) it would be stored in state. No `baseUrl` (another GitHub host).
  "pulumi:providers:github": ["version", "owner"],
};

/**
 * Settings a provider's SDK always sends, allowed with their default value only: @pulumi/github sets `baseUrl` to
 * GITHUB_BASE_URL or "https://api.github.com/" (node_modules/@pulumi/github/provider.js); another host is another
 * GitHub, with other credentials.
 */
export const PINNED_PROVIDER_SETTINGS: Record<string, Readonly<Record<string, unknown>>> = {
  "pulumi:providers:github": { baseUrl: "https://api.github.com/" },
};

export const providerSettingsAllowed: ResourceRule = resourceRule(
  "provider-settings-allowed",
  "A provider takes only identity-based sign-in settings: no client secret, certificate, password, token, custom " +
    "endpoint or plugin download URL.",
  (type) => type.toLowerCase().startsWith("pulumi:providers:"),
  (r) => {
    const allowed = ALLOWED_PROVIDER_SETTINGS[r.type] ?? [];
    const pinned = PINNED_PROVIDER_SETTINGS[r.type] ?? {};
    const set = (k: string) => r.props[k] !== undefined && r.props[k] !== null && r.props[k] !== "";
    return Object.keys(r.props)
      .filter((k) => set(k) && !allowed.includes(k) && pinned[k] !== r.props[k])
      .map(
        (k) =>
          `${ref(r)} sets "${k}", which is not an allowed provider setting ` +
          `(${allowed.join(", ") || "none"}): a credential, a custom endpoint ` +
          `or a plugin source. Fix: remove it; sign ` +
          `in with OIDC (ARM_USE_OIDC), a managed identity or az login.`,
      );
  },
);

export const dataStoresPrivate: ResourceRule = resourceRule(
  "data-stores-private",
  "A blob container is private, and a key vault is RBAC-only (no access policies) with purge protection.",
  (type) => arm("storage", "BlobContainer")(type) || arm("keyvault", "Vault")(type),
  (r) => {
    if (arm("storage", "BlobContainer")(r.type)) {
      const access = r.props.publicAccess;
      return [
        access !== undefined && access !== "None"
          ? `${ref(r)} has publicAccess ${show(access)}: anyone could ` +
            `read the blobs. Fix: set publicAccess: "None".`
          : undefined,
      ];
    }
    const p = r.props.properties ?? {};
    return [
      p.enableRbacAuthorization !== true
        ? `${ref(r)} has properties.enableRbacAuthorization ` +
          `${show(p.enableRbacAuthorization)}. Fix: set it to true; access policies bypass Azure RBAC.`
        : undefined,
      Array.isArray(p.accessPolicies) && p.accessPolicies.length > 0
        ? `${ref(r)} has access policies. Fix: remove them and grant Azure roles.`
        : undefined,
      p.enablePurgeProtection !== true
        ? `${ref(r)} has properties.enablePurgeProtection ` +
          `${show(p.enablePurgeProtection)}. Fix: set it to true, so the key ` +
          `that unlocks every stack's secrets cannot ` +
          `be destroyed.`
        : undefined,
    ];
  },
);

/** How a command may start: Node running one of the project's own deploy scripts (deploy/*.ts), nothing inline. */
const PROJECT_SCRIPT = /^node --import tsx deploy\/[a-z0-9][a-z0-9-]*\.ts$/;
const COMMAND_FIELDS_ALLOWED = ["create", "environment", "triggers", "logging", "addPreviousOutputInEnv", "update"];
/** The one delete step allowed: an adopt script's own undo, `<its create> --undo` (policy/rules/adopt.ts). */
const adoptUndo = (r: { props: Record<string, any> }) =>
  ADOPT_SCRIPTS.includes(r.props.create) && r.props.delete === `${r.props.create} ${ADOPT_UNDO_FLAG}`;

/**
 * The environment each deploy script is given, by script: exactly what the components set (components/
 * app-deployment.ts, container-app-host.ts, adoption.ts), nothing else. Any other variable changes what the reviewed
 * script does without touching it: NODE_OPTIONS loads inline code (`--import=data:…`), AZURE_AUTHORITY_HOST or
 * IDENTITY_ENDPOINT send the deployer's sign-in elsewhere, NODE_EXTRA_CA_CERTS or HTTPS_PROXY let another party read
 * its token in transit. A new variable is a reviewed change here.
 */
export const SCRIPT_ENVIRONMENT: Readonly<Record<string, readonly string[]>> = {
  "deploy/one-deploy.ts": ["DEPLOY_SCM_HOST", "DEPLOY_ZIP_PATH", "DEPLOY_ZIP_SHA256", "DEPLOY_ARM_SCOPE"],
  "deploy/wait-ready.ts": ["READY_HOST", "READY_TIMEOUT_MINUTES", "READY_PATH"],
  "deploy/swap.ts": [
    "SWAP_SITE_ID",
    "SWAP_SLOT",
    "SWAP_SLOT_HOST",
    "SWAP_SLOT_SCM_HOST",
    "SWAP_PRODUCTION_HOST",
    "SWAP_ARM_SCOPE",
    "SWAP_AFTER",
    "READY_TIMEOUT_MINUTES",
  ],
  "deploy/push-image.ts": [
    "REGISTRY_LOGIN_SERVER",
    "REGISTRY_ID",
    "REGISTRY_ARM_SCOPE",
    "IMAGE_REPOSITORY",
    "BASE_IMAGE",
    "IMAGE_LAYOUT_DIR",
    "IMAGE_CONTENT_SHA256",
  ],
  "deploy/adopt-site.ts": [
    "ADOPT_SITE_ID",
    "ADOPT_SITE_HOST",
    "ADOPT_IDENTITY_ID",
    "ADOPT_ARM_SCOPE",
    "ADOPT_INSTANCE",
    "ADOPT_TENANT_ID",
    "ADOPT_CLIENT_ID",
    "ADOPT_CALLBACK_PATH",
    "ADOPT_MI_CLIENT_ID",
    "ADOPT_TOKEN_EXCHANGE_URL",
  ],
  "deploy/adopt-redirect-uri.ts": ["ADOPT_GRAPH_URL", "ADOPT_APP_OBJECT_ID", "ADOPT_REDIRECT_URI"],
};

/** The variables that name the Entra scope a script asks the deployer's token for: a cloud's ARM scope only. */
const ARM_SCOPE_VARIABLES = ["DEPLOY_ARM_SCOPE", "SWAP_ARM_SCOPE", "REGISTRY_ARM_SCOPE"];
const ARM_SCOPES: readonly string[] = Object.values(clouds).map((c) => c.resourceManagerScope);
/** A relative path inside the project: no leading `/` or `~`, no `..` segment. */
const insideProject = (v: unknown) =>
  typeof v === "string" && /^[A-Za-z0-9._/-]+$/.test(v) && !v.startsWith("/") && !v.split("/").includes("..");

/**
 * The deploy step's inputs that name something on disk or on the site: the zip it pushes is a relative `.zip` inside
 * the project (never `/etc/…`, `~/…` or `../…`, whatever the package of your own is), and the readiness path is a path;
 * the scripts' environment is theirs (SCRIPT_ENVIRONMENT), the scopes they ask tokens for a cloud's, the image's base
 * pinned by digest and its layers read from inside the project.
 */
function deployInputProblems(r: PlannedResource): (string | undefined)[] {
  const environment = r.props.environment;
  if (!environment || typeof environment !== "object") return [];
  const zip = environment.DEPLOY_ZIP_PATH;
  const path = environment.READY_PATH;
  const script = typeof r.props.create === "string" ? r.props.create.replace(/^node --import tsx /, "") : "";
  // Another command line is refused for itself; its environment is then beside the point.
  const allowed = PROJECT_SCRIPT.test(String(r.props.create)) ? (SCRIPT_ENVIRONMENT[script] ?? []) : undefined;
  const base = environment.BASE_IMAGE;
  const layout = environment.IMAGE_LAYOUT_DIR;
  return [
    ...Object.keys(environment)
      .filter((k) => allowed !== undefined && !allowed.includes(k))
      .map(
        (k) =>
          `${ref(r)} sets environment variable ${show(k)}, which ${script} does not read (allowed: ` +
          `${allowed?.join(", ") || "none"}): it would change what the reviewed script does — load code, or send ` +
          "the deployer's token elsewhere. Fix: remove it; a new variable is a reviewed change to " +
          "policy/rules/trust.ts SCRIPT_ENVIRONMENT.",
      ),
    ...ARM_SCOPE_VARIABLES.filter(
      (k) => typeof environment[k] === "string" && !ARM_SCOPES.includes(environment[k]),
    ).map(
      (k) =>
        `${ref(r)} has ${k} ${show(environment[k])}, not a cloud's Azure Resource Manager scope ` +
        `(${ARM_SCOPES.map(show).join(", ")}). Fix: use the cloud's scope (contract/clouds.ts).`,
    ),
    typeof base === "string" && !/^[a-z0-9.-]+(?::\d+)?\/[a-z0-9._/-]+(?::[\w.-]+)?@sha256:[0-9a-f]{64}$/.test(base)
      ? `${ref(r)} has BASE_IMAGE ${show(base)}, not an image pinned by digest: a tag can change under the build. ` +
        "Fix: pin it (<registry>/<repository>@sha256:<64 hex>)."
      : undefined,
    typeof layout === "string" && !insideProject(layout)
      ? `${ref(r)} has IMAGE_LAYOUT_DIR ${show(layout)}, not a folder inside the project. Fix: pass the layout the ` +
        "image build wrote (a relative path such as dist/app-image)."
      : undefined,

    zip !== undefined &&
    (typeof zip !== "string" ||
      !/^[A-Za-z0-9._/-]+\.zip$/i.test(zip) ||
      zip.startsWith("/") ||
      zip.split("/").includes(".."))
      ? `${ref(r)} pushes DEPLOY_ZIP_PATH ${show(zip)}, not a .zip inside the project. Fix: pass a relative path ` +
        "inside the project, as packageApp() and packageOwnApp() return it."
      : undefined,
    path !== undefined && (typeof path !== "string" || appPathProblem(path, "/healthz") !== undefined)
      ? `${ref(r)} waits on READY_PATH ${show(path)}, which is not a path of the site. Fix: set readinessPath to a ` +
        "path such as /healthz."
      : undefined,
  ];
}

export const commandRunsProjectScript: ResourceRule = resourceRule(
  "command-runs-project-script",
  "A command runs one of the project's own deploy scripts (node --import tsx deploy/<name>.ts): no inline shell, no " +
    "stdin, no interpreter or working-directory switch, no delete hook but an adopt script's own --undo.",
  (type) => type === "command:local:Command" || type === "command:remote:Command",
  (r) => [
    ...(["create", "update"] as const)
      .filter((k) => r.props[k] !== undefined && !(typeof r.props[k] === "string" && PROJECT_SCRIPT.test(r.props[k])))
      .map(
        (k) =>
          `${ref(r)} has ${k} ${show(r.props[k])}, not one of the project's deploy scripts: a command runs ` +
          `with the deployer's credentials, out of every other rule's sight. Fix: put the step in deploy/<name>.ts ` +
          `(reviewed code) and run "node --import tsx deploy/<name>.ts".`,
      ),
    ...deployInputProblems(r),
    ...Object.keys(r.props)
      .filter((k) => !COMMAND_FIELDS_ALLOWED.includes(k) && r.props[k] !== undefined && r.props[k] !== null)
      .filter((k) => !(k === "delete" && adoptUndo(r)))
      .map(
        (k) =>
          `${ref(r)} sets "${k}", which a deploy step does not need (allowed: ` +
          `${COMMAND_FIELDS_ALLOWED.join(", ")}). Fix: remove it.`,
      ),
  ],
);

/** The ARM ID and host values of a command's environment, with what each must name of this stack. */
const TOKEN_HOSTS = ["DEPLOY_SCM_HOST", "SWAP_SLOT_SCM_HOST"] as const;
const APP_HOSTS = ["READY_HOST", "SWAP_SLOT_HOST", "SWAP_PRODUCTION_HOST"] as const;

/**
 * Where a deploy step sends the deployer's token, and what it proves, is in its environment: the Kudu host it pushes
 * the zip to (`Authorization: Bearer`), the registry whose token exchange gets the deployer's Entra token, the site it
 * swaps, the host whose /readyz is the proof. Each must be a resource of this stack, read from that resource's outputs
 * (a web app's Repository host name, a registry's login server), never a host typed into the program.
 */
export const commandTargetsOwnResources: StackRule = stackRule(
  "command-targets-own-resources",
  "A deploy step sends the deployer's token only to this stack's own Kudu hosts and registries, swaps only its own " +
    "site, and waits for readiness only on its own app's hosts.",
  (resources) => {
    const hosts = (r: PlannedResource, kind: "Repository" | "Standard") =>
      ((field(r, "hostNameSslStates") as { name?: unknown; hostType?: unknown }[] | undefined) ?? [])
        .filter((h) => h?.hostType === kind)
        .map((h) => lower(h?.name));
    const sites = resources.filter((r) => isAppHost(r.type));
    const scmHosts = sites.flatMap((s) => hosts(s, "Repository"));
    const appHosts = sites
      .flatMap((s) =>
        isContainerApp(s.type)
          ? [s.props.configuration?.ingress?.fqdn]
          : [field(s, "defaultHostName"), ...((field(s, "hostNames") as unknown[]) ?? []), ...hosts(s, "Standard")],
      )
      .filter((h): h is string => typeof h === "string")
      .map(lower)
      .concat(adoptedSiteHosts(resources));
    const registries = resources.filter((r) => arm("containerregistry", "Registry")(r.type));
    const loginServers = registries.map((r) => lower(field(r, "loginServer"))).filter(Boolean);
    const findings: StackFinding[] = [];
    for (const cmd of resources.filter(
      (r) => r.type === "command:local:Command" || r.type === "command:remote:Command",
    )) {
      const env = (field(cmd, "environment") ?? {}) as Record<string, unknown>;
      const known = (k: string) => typeof env[k] === "string" && env[k] !== "";
      const flag = (message: string) => findings.push({ resource: cmd, message: `${ref(cmd)} ${message}` });
      for (const k of TOKEN_HOSTS.filter((k) => known(k) && !scmHosts.includes(lower(env[k]))))
        flag(
          `sends the deployer's token to ${k} ${show(env[k])}, not the Kudu (Repository) host of a web app or slot ` +
            `of this stack (${scmHosts.map(show).join(", ") || "none"}). Fix: pass the site's own scmHostName.`,
        );
      if (known("REGISTRY_LOGIN_SERVER") && !loginServers.includes(lower(env.REGISTRY_LOGIN_SERVER)))
        flag(
          `sends the deployer's token to REGISTRY_LOGIN_SERVER ${show(env.REGISTRY_LOGIN_SERVER)}, not the login ` +
            `server of a registry of this stack (${loginServers.map(show).join(", ") || "none"}): ACR's token ` +
            "exchange is handed the deployer's Entra token. Fix: pass the stack's registry's loginServer.",
        );
      if (known("REGISTRY_ID") && !registries.some((r) => isArmIdOf(env.REGISTRY_ID, r)))
        flag(
          `has REGISTRY_ID ${show(env.REGISTRY_ID)}, not a container registry of this stack: the deployer's ARM ` +
            "token would import into another registry. Fix: pass the stack's registry's id.",
        );
      if (known("SWAP_SITE_ID") && !sites.some((r) => isWebApp(r.type) && isArmIdOf(env.SWAP_SITE_ID, r)))
        flag(
          `has SWAP_SITE_ID ${show(env.SWAP_SITE_ID)}, not a web app of this stack: the deployer's ARM token would ` +
            "swap another site's slots. Fix: pass the stack's web app's id.",
        );
      for (const k of APP_HOSTS.filter((k) => known(k) && !appHosts.includes(lower(env[k]))))
        flag(
          `waits on ${k} ${show(env[k])}, not a host of this stack's app (${appHosts.map(show).join(", ") || "none"})` +
            ": another host's /readyz would prove nothing about this app. Fix: pass the app's own host name.",
        );
    }
    return findings;
  },
);

export const apiAccessDelegatedOnly: ResourceRule = resourceRule(
  "api-access-delegated-only",
  "The app asks for delegated permissions only (acting as the signed-in user), never application permissions (acting " +
    "as itself, tenant-wide).",
  named("ApplicationApiAccess"),
  (r) => [
    Array.isArray(r.props.roleIds) && r.props.roleIds.length > 0
      ? `${ref(r)} requests application permissions (roleIds ${show(r.props.roleIds)}): once consented, whoever ` +
        `holds the app's credential reads or writes the whole tenant. Fix: remove roleIds; the app calls APIs as the ` +
        `signed-in user (scopeIds).`
      : undefined,
  ],
);

/**
 * Why an app role assignment to a user or group is not one of the main stack's own (appRoleAssignments), or undefined
 * when it is: its role is an `ApplicationAppRole` of this stack for users and groups only (`allowedMemberTypes`
 * exactly ["User"]), and it is made on a service principal of this stack whose app (client) ID is a registration's of
 * this stack. Without the last check a stack could declare a role with the ID of a Microsoft Graph application
 * permission and assign it on Graph's service principal. Values the engine does not know yet (a first preview) are
 * checked when it does.
 */
function ownAppRoleProblem(ara: PlannedResource, resources: readonly PlannedResource[]): string | undefined {
  const roleId = lower(field(ara, "appRoleId"));
  const role = resources.find((r) => named("ApplicationAppRole")(r.type) && lower(field(r, "roleId")) === roleId);
  if (!role) {
    return (
      `assigns role ${show(field(ara, "appRoleId"))} to ${show(field(ara, "principalObjectId"))}, which is ` +
      "neither a CI identity of this stack nor assigned one of this stack's own app roles. Fix: remove it."
    );
  }
  const members = field(role, "allowedMemberTypes");
  if (!Array.isArray(members) || members.length !== 1 || members[0] !== "User") {
    return (
      `assigns ${ref(role)}, whose allowedMemberTypes are ${show(members)}. Fix: declare the role for users and ` +
      'groups only (["User"]): a role applications may hold is an application permission.'
    );
  }
  const resource = field(ara, "resourceObjectId");
  if (resource === undefined) return undefined;
  const sp = resources.find((r) => named("ServicePrincipal")(r.type) && field(r, "objectId") === resource);
  const clientIds = resources.filter((r) => isApp(r.type)).map((r) => field(r, "clientId"));
  const spClient = sp && field(sp, "clientId");
  if (!sp || (spClient !== undefined && !clientIds.includes(spClient))) {
    return (
      `is made on service principal ${show(resource)}, which is not the service principal of an app ` +
      "registration of this stack. Fix: assign the stack's own app roles on its own service principal only."
    );
  }
  return undefined;
}
