import { beforeAll, describe, expect, it } from "vitest";
import { type HostRun, readStackConfig, runThroughLanguageHost } from "../../offline/languageHost";

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

  it("registers the stack, its four components and every resource of the chain", () => {
    const types = host.mocks.resources.map((r) => r.type).sort();
    expect(types).toEqual(
      [
        "pulumi:pulumi:Stack",
        "secretless:index:SecretlessWebApp",
        "secretless:index:ManagedIdentity",
        "secretless:index:EntraApplication",
        "secretless:index:LinuxWebApp",
        "azure-native:resources:ResourceGroup",
        "azure-native:managedidentity:UserAssignedIdentity",
        "azuread:index/applicationRegistration:ApplicationRegistration",
        "azuread:index/servicePrincipal:ServicePrincipal",
        "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
        "azure-native:web:AppServicePlan",
        "azure-native:web:WebApp",
        "azure-native:web:WebAppScmAllowed",
        "azure-native:web:WebAppFtpAllowed",
        "azure-native:web:WebAppDiagnosticLogsConfiguration",
        "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
      ].sort(),
    );
  });

  it("returns the stack outputs the README documents", async () => {
    const outputs = host.outputs ?? {};
    expect(Object.keys(outputs).sort()).toEqual(
      ["appClientId", "identityClientId", "identityPrincipalId", "redirectUri", "resourceGroupName", "tenantId", "url", "webAppName"].sort(),
    );
    const site = host.mocks.one("azure-native:web:WebApp");
    expect(outputs.url).toBe(`https://${site.state.defaultHostName}`);
  });

  it("applies the dev stack's values", () => {
    const site = host.mocks.one("azure-native:web:WebApp").inputs;
    expect(site.name).toBe("secretless-signin-dev");
    expect(site.location).toBe("westeurope");
    expect(site.tags).toEqual({ environment: "dev", workload: "secretless-signin" });
  });
});
