import { describe, expect, it } from "vitest";
import { CiBootstrap, type CiBootstrapArgs } from "../../bootstrap/components/ciBootstrap";
import { BootstrapConfigError } from "../../bootstrap/config";
import { BuiltInRole } from "../../bootstrap/roles";
import { promiseOf, runProgram } from "../../offline/azureMocks";
import { B, attachBootstrapMocks } from "../../offline/bootstrapMocks";

/** The composing component on its own, under each option that changes what it registers. Fresh engine per test. */

const base: CiBootstrapArgs = {
  repository: "contoso/secretless-signin",
  location: "westeurope",
  targetResourceGroupName: "app-rg",
  stateResourceGroupName: "state-rg",
  stateStorageAccountName: "contosostate",
  keyVaultName: "contoso-kv",
};

async function build(args: Partial<CiBootstrapArgs>) {
  const mocks = await attachBootstrapMocks({});
  const ci = await runProgram(mocks, async () => {
    const component = new CiBootstrap("unit", { ...base, ...args });
    await promiseOf(component.deployClientId);
    return component;
  });
  const principal = (which: string) => mocks.resources.find((r) => r.type === B.uami && r.name === `unit-${which}-uami`)!.state.principalId;
  const rolesOf = (principalId: string) =>
    mocks.ofType(B.role).filter((r) => r.inputs.principalId === principalId).map((r) => r.inputs.roleDefinitionId.split("/").pop()).sort();
  return { mocks, ci, principal, rolesOf };
}

describe("CiBootstrap options", () => {
  it("grants the deploy identity Contributor alone on the target group when asked for contributor access", async () => {
    const { mocks, principal, rolesOf } = await build({ deployAccess: "contributor" });
    expect(rolesOf(principal("deploy"))).toEqual([BuiltInRole.Contributor, BuiltInRole.StorageBlobDataContributor, BuiltInRole.KeyVaultCryptoUser].sort());
    const contributor = mocks.ofType(B.role).find((r) => r.inputs.roleDefinitionId.endsWith(BuiltInRole.Contributor))!;
    expect(contributor.inputs.scope).toMatch(/\/resourceGroups\/app-rg$/);
  });

  it("makes the deploy identity an owner of an app registration created before CI took over", async () => {
    const { mocks, principal } = await build({ appRegistrationObjectId: "3b9d6a2e-8f41-4c57-9e0d-1a2b3c4d5e6f" });
    expect(mocks.one(B.owner).inputs).toEqual({
      applicationId: "/applications/3b9d6a2e-8f41-4c57-9e0d-1a2b3c4d5e6f",
      ownerObjectId: principal("deploy"),
    });
  });

  it("gives a migrating operator data access to state and key as a user, and nothing in the app's group", async () => {
    const operator = "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b";
    const { mocks, rolesOf } = await build({ operatorObjectId: operator });
    expect(rolesOf(operator)).toEqual([BuiltInRole.StorageBlobDataContributor, BuiltInRole.KeyVaultCryptoUser].sort());
    for (const r of mocks.ofType(B.role).filter((x) => x.inputs.principalId === operator)) {
      expect(r.inputs.principalType).toBe("User");
      expect(r.inputs.scope).toMatch(/\/resourceGroups\/state-rg\//);
    }
  });

  it("trusts the configured deploy environment, case-exact", async () => {
    const { mocks } = await build({ deployEnvironment: "Prod-EU" });
    expect(mocks.resources.find((r) => r.type === B.fic && r.name === "unit-deploy-github")!.inputs.subject).toBe(
      "repo:contoso/secretless-signin:environment:Prod-EU",
    );
  });
});

describe("CiBootstrap argument checks", () => {
  it("rejects bad names before any resource registers, listing each with its fix", async () => {
    const mocks = await attachBootstrapMocks({});
    let error: unknown;
    await runProgram(mocks, async () => {
      try {
        new CiBootstrap("unit", { ...base, repository: "contoso", deployEnvironment: "prod env", keyVaultName: "kv" });
      } catch (e) {
        error = e;
      }
    });
    expect(error).toBeInstanceOf(BootstrapConfigError);
    expect((error as BootstrapConfigError).problems.map((p) => p.key)).toEqual(["repository", "deployEnvironment", "keyVaultName"]);
    expect(mocks.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.custom)).toEqual([]);
  });
});
