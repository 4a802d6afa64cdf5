/**
 * The allow-list: every resource type the two stacks create, under every documented switch, and nothing else. A type
 * not listed here is refused, whatever its inputs: a guardrail that a new resource type walks around is not a
 * guardrail (an ARM template deployment, a deployment script or a dynamic provider can set anything these rules check).
 *
 * To add a type (Container Apps, a registry, Application Insights, a slot's auth settings v2, …): add an entry
 * below in the same reviewed change that adds the rules that keep it secretless and hardened, name those rules in
 * `checkedBy`, and add a compliant and a broken variant to test/policy/. policy/README.md walks through it.
 */
import { type ResourceRule, resourceRule } from "./model";
import { show } from "./shared";

/** Which stack creates a type: the app stack (index.ts), the CI bootstrap (bootstrap/), or both. */
export type Stack = "main" | "bootstrap" | "both";

export interface AllowedType {
  /** The exact Pulumi type token: no API-version module, no other casing, no alias. */
  readonly type: string;
  readonly stack: Stack;
  /** When the stack creates it (the switch), for the reader. */
  readonly when: string;
  /** The rules that keep it safe, beyond `resource-type-allowed` and `no-secret-inputs`, which check every type. */
  readonly checkedBy: readonly string[];
}

const always = "always";
const GITHUB_TOKEN = "GITHUB_TOKEN set";
const SLOT = "stagingSlot (Standard plan or above)";
const ROLES = "appRoles (default Admin, Reader)";
const TELEMETRY = "telemetry";
const ADOPT_APP = "existingAppClientId";
const ADOPT_SITE = "existingWebAppName";
/** The rules a web app answers to; a slot is a web app to them, plus the slot rules. */
const WEB_APP_CHECKS = [
  "webapp-runtime-allowed",
  "webapp-https-only",
  "webapp-min-tls",
  "webapp-ftps-disabled",
  "webapp-remote-debugging-off",
  "webapp-user-assigned-identity",
  "webapp-client-credentials",
  "no-secret-settings",
  "webapp-basic-auth-off",
  "fic-trusts-webapp-identity",
  "webapp-identity-matches-fic",
  "webapp-token-exchange-matches-fic",
  "appinsights-connection-string-entra-only",
];
const SLOT_CHECKS = [...WEB_APP_CHECKS, "slot-identity-matches-site", "slot-settings-differ-only-when-sticky"];
const ACA = "hosting containerApps";
/** The rules a container app answers to: its own, and the web-app rules that read an app host (shared.ts isAppHost). */
const CONTAINER_APP_CHECKS = [
  "containerapp-https-only",
  "containerapp-user-assigned-identity",
  "containerapp-registry-by-identity",
  "containerapp-no-secrets",
  "containerapp-image-own-registry",
  "webapp-client-credentials",
  "fic-trusts-webapp-identity",
  "webapp-identity-matches-fic",
  "webapp-token-exchange-matches-fic",
  "redirect-uris-own-host",
];

