import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { EASY_AUTH_RULE_NAMES } from "../../policy/rules/easy-auth";
import { CONTAINER_APP_RULE_NAMES } from "../../policy/rules/container-apps";
import { ADOPT_RULE_NAMES } from "../../policy/rules/adopt";
import {
  GITHUB_ISSUER,
  GITHUB_SUBJECT,
  MAX_FICS_PER_PARENT,
  findSecrets,
  rules,
  secretName,
  secretValue,
} from "../../policy/rules";
import { AzureAdSetting } from "../../contract/settings";
import { TelemetrySetting } from "../../contract/telemetry";
import { type RegisteredResource, SUBSCRIPTION_ID, T, TENANT_ID, guidFrom } from "../../offline/azure-mocks";
import { PACK_CONTEXT, bootstrapLike, handMade, planMainStack } from "../support/policy";
import { REPO } from "../support/repo";

/**
 * Every guardrail passes on this project's own main stack (the real program under the offline mocks) plus compliant
 * resources of the kinds the CI bootstrap and the deploy step add, and fails — with its message — on deliberately
 * broken variants of them: at least one per rule.
 */

let mainStack: RegisteredResource[];
beforeAll(async () => {
  mainStack = await planMainStack({ telemetry: "true" });
});

/** A fresh, deep copy of the compliant plan, so each variant breaks its own. */
const compliant = (): RegisteredResource[] =>
  structuredClone([...mainStack, ...appRoles(mainStack), ...bootstrapLike()]);

/**
 * App roles as components/app-roles.ts declares them (branch `roles`): a role on the stack's registration and a user
 * assigned to it on the stack's service principal. Named apart from the program's own (Admin, Reader), so the
 * variants below break these whether or not the program declares roles too.
 */
function appRoles(rs: RegisteredResource[]): RegisteredResource[] {
  const app = one(rs, T.app);
  const sp = one(rs, T.sp);
  const roleId = guidFrom("handmade-app-role:Auditor");
  return [
    handMade(APP_ROLE, "handmade-role-Auditor", {
      applicationId: app.id,
      roleId,
      value: "Auditor",
      displayName: "Auditor",
      description: "Reads the audit log.",
      allowedMemberTypes: ["User"],
    }),
    handMade(APP_ROLE_ASSIGNMENT, "handmade-user-1-Auditor", {
      appRoleId: roleId,
      principalObjectId: guidFrom("user-1"),
      resourceObjectId: sp.state.objectId,
    }),
  ];
}
const APP_ROLE = "azuread:index/applicationAppRole:ApplicationAppRole";
const APP_ROLE_ASSIGNMENT = "azuread:index/appRoleAssignment:AppRoleAssignment";
const blobService = (rs: RegisteredResource[]) => one(rs, "azure-native:storage:BlobServiceProperties");
const ghEnvironment = (rs: RegisteredResource[]) => one(rs, "github:index/repositoryEnvironment:RepositoryEnvironment");
const ghBranchPolicy = (rs: RegisteredResource[]) =>
  one(rs, "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy");

const one = (rs: RegisteredResource[], type: string, name?: string): RegisteredResource => {
  const found = rs.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
};

/** Changes a resource's inputs and state together, as the mocks record them. */
const edit = (r: RegisteredResource, change: (props: Record<string, any>) => void) => {
  change(r.inputs);
  change(r.state);
};

const site = (rs: RegisteredResource[]) => one(rs, T.site);
const setSetting = (rs: RegisteredResource[], name: string, value: string | undefined) =>
  edit(site(rs), (p) => {
    const list = (p.siteConfig.appSettings as { name: string; value: string }[]).filter((s) => s.name !== name);
    p.siteConfig.appSettings = value === undefined ? list : [...list, { name, value }];
  });
const settingsOfSite = (rs: RegisteredResource[]): Record<string, string> =>
  Object.fromEntries(
    (site(rs).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]),
  );
const ciFic = (rs: RegisteredResource[]) => one(rs, "azure-native:managedidentity:FederatedIdentityCredential");
/** The hand-made CI identity's role assignment (the main stack has its own, the telemetry publisher). */
const roleAssignment = (rs: RegisteredResource[]) =>
  one(rs, "azure-native:authorization:RoleAssignment", "ci-deployer-contributor");
const storage = (rs: RegisteredResource[]) => one(rs, "azure-native:storage:StorageAccount");
/**
 * A compliant staging slot of the main stack's site (the site's identity, settings and basic auth off), changed by
 * `tweak`.
 */
const addSlot = (rs: RegisteredResource[], tweak: (slot: Record<string, any>) => void) => {
  const { name, resourceGroupName } = site(rs).inputs;
  const inputs = { ...structuredClone(site(rs).inputs), slot: "staging" };
  tweak(inputs);
  rs.push(handMade(T.slot, "staging-slot", inputs));
  for (const type of [T.slotScm, T.slotFtp])
    rs.push(handMade(type, `staging-${type.slice(-11)}`, { resourceGroupName, name, slot: "staging", allow: false }));
};
/** The main stack's own deploy step: the command that pushes the zip. */
const command = (rs: RegisteredResource[]) => one(rs, "command:local:Command", "secretless-app-deploy");

/** The connection string of an Application Insights component this stack does not create. */
const FOREIGN_CONNECTION_STRING =
  `InstrumentationKey=${guidFrom("foreign-key")};` +
  "IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/";
