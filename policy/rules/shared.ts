/**
 * What the rules share: the constants, recognising resource types by their Pulumi type token, naming a resource in a
 * message, and reading what a web app wears and signs in as from the planned resources.
 */
import { clouds } from "../../contract/clouds";
import { AzureAdSetting } from "../../contract/settings";
import type { PlannedResource } from "./model";

/** GitHub Actions' OIDC issuer: the only issuer besides Entra's that a FIC here may trust (CI identities). */
export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
/**
 * A GitHub repository as a federated credential's subject names it, in exactly one of GitHub's two forms:
 * - classic, `OWNER/REPO` (names GitHub lets an owner rename, and re-register after deletion);
 * - immutable, `OWNER@OWNER_ID/REPO@REPO_ID`: "The immutable format keeps the names but appends the immutable owner ID
 *   and repository ID, separated by an @ symbol: repo:<owner>@<owner_id>/<repo>@<repo_id>:ref:refs/heads/main"
 *   (learn.microsoft.com/entra/workload-id/workload-identities-github-immutable-subjects; GitHub docs, OIDC reference,
 *   "Immutable subject claims": `repo:octocat@123456/my-repo@456789:ref:refs/heads/main`). GitHub issues it for
 *   repositories created, renamed or transferred since mid-2026, and for those that opt in.
 * Owners: 1-39 letters, digits or single inner hyphens; repositories: 1-100 letters, digits, ".", "_", "-".
 */
const OWNER = "[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}";
const REPO = "(?!\\.\\.?(?:[@:]|$))[A-Za-z0-9._-]{1,100}";
const GITHUB_REPOSITORY_SOURCE = `(?:${OWNER}/${REPO}|${OWNER}@[1-9][0-9]{0,19}/${REPO}@[1-9][0-9]{0,19})`;
/** `OWNER/REPO` or `OWNER@OWNER_ID/REPO@REPO_ID`, and nothing else. */
export const GITHUB_REPOSITORY = new RegExp(`^${GITHUB_REPOSITORY_SOURCE}$`);
/**
 * The subjects a CI identity may trust: one repository's pull requests, one environment, one branch or one tag — no
 * wildcard, no ":" (it would change the subject's shape), no space. Group 1 is the repository.
 */
const GITHUB_SUBJECT_KIND =
  "pull_request|environment:[A-Za-z0-9._-]{1,255}|ref:refs/(?:heads|tags)/[^\\s*?:\\[\\]~^\\\\]+";
export const GITHUB_SUBJECT = new RegExp(`^repo:(${GITHUB_REPOSITORY_SOURCE}):(?:${GITHUB_SUBJECT_KIND})$`);
/** Entra's limit of federated credentials on one app registration or one user-assigned identity. */
export const MAX_FICS_PER_PARENT = 20;
/** Token-exchange audiences of the supported clouds (contract/clouds.ts). */
export const KNOWN_AUDIENCES: readonly string[] = Object.values(clouds).map((c) => c.tokenExchangeAudience);
/** Entra instances (login hosts) of the supported clouds. */
export const KNOWN_INSTANCES: readonly string[] = Object.values(clouds).map((c) => c.instance);
/** TLS versions a web app or a Redis cache may require (App Service's and Redis's spelling). */
export const TLS_OK = ["1.2", "1.3"];

// ---------------------------------------------------------------------------------------------------------------
// Type tokens

/** Splits a type token into package, module (without an API-version suffix) and resource name. */
export function parseType(type: string): { pkg: string; module: string; resource: string } {
  const [pkg = "", module = "", resource = ""] = type.split(":");
  return { pkg, module: module.split("/")[0]!, resource };
}

/** An azure-native type in `module` named one of `names`. */
export const arm =
  (module: string, ...names: string[]) =>
  (type: string): boolean => {
    const t = parseType(type);
    return t.pkg === "azure-native" && t.module === module && names.includes(t.resource);
  };