/** The allow-list. Order: providers and components, then by package and module. */
export const ALLOWED_TYPES: readonly AllowedType[] = [
  // The providers both programs use. Their inputs are an allow-list of their own (provider-settings-allowed).
  { type: "pulumi:providers:azure-native", stack: "both", when: always, checkedBy: ["provider-settings-allowed"] },
  { type: "pulumi:providers:azuread", stack: "both", when: always, checkedBy: ["provider-settings-allowed"] },
  {
    type: "pulumi:providers:command",
    stack: "main",
    when: `deployApp (default on), ${ADOPT_APP} or ${ADOPT_SITE}`,
    checkedBy: ["provider-settings-allowed"],
  },
  // The bootstrap's GitHub provider: `owner` only; the token comes from GITHUB_TOKEN at run time, never an input.
  {
    type: "pulumi:providers:github",
    stack: "bootstrap",
    when: GITHUB_TOKEN,
    checkedBy: ["provider-settings-allowed", "github-deploy-environment-protected"],
  },
  // The stacks and their component resources: logical groupings that create nothing in Azure themselves.
  { type: "pulumi:pulumi:Stack", stack: "both", when: always, checkedBy: [] },
  { type: "secretless:index:SecretlessWebApp", stack: "main", when: always, checkedBy: [] },
  { type: "secretless:index:ManagedIdentity", stack: "main", when: always, checkedBy: [] },
  { type: "secretless:index:EntraApplication", stack: "main", when: always, checkedBy: [] },
  { type: "secretless:index:LinuxWebApp", stack: "main", when: always, checkedBy: [] },
  { type: "secretless:index:AppDeployment", stack: "main", when: "deployApp (default on)", checkedBy: [] },
  { type: "secretless:index:SessionRedis", stack: "main", when: "scaleOut", checkedBy: [] },
  { type: "secretless:index:EasyAuth", stack: "main", when: "authMode easyAuth", checkedBy: [] },
  { type: "secretless:index:StagingSlot", stack: "main", when: SLOT, checkedBy: [] },
  { type: "secretless:index:AppRoles", stack: "main", when: ROLES, checkedBy: [] },
  { type: "secretless:index:ContainerAppHost", stack: "main", when: ACA, checkedBy: [] },
  { type: "secretless:index:LogWorkspace", stack: "main", when: TELEMETRY, checkedBy: [] },
  { type: "secretless:index:AppInsights", stack: "main", when: TELEMETRY, checkedBy: [] },
  { type: "secretless:index:AdoptedRegistration", stack: "main", when: ADOPT_APP, checkedBy: [] },
  { type: "secretless:index:AdoptedWebApp", stack: "main", when: ADOPT_SITE, checkedBy: [] },
  { type: "secretless:bootstrap:CiBootstrap", stack: "bootstrap", when: always, checkedBy: [] },
  { type: "secretless:bootstrap:GitHubActionsIdentity", stack: "bootstrap", when: always, checkedBy: [] },
  { type: "secretless:bootstrap:StateStore", stack: "bootstrap", when: always, checkedBy: [] },
  { type: "secretless:bootstrap:DeployEnvironment", stack: "bootstrap", when: GITHUB_TOKEN, checkedBy: [] },
  // Azure (azure-native v3, default modules).
  {
    type: "azure-native:resources:ResourceGroup",
    stack: "both",
    when: "main: unless resourceGroupName names an existing group",
    checkedBy: [],
  },
  {
    type: "azure-native:managedidentity:UserAssignedIdentity",
    stack: "both",
    when: always,
    checkedBy: ["fic-trust-allowed", "role-assignment-allowed"],
  },
  {
    type: "azure-native:managedidentity:FederatedIdentityCredential",
    stack: "bootstrap",
    when: always,
    checkedBy: ["fic-issuer", "fic-audience", "fic-subject", "fic-count", "fic-trust-allowed"],
  },
  { type: "azure-native:web:AppServicePlan", stack: "main", when: "unless existingPlanId", checkedBy: [] },
  {
    type: "azure-native:web:WebApp",
    stack: "main",
    when: always,
    checkedBy: WEB_APP_CHECKS,
  },
  { type: "azure-native:web:WebAppScmAllowed", stack: "main", when: always, checkedBy: ["webapp-basic-auth-off"] },
  { type: "azure-native:web:WebAppFtpAllowed", stack: "main", when: always, checkedBy: ["webapp-basic-auth-off"] },
  { type: "azure-native:web:WebAppDiagnosticLogsConfiguration", stack: "main", when: always, checkedBy: [] },
  {
    type: "azure-native:web:WebAppAuthSettingsV2WithoutSecrets",
    stack: "main",
    when: "authMode easyAuth",
    checkedBy: ["easy-auth-secretless", "easy-auth-identity-setting"],
  },
  // The staging slot: a web app to every web app rule (isWebApp), basic auth off through its …Slot policies.
  { type: "azure-native:web:WebAppSlot", stack: "main", when: SLOT, checkedBy: SLOT_CHECKS },
  { type: "azure-native:web:WebAppScmAllowedSlot", stack: "main", when: SLOT, checkedBy: ["webapp-basic-auth-off"] },
  { type: "azure-native:web:WebAppFtpAllowedSlot", stack: "main", when: SLOT, checkedBy: ["webapp-basic-auth-off"] },
  { type: "azure-native:web:WebAppDiagnosticLogsConfigurationSlot", stack: "main", when: SLOT, checkedBy: [] },
  {
    type: "azure-native:web:WebAppSlotConfigurationNames",
    stack: "main",
    when: `authMode easyAuth, or ${SLOT}`,
    checkedBy: ["slot-settings-differ-only-when-sticky"],
  },
  {
    type: "azure-native:redisenterprise:RedisEnterprise",
    stack: "main",
    when: "scaleOut",
    checkedBy: ["redis-tls-only"],
  },
  {
    type: "azure-native:redisenterprise:Database",
    stack: "main",
    when: "scaleOut",
    checkedBy: ["redis-no-access-keys", "redis-tls-only"],
  },
  {
    type: "azure-native:redisenterprise:AccessPolicyAssignment",
    stack: "main",
    when: "scaleOut",
    checkedBy: ["role-assignment-allowed"],
  },
  // Hosting on Container Apps: the app, its environment, its registry and the app identity's AcrPull on it.
  { type: "azure-native:app:ContainerApp", stack: "main", when: ACA, checkedBy: CONTAINER_APP_CHECKS },
  {
    type: "azure-native:app:ManagedEnvironment",
    stack: "main",
    when: ACA,
    checkedBy: ["managed-environment-no-shared-key"],
  },
  {
    type: "azure-native:containerregistry:Registry",
    stack: "main",
    when: ACA,
    checkedBy: ["registry-admin-off", "containerapp-image-own-registry"],
  },
  {
    type: "azure-native:storage:StorageAccount",
    stack: "bootstrap",
    when: always,
    checkedBy: ["storage-account-hardened"],
  },
  { type: "azure-native:storage:BlobContainer", stack: "bootstrap", when: always, checkedBy: ["data-stores-private"] },
  {
    type: "azure-native:storage:BlobServiceProperties",
    stack: "bootstrap",
    when: always,
    checkedBy: ["state-store-recoverable"],
  },
  { type: "azure-native:keyvault:Vault", stack: "bootstrap", when: always, checkedBy: ["data-stores-private"] },
  { type: "azure-native:keyvault:Key", stack: "bootstrap", when: always, checkedBy: [] },
  {
    type: "azure-native:authorization:RoleAssignment",
    stack: "both",
    when:
      `main: ${TELEMETRY} (Monitoring Metrics Publisher on the component), ${ACA} (AcrPull on the registry); ` +
      "bootstrap: always",
    checkedBy: ["role-assignment-scope", "role-assignment-principal-type", "role-assignment-allowed"],
  },
  // Telemetry: the Entra-only Log Analytics workspace and the diagnostic settings that send platform logs to it.
  {
    type: "azure-native:operationalinsights:Workspace",
    stack: "main",
    when: TELEMETRY,
    checkedBy: ["log-workspace-entra-only", "diagnostic-setting-own-workspace"],
  },
  {
    type: "azure-native:monitor:DiagnosticSetting",
    stack: "main",
    when: TELEMETRY,
    checkedBy: ["diagnostic-setting-own-workspace"],
  },
  {
    type: "azure-native:applicationinsights:Component",
    stack: "main",
    when: TELEMETRY,
    checkedBy: [
      "appinsights-entra-only",
      "appinsights-workspace-based",
      "appinsights-connection-string-entra-only",
      "role-assignment-allowed",
    ],
  },
  // Microsoft Entra ID (azuread v6).
  {
    type: "azuread:index/applicationRegistration:ApplicationRegistration",
    stack: "main",
    when: always,
    checkedBy: ["no-app-credential-inputs"],
  },
  {
    type: "azuread:index/servicePrincipal:ServicePrincipal",
    stack: "main",
    when: always,
    checkedBy: ["no-app-credential-inputs"],
  },
  {
    type: "azuread:index/applicationOwner:ApplicationOwner",
    stack: "both",
    when: "main: appOwnerObjectIds; bootstrap: appRegistrationObjectId",
    checkedBy: [],
  },
  {
    type: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
    stack: "main",
    when: always,
    checkedBy: [
      "fic-issuer",
      "fic-audience",
      "fic-subject",
      "fic-count",
      "fic-trust-allowed",
      "fic-trusts-webapp-identity",
    ],
  },
  {
    type: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
    stack: "main",
    when: always,
    checkedBy: ["redirect-uris-own-host"],
  },
  {
    type: "azuread:index/applicationApiAccess:ApplicationApiAccess",
    stack: "main",
    when: always,
    checkedBy: ["api-access-delegated-only"],
  },
  {
    type: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
    stack: "main",
    when: "grantAdminConsent",
    checkedBy: [],
  },
  {
    // The app's own roles for people; the roles assignments may name (role-assignment-allowed).
    type: "azuread:index/applicationAppRole:ApplicationAppRole",
    stack: "main",
    when: ROLES,
    checkedBy: ["app-roles-own-app", "role-assignment-allowed"],
  },
  {
    type: "azuread:index/appRoleAssignment:AppRoleAssignment",
    stack: "both",
    when:
      "main: appRoleAssignments (users and groups to the app's own roles); bootstrap: always (Microsoft Graph " +
      "permissions of the CI identities)",
    checkedBy: ["role-assignment-allowed"],
  },
  // The bootstrap's GitHub deploy environment (GitHub provider v6).
  {
    type: "github:index/repositoryEnvironment:RepositoryEnvironment",
    stack: "bootstrap",
    when: GITHUB_TOKEN,
    checkedBy: ["github-deploy-environment-protected"],
  },
  {
    type: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
    stack: "bootstrap",
    when: GITHUB_TOKEN,
    checkedBy: ["github-deploy-environment-protected"],
  },
  // The deploy step (az CLI + OneDeploy with an Entra token).
  {
    type: "command:local:Command",
    stack: "main",
    when: `deployApp (default on); ${ADOPT_APP} or ${ADOPT_SITE} (the adopt scripts)`,
    checkedBy: [
      "no-secret-command-inputs",
      "command-runs-project-script",
      "command-targets-own-resources",
      "adopt-scripts-own-chain",
    ],
  },
];