/** A resource group this stack neither creates nor deploys into. */
const OTHER_GROUP = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-elsewhere`;

interface Variant {
  /** The rule this variant breaks. */
  rule: string;
  /** What is broken. */
  broken: string;
  break(rs: RegisteredResource[]): void;
  /** The message the rule must report. */
  message: RegExp;
  /** Other rules the same break also trips, by design. */
  alsoTrips?: string[];
}

const variants: Variant[] = [
  {
    rule: "state-store-recoverable",
    broken: "blob versioning off on the state account",
    break: (rs) => edit(blobService(rs), (p) => (p.isVersioningEnabled = false)),
    message: new RegExp(
      'BlobServiceProperties "state-blob-service" has ' +
        "isVersioningEnabled false: an overwritten checkpoint " +
        String.raw`is lost\. Fix: set isVersioningEnabled: true\.`,
    ),
  },
  {
    rule: "state-store-recoverable",
    broken: "blob soft delete off",
    break: (rs) => edit(blobService(rs), (p) => (p.deleteRetentionPolicy = { enabled: false })),
    message: new RegExp(
      String.raw`has deleteRetentionPolicy \{"enabled":false\}: a deleted checkpoint cannot be brought back\. Fix: ` +
        "set deleteRetentionPolicy",
    ),
  },
  {
    rule: "state-store-recoverable",
    broken: "blob soft delete kept one day only",
    break: (rs) => edit(blobService(rs), (p) => (p.deleteRetentionPolicy.days = 1)),
    message: /has deleteRetentionPolicy .*"days":1.*at least 7/,
  },
  {
    rule: "state-store-recoverable",
    broken: "soft-deleted checkpoints purgeable early (allowPermanentDelete)",
    break: (rs) => edit(blobService(rs), (p) => (p.deleteRetentionPolicy.allowPermanentDelete = true)),
    message: /deleteRetentionPolicy\.allowPermanentDelete true: .*Fix: set allowPermanentDelete: false\./,
  },
  {
    rule: "state-store-recoverable",
    broken: "no container soft delete",
    break: (rs) => edit(blobService(rs), (p) => delete p.containerDeleteRetentionPolicy),
    message: new RegExp(
      "has containerDeleteRetentionPolicy unset: deleting the " +
        "state container deletes every stack's state " +
        "for good",
    ),
  },
  {
    rule: "app-roles-own-app",
    broken: "an app role on another app's registration",
    break: (rs) =>
      edit(
        one(rs, APP_ROLE, "handmade-role-Auditor"),
        (p) => (p.applicationId = `/applications/${guidFrom("someone-elses-app")}`),
      ),
    message: new RegExp(
      String.raw`ApplicationAppRole "handmade-role-Auditor" adds a role to application "\/applications\/[^"]+", ` +
        "which " +
        "this stack does not create",
    ),
  },
  {
    rule: "app-roles-own-app",
    broken: "an app role other applications can hold (allowedMemberTypes Application)",
    break: (rs) =>
      edit(one(rs, APP_ROLE, "handmade-role-Auditor"), (p) => (p.allowedMemberTypes = ["User", "Application"])),
    message: /has allowedMemberTypes \["User","Application"\]: an "Application" role is an application permission/,
    // The user's assignment of that role is refused too.
    alsoTrips: ["role-assignment-allowed"],
  },
  {
    rule: "role-assignment-allowed",
    broken: "an assignment on the app's service principal to a role the app does not declare",
    break: (rs) =>
      edit(one(rs, APP_ROLE_ASSIGNMENT, "handmade-user-1-Auditor"), (p) => (p.appRoleId = guidFrom("app-role:Owner"))),
    message: new RegExp(
      'AppRoleAssignment "handmade-user-1-Auditor" assigns role ' +
        '"[^"]+" to "[^"]+", which is neither a ' +
        String.raw`CI identity of this stack nor assigned one of this stack's own app roles\. Fix: remove it\.`,
    ),
  },
  {
    rule: "role-assignment-allowed",
    broken: "the app's own role ID assigned on another service principal (Microsoft Graph's)",
    break: (rs) =>
      edit(
        one(rs, APP_ROLE_ASSIGNMENT, "handmade-user-1-Auditor"),
        (p) => (p.resourceObjectId = guidFrom("graph:sp-object")),
      ),
    message: new RegExp(
      'AppRoleAssignment "handmade-user-1-Auditor" is made on ' +
        'service principal "[^"]+", which is not the ' +
        "service principal of an app registration of this stack",
    ),
  },
  {
    rule: "github-deploy-environment-protected",
    broken: "admins may bypass the deploy environment's rules",
    break: (rs) => edit(ghEnvironment(rs), (p) => (p.canAdminsBypass = true)),
    message: /RepositoryEnvironment "ci-environment" has canAdminsBypass true .*Fix: set canAdminsBypass: false\./,
  },
  {
    rule: "github-deploy-environment-protected",
    broken: "protected branches instead of custom branch policies",
    break: (rs) =>
      edit(
        ghEnvironment(rs),
        (p) => (p.deploymentBranchPolicy = { protectedBranches: true, customBranchPolicies: false }),
      ),
    message: new RegExp(
      String.raw`has deploymentBranchPolicy .*Fix: set deploymentBranchPolicy: \{ protectedBranches: false, ` +
        "customBranchPolicies: " +
        String.raw`true \}`,
    ),
  },
  {
    rule: "github-deploy-environment-protected",
    broken: "a deployment policy admitting every branch",
    break: (rs) => edit(ghBranchPolicy(rs), (p) => (p.branchPattern = "*")),
    message: new RegExp(
      String.raw`RepositoryEnvironmentDeploymentPolicy "ci-main-only" admits branch pattern "\*".*Fix: set ` +
        "branchPattern: " +
        String.raw`"main" \(exactly\)`,
    ),
  },
  {
    rule: "github-deploy-environment-protected",
    broken: "the protected environment is not the one the deploy identity trusts",
    break: (rs) => {
      for (const r of [ghEnvironment(rs), ghBranchPolicy(rs)]) edit(r, (p) => (p.environment = "staging"));
    },
    message: /protects environment "staging", which no CI identity of this stack trusts \("production"\)/,
  },
  {
    rule: "provider-settings-allowed",
    broken: "a token on the GitHub provider",
    break: (rs) => edit(one(rs, "pulumi:providers:github"), (p) => (p.token = "ghp_exampleexampleexampleexample0000")),
    message: new RegExp(
      String.raw`Provider "ci-github" \(pulumi:providers:github\) sets "token", which is not an allowed provider ` +
        String.raw`setting \(version, owner\)`,
    ),
    alsoTrips: ["no-secret-inputs"],
  },
  {
    rule: "no-app-credential-resources",
    broken: "a client secret on the app registration",
    break: (rs) =>
      rs.push(
        handMade("azuread:index/applicationPassword:ApplicationPassword", "app-secret", {
          applicationId: one(rs, T.app).id,
          displayName: "ci",
        }),
      ),
    message: new RegExp(
      'ApplicationPassword "app-secret" gives an app registration or ' +
        "service principal a secret or certificate " +
        String.raw`credential\. Fix: delete it`,
    ),
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "no-app-credential-resources",
    broken: "a certificate on the service principal",
    break: (rs) =>
      rs.push(
        handMade("azuread:index/servicePrincipalCertificate:ServicePrincipalCertificate", "sp-cert", {
          servicePrincipalId: one(rs, T.sp).id,
          type: "AsymmetricX509Cert",
          value: "MIIC",
        }),
      ),
    message: /ServicePrincipalCertificate "sp-cert" gives .* credential/,
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "no-app-credential-resources",
    broken: "a SAML token-signing certificate",
    break: (rs) =>
      rs.push(
        handMade(
          "azuread:index/servicePrincipalTokenSigningCertificate:ServicePrincipalTokenSigningCertificate",
          "saml-cert",
          { servicePrincipalId: "x" },
        ),
      ),
    message: /ServicePrincipalTokenSigningCertificate "saml-cert"/,
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "no-app-credential-inputs",
    broken: "an inline password on an azuread Application",
    break: (rs) =>
      rs.push(
        handMade("azuread:index/application:Application", "legacy-app", {
          displayName: "legacy",
          password: { displayName: "generated" },
        }),
      ),
    message: /Application "legacy-app" sets "password", a secret or certificate credential\. Fix: remove "password"/,
    alsoTrips: ["resource-type-allowed", "no-secret-inputs"],
  },
  {
    rule: "no-app-credential-inputs",
    broken: "keyCredentials on a Graph service principal",
    break: (rs) =>
      rs.push(
        handMade("msgraph:applications:ServicePrincipal", "graph-sp", {
          appId: guidFrom("x"),
          keyCredentials: [{ type: "AsymmetricX509Cert", key: "MIIC" }],
        }),
      ),
    message: /ServicePrincipal "graph-sp" sets "keyCredentials"/,
    alsoTrips: ["resource-type-allowed", "no-secret-inputs"],
  },
  {
    rule: "no-app-credential-inputs",
    broken: "passwordCredentials on a Graph application",
    break: (rs) =>
      rs.push(
        handMade("msgraph:applications:Application", "graph-app", {
          displayName: "g",
          passwordCredentials: [{ displayName: "s" }],
        }),
      ),
    message: /Application "graph-app" sets "passwordCredentials"/,
    alsoTrips: ["resource-type-allowed", "no-secret-inputs"],
  },
  {
    rule: "fic-issuer",
    broken: "the web app FIC's issuer without /v2.0",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.issuer = `https://login.microsoftonline.com/${TENANT_ID}/`)),
    message: new RegExp(
      'ApplicationFederatedIdentityCredential "secretless-entra-fic" trusts issuer ' +
        String.raw`"https:\/\/login\.microsoftonline\.com\/00000000-0000-4000-8000-00000000feed\/"\. ` +
        String.raw`Fix: for a managed identity use "\{instance\}\{tenant GUID\}\/v2\.0" with instance one of ` +
        String.raw`https:\/\/login\.microsoftonline\.com\/, ` +
        String.raw`https:\/\/login\.microsoftonline\.us\/, https:\/\/login\.chinacloudapi\.cn\/`,
    ),
  },
  {
    rule: "fic-issuer",
    broken: "the v1 sts.windows.net issuer",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.issuer = `https://sts.windows.net/${TENANT_ID}/`)),
    message: /trusts issuer "https:\/\/sts\.windows\.net\//,
  },
  {
    rule: "fic-issuer",
    broken: "a tenant name instead of a tenant GUID",
    break: (rs) =>
      edit(one(rs, T.fic), (p) => (p.issuer = "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0")),
    message: /trusts issuer "https:\/\/login\.microsoftonline\.com\/contoso\.onmicrosoft\.com\/v2\.0"/,
  },
  {
    rule: "fic-issuer",
    broken: "a CI identity trusting another OIDC issuer",
    break: (rs) => edit(ciFic(rs), (p) => (p.issuer = "https://gitlab.com")),
    message: new RegExp(
      String.raw`FederatedIdentityCredential "ci-deployer-production" trusts issuer "https:\/\/gitlab\.com"\. .*for ` +
        String.raw`a GitHub Actions identity use "https:\/\/token\.actions\.githubusercontent\.com"`,
    ),
    alsoTrips: ["fic-trust-allowed", "role-assignment-allowed", "github-deploy-environment-protected"],
  },
  {
    rule: "fic-audience",
    broken: "two audiences",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.audiences = ["api://AzureADTokenExchange", "api://other"])),
    message: new RegExp(
      String.raw`has audiences \["api:\/\/AzureADTokenExchange","api:\/\/other"\]; it must have exactly one\. Fix: ` +
        String.raw`set audiences to \["api:\/\/AzureADTokenExchange"\]`,
    ),
  },
  {
    rule: "fic-audience",
    broken: "the US Government audience with a public-cloud issuer",
    break: (rs) => {
      edit(one(rs, T.fic), (p) => (p.audiences = ["api://AzureADTokenExchangeUSGov"]));
      setSetting(rs, AzureAdSetting.TokenExchangeUrl, "api://AzureADTokenExchangeUSGov");
    },
    message: new RegExp(
      String.raw`accepts audience "api:\/\/AzureADTokenExchangeUSGov", not the public cloud's token-exchange ` +
        String.raw`audience\. ` +
        String.raw`Fix: set audiences to \["api:\/\/AzureADTokenExchange"\]`,
    ),
  },
  {
    rule: "fic-audience",
    broken: "no audience on a CI identity's FIC",
    break: (rs) => edit(ciFic(rs), (p) => (p.audiences = [])),
    message: /FederatedIdentityCredential "ci-deployer-production" has audiences \[\]; it must have exactly one/,
  },
  {
    rule: "fic-subject",
    broken: "a managed identity's name as the subject",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.subject = "secretless-identity")),
    message: new RegExp(
      String.raw`trusts subject "secretless-identity", which is not a GUID\. Fix: set subject to the managed ` +
        "identity's " +
        "principal ID",
    ),
    alsoTrips: ["fic-trusts-webapp-identity", "fic-trust-allowed"],
  },
  {
    rule: "fic-subject",
    broken: "a wildcard GitHub subject",
    break: (rs) => edit(ciFic(rs), (p) => (p.subject = "repo:contoso/*")),
    message: /trusts GitHub subject "repo:contoso\/\*"\. Fix: use "repo:OWNER\/REPO:environment:NAME"/,
    // The GitHub deploy environment then protects an environment no CI identity trusts.
    alsoTrips: ["github-deploy-environment-protected"],
  },
  {
    rule: "fic-subject",
    broken: "a GitHub subject without the repo: prefix",
    break: (rs) => edit(ciFic(rs), (p) => (p.subject = "contoso/secretless-signin:ref:refs/heads/main")),
    message: /trusts GitHub subject "contoso\/secretless-signin:ref:refs\/heads\/main"/,
    // The GitHub deploy environment then protects an environment no CI identity trusts.
    alsoTrips: ["github-deploy-environment-protected"],
  },
  {
    rule: "webapp-runtime-allowed",
    broken: "a custom container image instead of a runtime stack of the catalogue",
    break: (rs) => edit(site(rs), (p) => (p.siteConfig.linuxFxVersion = "DOCKER|contoso.azurecr.io/app:latest")),
    message: /WebApp "secretless-web-site" has siteConfig\.linuxFxVersion "DOCKER\|contoso\.azurecr\.io\/app:latest"/,
  },
  {
    rule: "webapp-https-only",
    broken: "HTTP allowed",
    break: (rs) => edit(site(rs), (p) => (p.httpsOnly = false)),
    message: /WebApp "secretless-web-site" has httpsOnly false\. Fix: set httpsOnly: true\./,
  },
  {
    rule: "webapp-min-tls",
    broken: "TLS 1.0 on the site",
    break: (rs) => edit(site(rs), (p) => (p.siteConfig.minTlsVersion = "1.0")),
    message: new RegExp(
      String.raw`WebApp "secretless-web-site" has siteConfig\.minTlsVersion "1\.0"\. Fix: set ` +
        String.raw`siteConfig\.minTlsVersion: ` +
        String.raw`"1\.2"`,
    ),
  },
  {
    rule: "webapp-min-tls",
    broken: "TLS 1.1 on SCM",
    break: (rs) => edit(site(rs), (p) => (p.siteConfig.scmMinTlsVersion = "1.1")),
    message: /has siteConfig\.scmMinTlsVersion "1\.1"\. Fix: set siteConfig\.scmMinTlsVersion: "1\.2"/,
  },
  {
    rule: "webapp-min-tls",
    broken: "no SCM minimum at all",
    break: (rs) => edit(site(rs), (p) => delete p.siteConfig.scmMinTlsVersion),
    message: /has siteConfig\.scmMinTlsVersion unset/,
  },
  {
    rule: "webapp-ftps-disabled",
    broken: "FTPS allowed",
    break: (rs) => edit(site(rs), (p) => (p.siteConfig.ftpsState = "FtpsOnly")),
    message: /has siteConfig\.ftpsState "FtpsOnly"\. Fix: set siteConfig\.ftpsState: "Disabled"/,
  },
  {
    rule: "webapp-remote-debugging-off",
    broken: "remote debugging on",
    break: (rs) => edit(site(rs), (p) => (p.siteConfig.remoteDebuggingEnabled = true)),
    message: /has siteConfig\.remoteDebuggingEnabled true\. Fix: set siteConfig\.remoteDebuggingEnabled: false\./,
  },
  {
    rule: "webapp-user-assigned-identity",
    broken: "a system-assigned identity only",
    break: (rs) => edit(site(rs), (p) => (p.identity = { type: "SystemAssigned" })),
    message: new RegExp(
      String.raw`WebApp "secretless-web-site" wears no user-assigned managed identity .*Fix: set identity: \{ type: ` +
        '"UserAssigned"',
    ),
    // Its telemetry then names an identity it no longer wears, and that identity's publisher role serves no web app.
    alsoTrips: [
      "fic-trusts-webapp-identity",
      "fic-trust-allowed",
      "appinsights-connection-string-entra-only",
      "role-assignment-allowed",
    ],
  },
  {
    rule: "webapp-client-credentials",
    broken: "a client secret as the credential source",
    break: (rs) => setSetting(rs, AzureAdSetting.SourceType, "ClientSecret"),
    message: new RegExp(
      String.raw`has AzureAd__ClientCredentials__0__SourceType "ClientSecret"\. Fix: set it to ` +
        '"SignedAssertionFromManagedIdentity"',
    ),
  },
  {
    rule: "webapp-client-credentials",
    broken: "no ManagedIdentityClientId",
    break: (rs) => setSetting(rs, AzureAdSetting.ManagedIdentityClientId, undefined),
    message: new RegExp(
      String.raw`has AzureAd__ClientCredentials__0__ManagedIdentityClientId unset\. Fix: set it to the client ID ` +
        String.raw`\(a GUID\)`,
    ),
    alsoTrips: ["webapp-identity-matches-fic"],
  },
  {
    rule: "webapp-client-credentials",
    broken: "an unknown TokenExchangeUrl",
    break: (rs) => setSetting(rs, AzureAdSetting.TokenExchangeUrl, "api://AzureADTokenExchange/"),
    message: new RegExp(
      String.raw`has AzureAd__ClientCredentials__0__TokenExchangeUrl "api:\/\/AzureADTokenExchange\/"\. Fix: set ` +
        "it to the FIC's audience",
    ),
    alsoTrips: ["webapp-token-exchange-matches-fic"],
  },
  {
    rule: "webapp-client-credentials",
    broken: "no client credential settings at all",
    break: (rs) => {
      for (const name of [
        AzureAdSetting.SourceType,
        AzureAdSetting.ManagedIdentityClientId,
        AzureAdSetting.TokenExchangeUrl,
      ])
        setSetting(rs, name, undefined);
    },
    message: /signs in as AzureAd__ClientId but has no client credential settings/,
    alsoTrips: ["webapp-identity-matches-fic", "webapp-token-exchange-matches-fic"],
  },
  {
    rule: "no-secret-settings",
    broken: "AzureAd__ClientSecret in the app settings",
    break: (rs) => setSetting(rs, "AzureAd__ClientSecret", "n0t-a-real-secret"),
    message: new RegExp(
      'WebApp "secretless-web-site" has app setting ' +
        '"AzureAd__ClientSecret" that looks like a secret: its ' +
        String.raw`name contains "secret"\. Fix: remove it`,
    ),
  },
  {
    rule: "no-secret-settings",
    broken: "a storage connection string with an account key",
    break: (rs) =>
      setSetting(
        rs,
        "AzureWebJobsStorage",
        "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=abc==;EndpointSuffix=core.windows.net",
      ),
    message: new RegExp(
      'app setting "AzureWebJobsStorage" that looks like a secret: ' +
        "its value looks like a storage or service " +
        String.raw`account key \(AccountKey=\)`,
    ),
  },
  {
    rule: "no-secret-settings",
    broken: "a JWT pasted into a setting",
    break: (rs) => setSetting(rs, "BOOTSTRAP", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl"),
    message: /app setting "BOOTSTRAP" .*its value looks like a JWT/,
  },
  {
    rule: "no-secret-settings",
    broken: "an API key setting",
    break: (rs) => setSetting(rs, "Upstream__ApiKey", "abc"),
    message: /app setting "Upstream__ApiKey" .*its name contains "apikey"/,
  },
  {
    rule: "no-secret-settings",
    broken: "a WebAppApplicationSettings resource with a password",
    break: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppApplicationSettings", "extra-settings", {
          name: "secretless-signin-dev",
          resourceGroupName: "rg",
          properties: { DB_PASSWORD: "hunter2" },
        }),
      ),
    message: new RegExp(
      'WebAppApplicationSettings "extra-settings" has app setting ' +
        '"DB_PASSWORD" that looks like a secret: ' +
        'its name contains "password"',
    ),
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "no-secret-settings",
    broken: "a WebAppConnectionStrings resource with a SQL password",
    break: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppConnectionStrings", "conn", {
          name: "secretless-signin-dev",
          resourceGroupName: "rg",
          properties: { Db: { value: "Server=tcp:x;Database=y;User ID=u;Password=p", type: "SQLAzure" } },
        }),
      ),
    message: new RegExp(
      'WebAppConnectionStrings "conn" has connection string "Db" ' +
        "that looks like a secret: its value looks " +
        String.raw`like a password \(Password=\)`,
    ),
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "no-secret-settings",
    broken: "a SAS URL in siteConfig.connectionStrings",
    break: (rs) =>
      edit(
        site(rs),
        (p) =>
          (p.siteConfig.connectionStrings = [
            { name: "Blob", connectionString: "https://x.blob.core.windows.net/c?sv=2024&sig=abc", type: "Custom" },
          ]),
      ),
    message: /has connection string "Blob" that looks like a secret: its value looks like a SAS token \(sig=\)/,
  },
  {
    rule: "no-secret-command-inputs",
    broken: "a password in the deploy command's environment",
    break: (rs) => edit(command(rs), (p) => (p.environment.DEPLOY_PASSWORD = "hunter2")),
    message: new RegExp(
      String.raw`Command "secretless-app-deploy" has input "environment\.DEPLOY_PASSWORD" that looks like a secret: ` +
        'its name contains "password"',
    ),
    // deploy/one-deploy.ts reads no such variable either.
    alsoTrips: ["command-runs-project-script"],
  },
  {
    rule: "command-targets-own-resources",
    broken: "the deploy step pushing the zip (and the deployer's token) to another site's Kudu",
    break: (rs) => edit(command(rs), (p) => (p.environment.DEPLOY_SCM_HOST = "someone-else.scm.azurewebsites.net")),
    message: new RegExp(
      '^Command "secretless-app-deploy" sends the deployer\'s token to DEPLOY_SCM_HOST ' +
        '"someone-else\\.scm\\.azurewebsites\\.net"',
    ),
  },
  {
    rule: "no-secret-command-inputs",
    broken: "a SAS URL in the deploy command",
    break: (rs) =>
      edit(
        command(rs),
        (p) =>
          (p.create = "az storage blob upload --blob-url 'https://x.blob.core.windows.net/c/app.zip?sv=2024&sig=abc'"),
      ),
    message: new RegExp(
      'Command "secretless-app-deploy" has input "create" that ' +
        "looks like a secret: its value looks like " +
        String.raw`a SAS token \(sig=\)\. Fix: remove it; .*sign in with a workload identity`,
    ),
    alsoTrips: ["command-runs-project-script"],
  },
  {
    rule: "storage-account-hardened",
    broken: "shared-key access on",
    break: (rs) => edit(storage(rs), (p) => (p.allowSharedKeyAccess = true)),
    message: new RegExp(
      String.raw`StorageAccount "state" has allowSharedKeyAccess true \(account keys and SAS work\)\. Fix: set ` +
        "allowSharedKeyAccess: " +
        "false",
    ),
  },
  {
    rule: "storage-account-hardened",
    broken: "shared-key access left to the default",
    break: (rs) => edit(storage(rs), (p) => delete p.allowSharedKeyAccess),
    message: /StorageAccount "state" has allowSharedKeyAccess unset/,
  },
  {
    rule: "storage-account-hardened",
    broken: "public blob access on",
    break: (rs) => edit(storage(rs), (p) => (p.allowBlobPublicAccess = true)),
    message: /has allowBlobPublicAccess true\. Fix: set allowBlobPublicAccess: false\./,
  },
  {
    rule: "storage-account-hardened",
    broken: "TLS 1.0",
    break: (rs) => edit(storage(rs), (p) => (p.minimumTlsVersion = "TLS1_0")),
    message: /has minimumTlsVersion "TLS1_0"\. Fix: set minimumTlsVersion: "TLS1_2"\./,
  },
  {
    rule: "role-assignment-scope",
    broken: "a subscription scope",
    break: (rs) => edit(roleAssignment(rs), (p) => (p.scope = `/subscriptions/${SUBSCRIPTION_ID}`)),
    message: new RegExp(
      String.raw`RoleAssignment "ci-deployer-contributor" has scope "\/subscriptions\/8c1d9f4e-[^"]*", wider than ` +
        String.raw`a resource group\. Fix: scope it to the resource group`,
    ),
  },
  {
    rule: "role-assignment-scope",
    broken: "a management-group scope",
    break: (rs) =>
      edit(roleAssignment(rs), (p) => (p.scope = "/providers/Microsoft.Management/managementGroups/contoso")),
    message: /has scope "\/providers\/Microsoft\.Management\/managementGroups\/contoso", wider than a resource group/,
  },
  {
    rule: "role-assignment-principal-type",
    broken: "no principalType",
    break: (rs) => edit(roleAssignment(rs), (p) => delete p.principalType),
    message: new RegExp(
      String.raw`RoleAssignment "ci-deployer-contributor" has principalType unset\. Fix: set principalType, e\.g\. ` +
        '"ServicePrincipal"',
    ),
  },
  {
    rule: "webapp-basic-auth-off",
    broken: "SCM basic auth allowed",
    break: (rs) => edit(one(rs, T.scm), (p) => (p.allow = true)),
    message: new RegExp(
      'WebAppScmAllowed "secretless-web-scm-basic-auth" sets allow ' +
        'true for WebApp "secretless-web-site": ' +
        String.raw`SCM basic-auth publishing credentials work\. Fix: set allow: false\.`,
    ),
  },
  {
    rule: "webapp-basic-auth-off",
    broken: "no FTP publishing policy",
    break: (rs) => rs.splice(rs.indexOf(one(rs, T.ftp)), 1),
    message: new RegExp(
      'WebApp "secretless-web-site" leaves FTP basic-auth ' +
        "publishing on: no WebAppFtpAllowed resource turns " +
        String.raw`it off\. Fix: add web\.WebAppFtpAllowed`,
    ),
  },
  {
    rule: "webapp-basic-auth-off",
    broken: "the SCM policy aimed at another site",
    break: (rs) => edit(one(rs, T.scm), (p) => (p.name = "some-other-site")),
    message: /leaves SCM basic-auth publishing on: no WebAppScmAllowed resource turns it off/,
  },
  {
    rule: "fic-count",
    broken: `${MAX_FICS_PER_PARENT + 1} FICs on the CI identity`,
    break: (rs) => {
      const fic = ciFic(rs);
      for (let i = 0; i < MAX_FICS_PER_PARENT; i++) {
        rs.push(
          handMade(fic.type, `ci-deployer-branch-${i}`, {
            ...fic.inputs,
            subject: `repo:contoso/secretless-signin:ref:refs/heads/b${i}`,
          }),
        );
      }
    },
    message: /identity rg-ci\/ci-deployer has 21 federated identity credentials; Entra allows 20\. Fix: remove 1/,
  },
  {
    rule: "fic-trusts-webapp-identity",
    broken: "the identity's client ID as the FIC subject",
    break: (rs) =>
      edit(one(rs, T.fic), (p) => (p.subject = one(rs, T.uami, "secretless-identity-uami").state.clientId)),
    message: new RegExp(
      'ApplicationFederatedIdentityCredential "secretless-entra-fic" on ' +
        'ApplicationRegistration "secretless-entra-app" ' +
        'trusts subject "[0-9a-f-]{36}", which is not the principal ID of an identity WebApp "secretless-web-site" ' +
        String.raw`wears .* That is the identity's client ID; a FIC's subject is its principal \(object\) ID\.`,
    ),
    alsoTrips: ["fic-trust-allowed"],
  },
  {
    rule: "fic-trusts-webapp-identity",
    broken: "the CI identity's principal as the sign-in app's FIC subject",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.subject = one(rs, T.uami, "ci-deployer").state.principalId)),
    message: new RegExp(
      'trusts subject "[0-9a-f-]{36}", which is not the principal ID ' +
        'of an identity WebApp "secretless-web-site" ' +
        "wears",
    ),
    alsoTrips: ["fic-trust-allowed"],
  },
  {
    rule: "fic-trusts-webapp-identity",
    broken: "no FIC on the sign-in app",
    break: (rs) => rs.splice(rs.indexOf(one(rs, T.fic)), 1),
    message: new RegExp(
      'ApplicationRegistration "secretless-entra-app", which ' +
        'WebApp "secretless-web-site" signs in as, ' +
        String.raw`has no federated identity credential, so sign-in fails \(AADSTS70021\)`,
    ),
  },
  {
    rule: "fic-trusts-webapp-identity",
    broken: "a GitHub FIC added to the sign-in app",
    break: (rs) =>
      rs.push(
        handMade(T.fic, "sign-in-app-github", {
          ...one(rs, T.fic).inputs,
          issuer: GITHUB_ISSUER,
          subject: "repo:contoso/secretless-signin:environment:production",
        }),
      ),
    message: new RegExp(
      '"sign-in-app-github" on ApplicationRegistration "secretless-entra-app" trusts subject ' +
        String.raw`"repo:contoso\/secretless-signin:environment:production", ` +
        "which is not the principal ID",
    ),
    alsoTrips: ["fic-trust-allowed"],
  },
  {
    rule: "webapp-identity-matches-fic",
    broken: "the identity's principal ID as ManagedIdentityClientId",
    break: (rs) =>
      setSetting(
        rs,
        AzureAdSetting.ManagedIdentityClientId,
        one(rs, T.uami, "secretless-identity-uami").state.principalId,
      ),
    message: new RegExp(
      'WebApp "secretless-web-site" has ' +
        "AzureAd__ClientCredentials__0__ManagedIdentityClientId " +
        '"[0-9a-f-]{36}", ' +
        String.raw`but the identity its FIC trusts has client ID "[0-9a-f-]{36}"\. That is the identity's principal ` +
        String.raw`ID; the setting takes its client ID\. Fix: set`,
    ),
  },
  {
    rule: "webapp-identity-matches-fic",
    broken: "another identity's client ID",
    break: (rs) =>
      setSetting(rs, AzureAdSetting.ManagedIdentityClientId, one(rs, T.uami, "ci-deployer").state.clientId),
    message: new RegExp(
      "has AzureAd__ClientCredentials__0__ManagedIdentityClientId " +
        '"[0-9a-f-]{36}", but the identity its ' +
        "FIC trusts has client ID",
    ),
  },
  {
    rule: "webapp-token-exchange-matches-fic",
    broken: "a known audience the FIC does not accept",
    break: (rs) => setSetting(rs, AzureAdSetting.TokenExchangeUrl, "api://AzureADTokenExchangeChina"),
    message: new RegExp(
      'WebApp "secretless-web-site" has AzureAd__ClientCredentials__0__TokenExchangeUrl ' +
        String.raw`"api:\/\/AzureADTokenExchangeChina", ` +
        String.raw`but its FIC accepts "api:\/\/AzureADTokenExchange": token exchange would fail \(AADSTS700212\)\. ` +
        "Fix: set",
    ),
  },
  {
    rule: "slot-identity-matches-site",
    broken: "a staging slot wearing another identity than its site",
    break: (rs) =>
      addSlot(
        rs,
        (slot) =>
          (slot.identity = { type: "UserAssigned", userAssignedIdentities: [one(rs, T.uami, "ci-deployer").id] }),
      ),
    message: new RegExp(
      String.raw`WebAppSlot "staging-slot" wears identities \[".*ci-deployer.*"\] but its site WebApp ` +
        '"secretless-web-site" ' +
        "wears .* A swap does not move managed identities",
    ),
    // The slot then also wears no identity its app registration's FIC trusts, and the CI identity it wears becomes
    // an app credential: its GitHub trust and its Contributor role are refused too; the slot's telemetry names the
    // site's identity, which the slot does not wear.
    alsoTrips: [
      "fic-trusts-webapp-identity",
      "fic-trust-allowed",
      "role-assignment-allowed",
      "appinsights-connection-string-entra-only",
    ],
  },
  {
    rule: "slot-settings-differ-only-when-sticky",
    broken: "a staging slot with a setting of its own that is not a slot setting",
    break: (rs) => addSlot(rs, (slot) => slot.siteConfig.appSettings.push({ name: "FEATURE_FLAG", value: "on" })),
    message: new RegExp(
      'WebAppSlot "staging-slot" and its site WebApp ' +
        '"secretless-web-site" differ in FEATURE_FLAG, which ' +
        "is not a slot setting: a swap would carry the slot's value into production",
    ),
  },
  {
    rule: "redis-no-access-keys",
    broken: "an Azure Managed Redis database with access keys on",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redisenterprise:Database", "sessions-db", {
          clusterName: "c",
          clientProtocol: "Encrypted",
          accessKeysAuthentication: "Enabled",
        }),
      ),
    message: new RegExp(
      String.raw`Database "sessions-db" has accessKeysAuthentication "Enabled"; access keys are shared secrets \(and ` +
        String.raw`on by default\)\. Fix: set accessKeysAuthentication: "Disabled"`,
    ),
  },
  {
    rule: "redis-no-access-keys",
    broken: "an Azure Managed Redis database leaving access keys at their default (on)",
    break: (rs) => rs.push(handMade("azure-native:redisenterprise:Database", "sessions-db", { clusterName: "c" })),
    message: /Database "sessions-db" has accessKeysAuthentication unset/,
  },
  {
    rule: "redis-no-access-keys",
    broken: "an Azure Cache for Redis with access keys on",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redis:Redis", "cache", {
          minimumTlsVersion: "1.2",
          redisConfiguration: { aadEnabled: "true" },
        }),
      ),
    message: new RegExp(
      String.raw`Redis "cache" has disableAccessKeyAuthentication unset; access keys are shared secrets\. Fix: set ` +
        "disableAccessKeyAuthentication: true",
    ),
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "redis-no-access-keys",
    broken: "an Azure Cache for Redis with keys off but Entra authentication not on",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redis:Redis", "cache", {
          minimumTlsVersion: "1.2",
          disableAccessKeyAuthentication: true,
        }),
      ),
    message: /Redis "cache" has redisConfiguration\.aadEnabled unset; without Entra authentication nothing can sign in/,
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "redis-tls-only",
    broken: "an Azure Managed Redis database speaking plain text",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redisenterprise:Database", "sessions-db", {
          clusterName: "c",
          accessKeysAuthentication: "Disabled",
          clientProtocol: "Plaintext",
        }),
      ),
    message: new RegExp(
      String.raw`Database "sessions-db" has clientProtocol "Plaintext": tokens would cross the network in clear\. ` +
        'Fix: set clientProtocol: "Encrypted"',
    ),
  },
  {
    rule: "redis-tls-only",
    broken: "an Azure Cache for Redis with its non-TLS port open",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redis:Redis", "cache", {
          minimumTlsVersion: "1.2",
          disableAccessKeyAuthentication: true,
          redisConfiguration: { aadEnabled: "true" },
          enableNonSslPort: true,
        }),
      ),
    message: /Redis "cache" has enableNonSslPort true/,
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "redis-tls-only",
    broken: "an Azure Managed Redis cluster allowing TLS 1.0",
    break: (rs) =>
      rs.push(
        handMade("azure-native:redisenterprise:RedisEnterprise", "sessions-cache", {
          sku: { name: "Balanced_B0" },
          minimumTlsVersion: "1.0",
        }),
      ),
    message: /RedisEnterprise "sessions-cache" has minimumTlsVersion "1\.0"\. Fix: set minimumTlsVersion: "1\.2"/,
  },
  {
    rule: "resource-type-allowed",
    broken: "a web app registered through an API-version module",
    break: (rs) => {
      const copy = structuredClone(site(rs));
      rs.push({ ...copy, type: "azure-native:web/v20240401:WebApp", name: "versioned-site" });
    },
    message: new RegExp(
      String.raw`^azure-native:web\/v20240401:WebApp "versioned-site" is not a resource type this pack allows\. It ` +
        String.raw`resembles the allowed type "azure-native:web:WebApp": use that exact token .*Fix: remove it\. To ` +
        String.raw`add a type, make a reviewed change to policy\/rules\/allow-list\.ts`,
    ),
  },
  {
    rule: "resource-type-allowed",
    broken: "an ARM template deployment",
    break: (rs) =>
      rs.push(
        handMade("azure-native:resources:Deployment", "arm", {
          resourceGroupName: "rg",
          properties: { mode: "Incremental", template: {} },
        }),
      ),
    message: new RegExp(
      'azure-native:resources:Deployment "arm" is not a resource ' +
        "type this pack allows: an ARM template " +
        "deployment can create or change any resource",
    ),
  },
  {
    rule: "provider-settings-allowed",
    broken: "an explicit azure-native provider pointed at a custom metadata host",
    break: (rs) =>
      rs.push(
        handMade("pulumi:providers:azure-native", "custom-cloud", {
          metadataHost: "metadata.attacker.example",
          useOidc: "true",
        }),
      ),
    message: new RegExp(
      String.raw`Provider "custom-cloud" \(pulumi:providers:azure-native\) sets "metadataHost", which is not an ` +
        "allowed " +
        "provider setting",
    ),
  },
  {
    rule: "no-secret-inputs",
    broken: "a SAS URL in the web app's blob log settings",
    break: (rs) =>
      edit(one(rs, "azure-native:web:WebAppDiagnosticLogsConfiguration"), (p) => {
        p.httpLogs = {
          azureBlobStorage: {
            enabled: true,
            retentionInDays: 7,
            sasUrl: "https://x.blob.core.windows.net/logs?sv=2024&sig=abc",
          },
        };
      }),
    message: new RegExp(
      String.raw`WebAppDiagnosticLogsConfiguration "[^"]+" has input "httpLogs\.azureBlobStorage\.sasUrl" that looks ` +
        'like a secret: its name contains "sas"',
    ),
  },
  {
    rule: "data-stores-private",
    broken: "a public state container",
    break: (rs) =>
      rs.push(
        handMade("azure-native:storage:BlobContainer", "state-container", {
          resourceGroupName: "rg-ci",
          accountName: "state",
          publicAccess: "Blob",
        }),
      ),
    message: new RegExp(
      String.raw`BlobContainer "state-container" has publicAccess "Blob": anyone could read the blobs\. Fix: set ` +
        'publicAccess: "None"',
    ),
  },
  {
    rule: "data-stores-private",
    broken: "a vault with access policies and no purge protection",
    break: (rs) =>
      edit(one(rs, "azure-native:keyvault:Vault"), (p) => {
        p.properties = {
          ...p.properties,
          enablePurgeProtection: false,
          accessPolicies: [{ objectId: guidFrom("x"), permissions: { keys: ["all"] } }],
        };
      }),
    message: /Vault "state-vault" has access policies\. Fix: remove them and grant Azure roles\./,
    alsoTrips: ["no-secret-inputs"], // permissions.keys: a list named like a secret, refused with the rest
  },
  {
    rule: "fic-trust-allowed",
    broken: "the CI identity trusting another repository's pull requests",
    break: (rs) => edit(ciFic(rs), (p) => (p.subject = "repo:attacker/secretless-signin:pull_request")),
    message: new RegExp(
      'FederatedIdentityCredential "ci-deployer-production" on ' +
        'identity "ci-deployer" trusts GitHub repository ' +
        String.raw`"attacker\/secretless-signin" .*not the configured "contoso\/secretless-signin"`,
    ),
    alsoTrips: ["role-assignment-allowed", "github-deploy-environment-protected"],
  },
  {
    rule: "fic-trust-allowed",
    broken: "the CI identity trusting the immutable form of the repository while the pack is told the classic one",
    break: (rs) =>
      edit(ciFic(rs), (p) => (p.subject = "repo:contoso@1234/secretless-signin@5678:environment:production")),
    message: new RegExp(
      String.raw`trusts GitHub repository "contoso@1234\/secretless-signin@5678" .*Fix: trust only ` +
        String.raw`"repo:contoso\/secretless-signin:…" ` +
        String.raw`\(character for character, case and form included\)`,
    ),
  },
  {
    rule: "fic-trust-allowed",
    broken: "the app's own identity trusting GitHub",
    break: (rs) =>
      rs.push(
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "app-identity-github", {
          resourceGroupName: one(rs, T.uami, "secretless-identity-uami").inputs.resourceGroupName,
          resourceName: one(rs, T.uami, "secretless-identity-uami").state.name,
          issuer: GITHUB_ISSUER,
          subject: "repo:contoso/secretless-signin:pull_request",
          audiences: ["api://AzureADTokenExchange"],
        }),
      ),
    message: new RegExp(
      'FederatedIdentityCredential "app-identity-github" lets ' +
        String.raw`"https:\/\/token\.actions\.githubusercontent\.com" ` +
        String.raw`subject "repo:contoso\/secretless-signin:pull_request" act as identity "[^"]+", which a web app ` +
        "wears",
    ),
  },
  {
    rule: "role-assignment-allowed",
    broken: "Owner for the CI identity",
    break: (rs) =>
      edit(
        roleAssignment(rs),
        (p) =>
          (p.roleDefinitionId =
            `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/` +
            "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
      ),
    message: new RegExp(
      'RoleAssignment "ci-deployer-contributor" gives CI identity ' +
        '"ci-deployer" role "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", ' +
        String.raw`which it may not hold \(allowed: WebsiteContributor, `,
    ),
  },
  {
    rule: "role-assignment-allowed",
    broken: "a role scoped to another stack's group",
    break: (rs) =>
      edit(roleAssignment(rs), (p) => (p.scope = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/someone-elses`)),
    message: new RegExp(
      'RoleAssignment "ci-deployer-contributor" is scoped to ' +
        'resource group "someone-elses", which this ' +
        "stack neither creates nor deploys into",
    ),
  },
  {
    rule: "command-runs-project-script",
    broken: "an inline shell step that reads the site's publishing credentials",
    break: (rs) =>
      edit(
        command(rs),
        (p) => (p.create = "az webapp deployment list-publishing-credentials -g rg -n site > creds.json"),
      ),
    message: new RegExp(
      'Command "secretless-app-deploy" has create "az webapp ' +
        'deployment list-publishing-credentials[^"]*", ' +
        "not one of the project's deploy scripts: a command runs with the deployer's credentials",
    ),
  },
  {
    rule: "command-runs-project-script",
    broken: "a delete hook and an interpreter switch on the deploy step",
    break: (rs) =>
      edit(command(rs), (p) =>
        Object.assign(p, { delete: "node --import tsx deploy/one-deploy.ts", interpreter: ["/bin/sh", "-c"] }),
      ),
    message: /Command "secretless-app-deploy" sets "delete", which a deploy step does not need/,
  },
  {
    rule: "api-access-delegated-only",
    broken: "an application permission requested for the sign-in app",
    break: (rs) => edit(one(rs, T.apiAccess), (p) => (p.roleIds = [guidFrom("graph:role:Directory.ReadWrite.All")])),
    message: new RegExp(
      String.raw`ApplicationApiAccess "secretless-entra-graph-access" requests application permissions \(roleIds ` +
        String.raw`\["[0-9a-f-]{36}"\]\)`,
    ),
  },
  {
    rule: "redirect-uris-own-host",
    broken: "an attacker's host and plain-HTTP localhost among the redirect URIs",
    break: (rs) =>
      edit(
        one(rs, T.redirect),
        (p) => (p.redirectUris = [...p.redirectUris, "https://attacker.example/signin-oidc", "http://localhost:8080/"]),
      ),
    message: new RegExp(
      String.raw`ApplicationRedirectUris "[^"]+" has redirect URI "https:\/\/attacker\.example\/signin-oidc" ` +
        String.raw`\(redirectUris\) ` +
        String.raw`that points at host "attacker\.example", not one of this stack's web apps`,
    ),
  },
  {
    rule: "log-workspace-entra-only",
    broken: "the Log Analytics workspace's shared keys left on (disableLocalAuth unset)",
    break: (rs) =>
      edit(one(rs, T.workspace), (p) => (p.features = { enableLogAccessUsingOnlyResourcePermissions: true })),
    message: new RegExp(
      String.raw`^Workspace "secretless-logs-workspace" has features\.disableLocalAuth unset: the workspace's shared ` +
        String.raw`keys can write into it and read it.* Fix: set features: \{ disableLocalAuth: true \}\.$`,
    ),
  },
  {
    rule: "diagnostic-setting-own-workspace",
    broken: "the site's platform logs also sent to a storage account",
    break: (rs) =>
      edit(
        one(rs, T.diagnosticSetting),
        (p) => (p.storageAccountId = `${OTHER_GROUP}/providers/Microsoft.Storage/storageAccounts/sink`),
      ),
    message: new RegExp(
      '^DiagnosticSetting "secretless-web-platform-logs" has storageAccountId ".*/storageAccounts/sink": ' +
        "logs would leave .* Fix: remove storageAccountId; send logs to this stack's Log Analytics workspace",
    ),
  },
  {
    rule: "diagnostic-setting-own-workspace",
    broken: "the site's platform logs sent to another workspace",
    break: (rs) =>
      edit(
        one(rs, T.diagnosticSetting),
        (p) => (p.workspaceId = `${OTHER_GROUP}/providers/Microsoft.OperationalInsights/workspaces/elsewhere`),
      ),
    message: new RegExp(
      '^DiagnosticSetting "secretless-web-platform-logs" has workspaceId ".*/workspaces/elsewhere", not a ' +
        String.raw`Log Analytics workspace of this stack\. Fix: set workspaceId to the ID of the stack's own workspace`,
    ),
  },
  {
    rule: "diagnostic-setting-own-workspace",
    broken: "a diagnostic setting that copies another resource's logs into the stack's workspace",
    break: (rs) =>
      edit(
        one(rs, T.diagnosticSetting),
        (p) => (p.resourceUri = `${OTHER_GROUP}/providers/Microsoft.KeyVault/vaults/other`),
      ),
    message: new RegExp(
      '^DiagnosticSetting "secretless-web-platform-logs" has resourceUri ".*/vaults/other", not a resource ' +
        String.raw`of this stack: it would copy another resource's logs\.`,
    ),
  },
  {
    rule: "appinsights-entra-only",
    broken: "Application Insights with local authentication on",
    break: (rs) => edit(one(rs, T.appInsights), (p) => (p.disableLocalAuth = false)),
    message: new RegExp(
      '^Component "secretless-insights-component" has disableLocalAuth false: anyone holding its connection string ' +
        ".* Fix: set disableLocalAuth: true",
    ),
    // The site's connection string is then a write key.
    alsoTrips: ["appinsights-connection-string-entra-only"],
  },
  {
    rule: "appinsights-entra-only",
    broken: "Application Insights with local authentication unset (the service's default: on)",
    break: (rs) => edit(one(rs, T.appInsights), (p) => delete p.disableLocalAuth),
    message: /^Component "secretless-insights-component" has disableLocalAuth unset/,
    alsoTrips: ["appinsights-connection-string-entra-only"],
  },
  {
    rule: "appinsights-workspace-based",
    broken: "Application Insights on another workspace",
    break: (rs) =>
      edit(
        one(rs, T.appInsights),
        (p) => (p.workspaceResourceId = `${OTHER_GROUP}/providers/Microsoft.OperationalInsights/workspaces/elsewhere`),
      ),
    message: new RegExp(
      '^Component "secretless-insights-component" has workspaceResourceId ".*/workspaces/elsewhere", not a Log ' +
        String.raw`Analytics workspace of this stack\. Fix: set workspaceResourceId`,
    ),
  },
  {
    rule: "appinsights-workspace-based",
    broken: "a classic Application Insights component (no workspace)",
    break: (rs) =>
      edit(one(rs, T.appInsights), (p) => {
        delete p.workspaceResourceId;
        p.ingestionMode = "ApplicationInsights";
      }),
    message: /has ingestionMode "ApplicationInsights": telemetry would not be stored in the workspace/,
  },
  {
    rule: "appinsights-connection-string-entra-only",
    broken: "the site sending telemetry to a component outside the stack (its key cannot be shown to be refused)",
    break: (rs) => setSetting(rs, TelemetrySetting.ConnectionString, FOREIGN_CONNECTION_STRING),
    message: new RegExp(
      '^WebApp "secretless-web-site" has app setting "APPLICATIONINSIGHTS_CONNECTION_STRING" with the ' +
        "instrumentation key of a component that is not in this stack",
    ),
  },
  {
    rule: "appinsights-connection-string-entra-only",
    broken: "the site sending telemetry without saying which identity it authenticates as",
    break: (rs) => setSetting(rs, TelemetrySetting.AuthenticationString, undefined),
    message: /^WebApp "secretless-web-site" sends telemetry but has APPLICATIONINSIGHTS_AUTHENTICATION_STRING unset/,
  },
  {
    rule: "appinsights-connection-string-entra-only",
    broken: "the site authenticating its telemetry as an identity it does not wear",
    break: (rs) =>
      setSetting(rs, TelemetrySetting.AuthenticationString, `Authorization=AAD;ClientId=${guidFrom("someone-else")}`),
    message: /has APPLICATIONINSIGHTS_AUTHENTICATION_STRING naming client ID [0-9a-f-]{36}, not an identity it wears/,
  },
  {
    rule: "appinsights-connection-string-entra-only",
    broken: "a connection string of a key-accepting component under another setting name",
    break: (rs) => setSetting(rs, "Telemetry__Sink", FOREIGN_CONNECTION_STRING),
    message: /has app setting "Telemetry__Sink" with the instrumentation key of a component that is not in this stack/,
    // Any other name for it is a secret-looking value too.
    alsoTrips: ["no-secret-settings"],
  },
  {
    rule: "no-secret-settings",
    broken: "the telemetry connection string carrying more than an address (a shared access key)",
    break: (rs) => {
      const own = settingsOfSite(rs)[TelemetrySetting.ConnectionString]!;
      setSetting(rs, TelemetrySetting.ConnectionString, `${own};SharedAccessKey=abc`);
    },
    message: new RegExp(
      'has app setting "APPLICATIONINSIGHTS_CONNECTION_STRING" that looks like a secret: its name contains ' +
        '"connectionstring" and its value looks like a storage or service account key',
    ),
  },
  {
    rule: "no-secret-settings",
    broken: "the telemetry connection string under a look-alike name the exporter does not read",
    break: (rs) => {
      const own = settingsOfSite(rs)[TelemetrySetting.ConnectionString]!;
      setSetting(rs, TelemetrySetting.ConnectionString, undefined);
      setSetting(rs, "applicationinsights_connection_string", own);
    },
    message: /has app setting "applicationinsights_connection_string" that looks like a secret/,
  },
  {
    rule: "role-assignment-allowed",
    broken: "Monitoring Metrics Publisher for the app's identity on the whole resource group",
    break: (rs) =>
      edit(one(rs, T.azureRole, "secretless-insights-publisher"), (p) => {
        p.scope = String(p.scope).replace(/\/providers\/Microsoft\.Insights\/components\/.*$/, "");
      }),
    message: new RegExp(
      '^RoleAssignment "secretless-insights-publisher" gives role MonitoringMetricsPublisher at scope ".*", ' +
        String.raw`which is not an Application Insights component of this stack\. Fix: scope it to an Application ` +
        "Insights component this stack creates",
    ),
  },
  {
    rule: "role-assignment-allowed",
    broken: "Monitoring Metrics Publisher for an identity no web app wears",
    break: (rs) =>
      edit(
        one(rs, T.azureRole, "secretless-insights-publisher"),
        (p) => (p.principalId = guidFrom("ci-deployer:uami-principal")),
      ),
    message: new RegExp(
      String.raw`gives CI identity "ci-deployer" role MonitoringMetricsPublisher \(3913510d-[0-9a-f-]+\), which it ` +
        "may not hold",
    ),
  },
];