/** A type of any provider (azuread, msgraph, …) whose resource name is one of `names`. */
export const named =
  (...names: string[]) =>
  (type: string): boolean =>
    names.includes(parseType(type).resource) && parseType(type).pkg !== "azure-native";

export const isWebApp = arm("web", "WebApp", "WebAppSlot");
/** A container app (hosting containerApps): an app host like a web app, with its settings as environment variables. */
export const isContainerApp = arm("app", "ContainerApp");
/** What runs the app and wears its identity: a web app, a slot or a container app (the "app host" view). */
export const isAppHost = (type: string): boolean => isWebApp(type) || isContainerApp(type);
export const isManagedEnvironment = arm("app", "ManagedEnvironment");
export const isRegistry = arm("containerregistry", "Registry");
export const isSettingsResource = arm("web", "WebAppApplicationSettings", "WebAppApplicationSettingsSlot");
export const isConnectionStringsResource = arm("web", "WebAppConnectionStrings", "WebAppConnectionStringsSlot");
export const isScmAllowed = arm("web", "WebAppScmAllowed", "WebAppScmAllowedSlot");
export const isFtpAllowed = arm("web", "WebAppFtpAllowed", "WebAppFtpAllowedSlot");
export const isUami = arm("managedidentity", "UserAssignedIdentity");
export const isUamiFic = arm("managedidentity", "FederatedIdentityCredential");
export const isAppFic = named(
  "ApplicationFederatedIdentityCredential",
  "ApplicationFlexibleFederatedIdentityCredential",
);
export const isFlexibleFic = named("ApplicationFlexibleFederatedIdentityCredential");
export const isFic = (type: string) => isAppFic(type) || isUamiFic(type);
export const isApp = named("Application", "ApplicationRegistration");
export const isRedisCache = arm("redis", "Redis");
export const isRedisEnterpriseDb = arm("redisenterprise", "Database");
export const isRedisEnterprise = arm("redisenterprise", "RedisEnterprise");
export const isCommand = (type: string) => ["command:local:Command", "command:remote:Command"].includes(type);

/** How a message names a resource: its type's short name and its logical name. */
export function ref(r: PlannedResource): string {
  if (r.type.startsWith("pulumi:providers:")) return `Provider "${r.name}" (${r.type})`;
  return `${parseType(r.type).resource || r.type} "${r.name}"`;
}

export const show = (value: unknown): string => (value === undefined ? "unset" : JSON.stringify(value));

// ---------------------------------------------------------------------------------------------------------------
// Reading resources

/**
 * An app host's settings as a map: a web app's `siteConfig.appSettings` (`{name, value}[]`), or a container app's
 * environment variables (`template.containers[].env`, `{name, value}[]`; every container's).
 */
export function appSettingsOf(props: Record<string, any> | undefined): Record<string, unknown> | undefined {
  if (!props) return undefined;
  const list = props.siteConfig?.appSettings ?? containerEnv(props);
  if (Array.isArray(list))
    return Object.fromEntries(list.map((s: { name: string; value: unknown }) => [s?.name, s?.value]));
  return undefined;
}

/** A container app's environment variables, every container's, or undefined when it has no containers. */
export function containerEnv(
  props: Record<string, any>,
): { name: string; value?: unknown; secretRef?: unknown }[] | undefined {
  const containers = props.template?.containers;
  return Array.isArray(containers) ? containers.flatMap((c: any) => (Array.isArray(c?.env) ? c.env : [])) : undefined;
}

/** Settings as a stack rule sees them: the outputs', else the inputs' (App Service never returns app settings). */
export function stackSettingsOf(r: PlannedResource): Record<string, unknown> | undefined {
  return appSettingsOf(r.props) ?? appSettingsOf(r.inputs);
}

/** A property from the outputs, else from the inputs. */
export function field(r: PlannedResource, key: string): any {
  return r.props[key] ?? r.inputs?.[key];
}

/** A property from the inputs, else from the outputs: for what identifies a resource (names, resource group). */
export function inputField(r: PlannedResource, key: string): any {
  return r.inputs?.[key] ?? r.props[key];
}

