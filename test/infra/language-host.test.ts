import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { creationChain } from "../../bench/dag";
import { type HostRun, ROOT, readStackConfig, runThroughLanguageHost } from "../../offline/language-host";

/**
 * `pulumi up` would load and evaluate this program: the dev stack, run through the Node language host's own code path
 * with Pulumi.yaml's runtime options (scripts/pulumi-loader.cjs compiles the TypeScript), registers the whole chain
 * and exports its outputs.
 */

let host: HostRun;

beforeAll(async () => {
  host = await runThroughLanguageHost(readStackConfig("dev"));
}, 60_000);

describe("the program under the Pulumi language host", () => {
  it("loads with no reported error", () => {
    expect(host.reported).toEqual([]);
  });

  it(
    "registers the stack, its six components, every resource of the chain " +
      "with the default app roles, and the deploy step",
    () => {
      const types = host.mocks.resources.map((r) => r.type).sort();
      expect(types).toEqual(
        [
          "pulumi:pulumi:Stack",
          "secretless:index:SecretlessWebApp",
          "secretless:index:ManagedIdentity",
          "secretless:index:EntraApplication",
          "secretless:index:LinuxWebApp",
          "secretless:index:AppDeployment",
          "secretless:index:AppRoles",
          "azure-native:resources:ResourceGroup",
          "azure-native:managedidentity:UserAssignedIdentity",
          "azuread:index/applicationRegistration:ApplicationRegistration",
          "azuread:index/servicePrincipal:ServicePrincipal",
          "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
          "azuread:index/applicationApiAccess:ApplicationApiAccess",
          "azuread:index/applicationAppRole:ApplicationAppRole",
          "azuread:index/applicationAppRole:ApplicationAppRole",
          "azure-native:web:AppServicePlan",
          "azure-native:web:WebApp",
          "azure-native:web:WebAppScmAllowed",
          "azure-native:web:WebAppFtpAllowed",
          "azure-native:web:WebAppDiagnosticLogsConfiguration",
          "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
          "command:local:Command",
          "command:local:Command",
        ].sort(),
      );
    },
  );

  it("returns the stack outputs the README documents", async () => {
    const outputs = host.outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(
      [
        "appClientId",
        "appInsightsName",
        "appPackageSha256",
        "identityClientId",
        "image",
        "identityPrincipalId",
        "logWorkspaceCustomerId",
        "redirectUri",
        "redisHostName",
        "resourceGroupName",
        "stagingUrl",
        "tenantId",
        "url",
        "webAppName",
      ].sort(),
    );
    const site = host.mocks.one("azure-native:web:WebApp");
    expect(outputs.url).toBe(`https://${site.state.defaultHostName}`);
    expect(outputs.appPackageSha256).toMatch(/^[0-9a-f]{64}$/);
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    const documented = /### Outputs\n([\s\S]*?)\n### /.exec(readme)?.[1] ?? "";
    expect([...documented.matchAll(/`([a-zA-Z0-9]+)`/g)].map((m) => m[1]).sort()).toEqual(Object.keys(outputs).sort());
  });

  it("applies the dev stack's values", () => {
    const site = host.mocks.one("azure-native:web:WebApp").inputs;
    expect(site.name).toBe("secretless-signin-dev");
    expect(site.location).toBe("westeurope");
    expect(site.tags).toEqual({ environment: "dev", workload: "secretless-signin" });
  });

  it(
    "provisions in at most four Azure steps one after another, then deploys and " +
      "waits: six in all (the critical path of a fresh pulumi up)",
    () => {
      const chain = creationChain(host.mocks);
      // Group → identity (needs the group) → site (wears the identity) → basic auth off (a policy of the site);
      // the deploy waits for the hardened site (issue: no push before basic auth is off) and the readiness wait for
      // the push. (With telemetry, group → workspace → component → site is one step longer: the site's settings
      // carry the component's connection string, and app settings are written once, with the site.)
      expect(chain, chain.join(" → ")).toEqual([
        "azure-native:resources:ResourceGroup::secretless-rg",
        "azure-native:managedidentity:UserAssignedIdentity::secretless-identity-uami",
        "azure-native:web:WebApp::secretless-web-site",
        expect.stringMatching(/^azure-native:web:WebApp(Scm|Ftp)Allowed::/),
        "command:local:Command::secretless-app-deploy",
        "command:local:Command::secretless-app-ready",
      ]);
    },
  );
});