describe("on this project's own stack", () => {
  it("every policy passes: the main stack, its deploy step included, plus compliant CI-bootstrap resources", () => {
    expect(evaluateRecorded(compliant(), PACK_CONTEXT)).toEqual([]);
  });

  it(
    "the main stack alone passes, and the hand-made resources are " + "really checked (the table below breaks them)",
    () => {
      expect(evaluateRecorded(structuredClone(mainStack), PACK_CONTEXT)).toEqual([]);
    },
  );
});

describe.each(variants)("$rule fails on $broken", (v) => {
  it("with its message, naming the resource and the fix", () => {
    const rs = compliant();
    v.break(rs);
    const violations = evaluateRecorded(rs, PACK_CONTEXT);
    expect(violations.filter((x) => x.policy === v.rule).map((x) => x.message)).toContainEqual(
      expect.stringMatching(v.message),
    );
    expect([...new Set(violations.map((x) => x.policy))].sort()).toEqual([v.rule, ...(v.alsoTrips ?? [])].sort());
  });
});

describe("the table", () => {
  it("breaks every rule at least once", () => {
    // The Easy Auth rules are broken against the Easy Auth stack, in test/policy/easy-auth.test.ts; the adopt rule
    // against the adopting stack, in test/policy/adopt.test.ts; the Container Apps rules against the Container Apps
    // stack, in test/policy/container-apps.test.ts.
    const elsewhere = [...EASY_AUTH_RULE_NAMES, ...ADOPT_RULE_NAMES, ...CONTAINER_APP_RULE_NAMES];
    expect(
      rules.map((r) => r.name).filter((name) => !variants.some((v) => v.rule === name) && !elsewhere.includes(name)),
    ).toEqual([]);
  });
});