const ALLOWED = new Map(ALLOWED_TYPES.map((t) => [t.type, t]));

/**
 * Types refused whatever their inputs, with the reason: each can set what the other rules check, out of their sight.
 * Matched case-insensitively and across API-version modules, so `azure-native:Resources/v20240301:deployment` gets the
 * same reason (it is refused anyway, as an unknown token).
 */
/** Web app sub-resources that write settings, connection strings or site config beside the web app's own. */
// WebAppApplicationSettings, WebAppMetadata, …, WebAppSwiftVirtualNetworkConnection, WebAppPublishingCredentials…
const SETTINGS_WRITERS = [
  "Application",
  "Metadata",
  "ConnectionStrings",
  "SiteContainer",
  "SitePush",
  "Swift",
  "Publish",
];

export const REFUSED_TYPES: readonly { readonly pattern: RegExp; readonly why: string }[] = [
  {
    pattern: /^azure-native:resources(?:\/[^:]*)?:Deployment/i,
    why:
      "an ARM template deployment can create or change any resource with any setting (basic auth, TLS 1.0, FTP, " +
      "remote debugging, a client secret) where no rule sees it",
  },
  {
    pattern: /^azure-native:resources(?:\/[^:]*)?:(?:AzureCliScript|AzurePowerShellScript|DeploymentScript)/i,
    why: "a deployment script runs arbitrary code in Azure with a managed identity, out of every rule's sight",
  },
  {
    pattern: /^azure-native:web(?:\/[^:]*)?:WebApp(?:Auth|Authentication)Settings(?:Slot)?$/i,
    why:
      "App Service authentication settings v1 take a client secret inline; Easy Auth mode uses auth settings v2 " +
      "with the managed identity (WebAppAuthSettingsV2WithoutSecrets)",
  },
  {
    pattern: /^azure-native:web(?:\/[^:]*)?:WebAppAuthSettingsV2/i,
    why:
      "Easy Auth mode writes auth settings v2 through azure-native:web:WebAppAuthSettingsV2WithoutSecrets only " +
      "(another spelling, or a slot's, is a reviewed addition)",
  },
  {
    pattern: /^azure-native:web(?:\/[^:]*)?:(?:Certificate|.*Certificate)$/i,
    why: "an App Service certificate carries a PFX and its password",
  },
  {
    pattern: /^azure-native:web(?:\/[^:]*)?:WebAppBackupConfiguration/i,
    why: "a backup configuration holds a storage SAS URL (storageAccountUrl), a secret",
  },
  {
    pattern: new RegExp(`^azure-native:web(?:/[^:]*)?:WebApp(?:${SETTINGS_WRITERS.join("|")})`, "i"),
    why: "it replaces or adds web app settings outside the web app the rules check",
  },
  {
    pattern: /^pulumi-nodejs:dynamic:/i,
    why:
      "a dynamic provider runs its own code with the deployer's credentials, " +
      "and its serialized code is an input no rule can read",
  },
  {
    pattern: /^pulumi:pulumi:StackReference$/i,
    why: "a stack reference reads another stack's outputs, secrets included, into this one",
  },
  {
    pattern: /^pulumi:providers:/i,
    why: "a provider of another package brings resources and credentials this pack knows nothing about",
  },
];

