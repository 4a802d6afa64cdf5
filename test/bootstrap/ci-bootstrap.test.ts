import { describe, expect, it } from "vitest";
import { CiBootstrap, type CiBootstrapArgs } from "../../bootstrap/components/ci-bootstrap";
import * as pulumi from "@pulumi/pulumi";
import { BuiltInRole } from "../../bootstrap/roles";
import { promiseOf, runProgram } from "../../offline/azure-mocks";
import { B, attachBootstrapMocks } from "../../offline/bootstrap-mocks";

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
  const principal = (which: string) =>
    mocks.resources.find((r) => r.type === B.uami && r.name === `unit-${which}-uami`)!.state.principalId;
  const rolesOf = (principalId: string) =>
    mocks
      .ofType(B.role)
      .filter((r) => r.inputs.principalId === principalId)
      .map((r) => r.inputs.roleDefinitionId.split("/").pop())
      .sort();
  return { mocks, ci, principal, rolesOf };
}

describe("CiBootstrap options", () => {
  it("grants the deploy identity Contributor alone on the target group when asked for contributor access", async () => {
    const { mocks, principal, rolesOf } = await build({ deployAccess: "contributor" });
    expect(rolesOf(principal("deploy"))).toEqual(
      [BuiltInRole.Contributor, BuiltInRole.StorageBlobDataContributor, BuiltInRole.KeyVaultCryptoUser].sort(),
    );
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

describe("the subject table", () => {
  // Every subject each identity trusts, for each form of repository and a custom environment: built from what it was
  // given, never rewritten (Entra compares the subject character for character).
  it.each([
    [
      "contoso/secretless-signin",
      "production",
      "repo:contoso/secretless-signin:pull_request",
      "repo:contoso/secretless-signin:environment:production",
    ],
    [
      "Contoso/Secretless-Signin",
      "Prod-EU",
      "repo:Contoso/Secretless-Signin:pull_request",
      "repo:Contoso/Secretless-Signin:environment:Prod-EU",
    ],
    [
      "contoso@1234567/secretless-signin@890123456",
      "production",
      "repo:contoso@1234567/secretless-signin@890123456:pull_request",
      "repo:contoso@1234567/secretless-signin@890123456:environment:production",
    ],
  ] as const)("for %s (environment %s) trusts %s and %s", async (repository, deployEnvironment, preview, deploy) => {
    const { mocks, ci } = await build({ repository, deployEnvironment });
    const subject = (which: string) =>
      mocks.resources.find((r) => r.type === B.fic && r.name === `unit-${which}-github`)!.inputs.subject;
    expect([subject("preview"), subject("deploy")]).toEqual([preview, deploy]);
    expect(ci.subjects).toEqual({ preview, deploy });
  });
});

describe("the deploy environment on GitHub", () => {
  it(
    "is created, main only, admins included, with the reviewers, " + "when the bootstrap holds a GitHub token",
    async () => {
      const repository = "contoso@1234567/secretless-signin@890123456";
      const { mocks, ci } = await build({ repository, manageGitHubEnvironment: true, deployReviewerIds: [583231] });
      const provider = mocks.one(B.githubProvider);
      // The token comes from GITHUB_TOKEN at run time: it is no input of the provider, so never in state.
      expect(provider.inputs).toMatchObject({ owner: "contoso" });
      expect(Object.keys(provider.inputs)).not.toContain("token");
      expect(mocks.one(B.environment).inputs).toEqual({
        repository: "secretless-signin",
        environment: "production",
        canAdminsBypass: false,
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
        reviewers: [{ users: [583231] }],
      });
      expect(mocks.one(B.branchPolicy).inputs).toEqual({
        repository: "secretless-signin",
        environment: "production",
        branchPattern: "main",
      });
      expect(ci.githubEnvironmentCommands).toEqual([]);
    },
  );

  it("is left to the printed gh api calls without a token, which do the same", async () => {
    const { mocks, ci } = await build({ deployEnvironment: "prod", deployReviewerIds: [583231, 9919] });
    expect(mocks.ofType(B.environment)).toEqual([]);
    expect(mocks.ofType(B.githubProvider)).toEqual([]);
    expect(ci.githubEnvironmentCommands).toEqual([
      "echo " +
        '\'{"can_admins_bypass":false,' +
        '"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true},' +
        '"reviewers":[{"type":"User","id":583231},{"type":"User","id":9919}]}\' ' +
        "| gh api -X PUT repos/contoso/secretless-signin/environments/prod --input -",
      "gh api -X POST " +
        "repos/contoso/secretless-signin/environments/prod/deployment-branch-policies " +
        "-f name=main -f type=branch",
    ]);
  });

  it("refuses more than six reviewers, as GitHub does", async () => {
    const mocks = await attachBootstrapMocks({});
    let error: unknown;
    await runProgram(mocks, async () => {
      try {
        new CiBootstrap("unit", { ...base, deployReviewerIds: [1, 2, 3, 4, 5, 6, 7] });
      } catch (e) {
        error = e;
      }
    });
    expect((error as pulumi.InputPropertiesError).errors.map((e) => e.propertyPath)).toEqual(["deployReviewerIds"]);
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
    expect(pulumi.InputPropertiesError.isInstance(error), String(error)).toBe(true);
    const errors = (error as pulumi.InputPropertiesError).errors;
    expect(errors.map((e) => e.propertyPath)).toEqual(["repository", "deployEnvironment", "keyVaultName"]);
    expect(errors[0]!.reason).toMatch(/gh api repos\/OWNER\/REPO/);
    expect(mocks.resources.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.custom)).toEqual([]);
  });
});
