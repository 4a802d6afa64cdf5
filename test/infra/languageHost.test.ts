import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type HostRun, ROOT, readStackConfig, runThroughLanguageHost } from "../../offline/languageHost";

/**
 * `pulumi up` would load and evaluate this program: the dev stack, run through the Node language host's own code path
 * with this project's tsconfig and TypeScript (type-checked), registers the whole chain and exports its outputs.
 */

let host: HostRun;

beforeAll(async () => {
  delete process.env.PULUMI_NODEJS_TRANSPILE_ONLY; // type-check, as the host does by default
  host = await runThroughLanguageHost(readStackConfig("dev"));
}, 60_000);

describe("the program under the Pulumi language host", () => {
  it("loads with no reported error", () => {
    expect(host.reported).toEqual([]);
  });

  it("registers the stack, its five components, every resource of the chain and the deploy step", () => {
    const types = host.mocks.resources.map((r) => r.type).sort();
    expect(types).toEqual(
      [
        "pulumi:pulumi:Stack",
        "secretless:index:SecretlessWebApp",
        "secretless:index:ManagedIdentity",
        "secretless:index:EntraApplication",
        "secretless:index:LinuxWebApp",
        "secretless:index:AppDeployment",
        "azure-native:resources:ResourceGroup",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azuread:index/applicationRegistration:ApplicationRegistration",
        "azuread:index/servicePrincipal:ServicePrincipal",
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
        "azure-native:web:AppServicePlan",
        "azure-native:web:WebApp",
        "azure-native:web:WebAppScmAllowed",
        "azure-native:web:WebAppFtpAllowed",
        "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
        "command:local:Command",
        "command:local:Command",
      ].sort(),
    );
  });

  it("returns the stack outputs the README documents", async () => {
    const outputs = host.outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(
      ["appClientId", "appPackageSha256", "identityClientId", "identityPrincipalId", "redirectUri", "redisHostName", "resourceGroupName", "tenantId", "url", "webAppName"].sort(),
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
});