export const resourceTypeAllowed: ResourceRule = resourceRule(
  "resource-type-allowed",
  "Only the resource types this project creates, each with its own rules, may be registered; anything else needs a " +
    "reviewed change to the pack.",
  () => true,
  (r) => {
    if (ALLOWED.has(r.type)) return [];
    const refused = REFUSED_TYPES.find((t) => t.pattern.test(r.type));
    const near = ALLOWED_TYPES.find((t) => versionless(t.type) === versionless(r.type));
    const hint = near
      ? ` It resembles the allowed type ${show(near.type)}: use that exact token (the default module, no other ` +
        `casing or alias).`
      : "";
    return [
      `${r.type} "${r.name}" is not a resource type this pack ` +
        `allows${refused ? `: ${refused.why}` : ""}.${hint} Fix: remove it. To add a type, make a reviewed change to ` +
        `policy/rules/allow-list.ts that adds it with its own rules (policy/README.md, "Extending the allow-list").`,
    ];
  },
);

/** A type token without its API-version module, lower-cased: `azure-native:web/v20240401:WebApp` → `…:webapp`. */
function versionless(type: string): string {
  const [pkg = "", module = "", name = ""] = type.toLowerCase().split(":");
  return `${pkg}:${module.split("/")[0]}:${name}`;
}