describe("secret detection", () => {
  it.each([
    "AzureAd__ClientCredentials__0__ManagedIdentityClientId",
    "AzureAd__ClientCredentials__0__TokenExchangeUrl",
    "AzureAd__ClientCredentials__0__SourceType",
    "AzureAd__ClientId",
    "AzureAd__TenantId",
    "KeyVaultReferenceIdentity",
    "WEBSITE_RUN_FROM_PACKAGE",
  ])("does not take the setting name %s for a secret", (name) => expect(secretName(name)).toBeUndefined());

  it.each([
    "AzureAd__ClientSecret",
    "DB_PASSWORD",
    "Upstream__ApiKey",
    "GITHUB_TOKEN",
    "SigningCertificate",
    "STORAGE_SAS",
    "AccountKeys",
    "azuread__clientsecret",
    "AZUREAD_CLIENT_SECRET",
    "PGPASSWORD",
    "sshPrivateKey",
    "APPINSIGHTS_INSTRUMENTATIONKEY",
    "APPLICATIONINSIGHTS_CONNECTION_STRING",
    "DB_PASS",
    "clientCertificatePath",
  ])("takes the setting name %s for a secret", (name) => expect(secretName(name)).toBeDefined());

  it.each([
    guidFrom("x"),
    "api://AzureADTokenExchange",
    "https://login.microsoftonline.com/",
    "/signin-oidc",
    "SignedAssertionFromManagedIdentity",
    "@Microsoft.KeyVault(SecretUri=https://v.vault.azure.net/secrets/s)",
  ])("does not take the value %s for a secret", (value) => expect(secretValue(value)).toBeUndefined());

  it.each([
    ["abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz01234567", "an Entra client secret"],
    ["cache:6380,password=x,ssl=True", "a password (Password=)"],
    [
      "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://x",
      "an Application Insights instrumentation key",
    ],
    ["https://x.blob.core.windows.net/c?sv=1&sig=abc", "a SAS token (sig=)"],
    ["-----BEGIN RSA PRIVATE KEY-----", "a PEM key or certificate"],
    [`github_pat_${"A1".repeat(20)}`, "a GitHub token"],
  ])("takes the value %s for %s", (value, why) => expect(secretValue(value)).toBe(why));

  it(
    "does not take the main stack's own non-secret names (keySize, clientCertEnabled " +
      "false, federatedIdentityCredentialResourceName) for secrets",
    () => {
      expect(
        findSecrets({
          keySize: 3072,
          keyOps: ["encrypt"],
          clientCertEnabled: false,
          federatedIdentityCredentialResourceName: "github-actions",
          disableAccessKeyAuthentication: true,
        }),
      ).toEqual([]);
    },
  );
});