export interface AttachedIdentity {
  readonly id: string;
  readonly clientId?: string;
  readonly principalId?: string;
}

/**
 * The user-assigned identities a web app wears. The output is a map `{ [armId]: { clientId, principalId } }`; the
 * input (and the offline plan) a list of ARM IDs, resolved against the stack's identities by ID or by name.
 */
export function attachedIdentities(site: PlannedResource, resources: readonly PlannedResource[]): AttachedIdentity[] {
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
      (r) =>
        isUami(r.type) &&
        (r.id?.toLowerCase() === id.toLowerCase() || String(r.props.name).toLowerCase() === lastSegment),
    );
    return { id, clientId: uami?.props.clientId, principalId: uami?.props.principalId };
  });
}

/** The stack's app registration whose client ID a web app signs in as, if it is in this stack. */
export function appOf(site: PlannedResource, resources: readonly PlannedResource[]): PlannedResource | undefined {
  const clientId = stackSettingsOf(site)?.[AzureAdSetting.ClientId];
  return clientId === undefined ? undefined : resources.find((r) => isApp(r.type) && r.props.clientId === clientId);
}

/** The federated credentials of an app registration (`applicationId` is `/applications/{objectId}`). */
export function ficsOf(app: PlannedResource, resources: readonly PlannedResource[]): PlannedResource[] {
  const ids = [app.id, app.props.objectId && `/applications/${app.props.objectId}`].filter(Boolean);
  return resources.filter((r) => isAppFic(r.type) && ids.includes(field(r, "applicationId")));
}

/** App hosts (web apps, slots, container apps) that sign in through an app registration of the stack, with its FICs. */
export function signInWebApps(resources: readonly PlannedResource[]) {
  return resources
    .filter((r) => isAppHost(r.type))
    .flatMap((site) => {
      const app = appOf(site, resources);
      if (!app) return [];
      return [
        {
          site,
          app,
          fics: ficsOf(app, resources),
          identities: attachedIdentities(site, resources),
          settings: stackSettingsOf(site) ?? {},
        },
      ];
    });
}

// ---------------------------------------------------------------------------------------------------------------
// ARM IDs

/**
 * The ARM resource types of the azure-native types whose IDs other resources name (a diagnostic setting's source and
 * destination, a component's workspace, a role assignment's scope).
 */
const ARM_TYPES: Record<string, string> = {
  "azure-native:operationalinsights:Workspace": "microsoft.operationalinsights/workspaces",
  "azure-native:web:WebApp": "microsoft.web/sites",
  "azure-native:web:AppServicePlan": "microsoft.web/serverfarms",
  "azure-native:applicationinsights:Component": "microsoft.insights/components",
  "azure-native:app:ManagedEnvironment": "microsoft.app/managedenvironments",
  "azure-native:app:ContainerApp": "microsoft.app/containerapps",
  "azure-native:containerregistry:Registry": "microsoft.containerregistry/registries",
};
const TOP_LEVEL_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/;

/**
 * Whether ARM ID `id` names resource `r` of this stack: its provider ID when known (offline), else — as the CLI hands
 * stack policies no IDs (azure-native keeps none in the outputs) — its resource group, ARM type and name, which cannot
 * tell one subscription from another. Compared case-insensitively, as ARM does.
 */
export function isArmIdOf(id: unknown, r: PlannedResource): boolean {
  if (typeof id !== "string") return false;
  const wanted = id.toLowerCase();
  // A known ID decides alone: group, type and name say nothing of the subscription, and the same group and name in a
  // subscription someone else owns is a different resource.
  if (typeof r.id === "string" && r.id.startsWith("/subscriptions/")) return r.id.toLowerCase() === wanted;
  const [, group, type, name] = TOP_LEVEL_ID.exec(wanted) ?? [];
  const own = ARM_TYPES[r.type];
  return (
    own !== undefined &&
    type === own &&
    group === String(inputField(r, "resourceGroupName") ?? "").toLowerCase() &&
    name === String(field(r, "name") ?? "").toLowerCase()
  );
}