describe("the Guardrails README", () => {
  it("lists every policy", async () => {
    const { readFile } = await import("node:fs/promises");
    const readme = await readFile(join(REPO, "policy", "README.md"), "utf8");
    expect(rules.map((r) => r.name).filter((name) => !readme.includes(`| \`${name}\` |`))).toEqual([]);
  });

  it("is counted right in the project README's Guardrails section", async () => {
    const { readFile } = await import("node:fs/promises");
    const readme = await readFile(join(REPO, "README.md"), "utf8");
    expect(/All (\d+) policies are mandatory/.exec(readme)?.[1]).toBe(String(rules.length));
  });
});

describe("GitHub subjects (issue 18: both of GitHub's forms, and exactly those)", () => {
  it.each([
    "repo:contoso/secretless-signin:pull_request",
    "repo:contoso/secretless-signin:environment:production",
    "repo:contoso/secretless-signin:ref:refs/heads/main",
    "repo:contoso/secretless.signin_2:ref:refs/tags/v1.2.3",
    "repo:contoso@9919/secretless-signin@771234567:pull_request",
    "repo:contoso@9919/secretless-signin@771234567:environment:production",
    "repo:Contoso-Labs@1/x@2:ref:refs/heads/release/2026",
  ])("accepts %s", (subject) => expect(GITHUB_SUBJECT.exec(subject)).not.toBeNull());

  it.each([
    "repo:contoso/*:pull_request",
    "repo:contoso/secretless-signin:*",
    "repo:contoso/secretless-signin:ref:refs/heads/*",
    "repo:contoso@9919/secretless-signin:pull_request",
    "repo:contoso/secretless-signin@771234567:pull_request",
    "repo:contoso@0/secretless-signin@1:pull_request",
    "repo:contoso@x/secretless-signin@1:pull_request",
    "repo:contoso/..:pull_request",
    "repo:contoso/secretless-signin:environment:prod:extra",
    "repo:contoso/secretless-signin:workflow:deploy.yml",
    "repo:-contoso/secretless-signin:pull_request",
    "contoso/secretless-signin:pull_request",
  ])("refuses %s", (subject) => expect(GITHUB_SUBJECT.exec(subject)).toBeNull());
});
