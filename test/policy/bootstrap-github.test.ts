/**
 * The CI bootstrap run with GITHUB_TOKEN set: it also manages the GitHub deploy environment (the GitHub provider, the
 * environment and its main-only deployment policy). The real program (bootstrap/index.ts) under the offline engine
 * passes the pack, creates every GitHub entry of the allow-list, keeps the token out of the provider's inputs, and
 * each broken variant of the environment is refused by github-deploy-environment-protected or the provider rules.
 * Its own file: the program is imported once per process, here with the token in the environment.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureMocks, type RegisteredResource, promiseOf, runProgram } from "../../offline/azure-mocks";
import { attachBootstrapMocks, B, BOOTSTRAP_PROJECT, readBootstrapStack } from "../../offline/bootstrap-mocks";
import { DEPLOY_BRANCH } from "../../bootstrap/components/deploy-environment";
import { evaluateRecorded } from "../../policy/offline";
import { ALLOWED_TYPES } from "../../policy/rules";
import { DEPLOY_BRANCH as POLICY_DEPLOY_BRANCH } from "../../policy/rules/github";

const FAKE_TOKEN = `ghp_${"A1".repeat(18)}`;
let mocks: AzureMocks;
const repository = readBootstrapStack("example")[`${BOOTSTRAP_PROJECT}:repository`]!;
const saved = process.env.GITHUB_TOKEN;

beforeAll(async () => {
  process.env.GITHUB_TOKEN = FAKE_TOKEN;
  mocks = await attachBootstrapMocks(readBootstrapStack("example"));
  const program = await runProgram(mocks, () => import("../../bootstrap/index.js"));
  await promiseOf(program.AZURE_DEPLOY_CLIENT_ID);
});

afterAll(() => {
  if (saved === undefined) delete process.env.GITHUB_TOKEN;
  else process.env.GITHUB_TOKEN = saved;
});

/** The plan with `change` applied to the inputs and state of the one resource of `type`. */
function broken(type: string, change: (p: Record<string, any>) => void): RegisteredResource[] {
  return structuredClone(mocks.resources).map((r) => {
    if (r.type === type) for (const p of [r.inputs, r.state]) change(p);
    return r;
  });
}
const policies = (rs: RegisteredResource[]) => evaluateRecorded(rs, { repository }).map((v) => v.policy);

describe("the policy pack on the CI bootstrap with GITHUB_TOKEN set", () => {
  it("finds no violation, and the GitHub provider's inputs hold the owner, not the token", () => {
    expect(evaluateRecorded(mocks.resources, { repository })).toEqual([]);
    const provider = mocks.one(B.githubProvider);
    expect(provider.inputs.owner).toBe("contoso");
    expect(provider.inputs.token).toBeUndefined();
    expect(JSON.stringify(mocks.resources)).not.toContain(FAKE_TOKEN);
    expect(process.env.GITHUB_TOKEN).toBe(FAKE_TOKEN);
  });

  it("creates only allow-listed types, every GitHub entry of the allow-list among them", () => {
    const allowed = new Set(ALLOWED_TYPES.map((t) => t.type));
    const types = new Set(mocks.resources.map((r) => r.type));
    expect([...types].filter((t) => !allowed.has(t))).toEqual([]);
    const github = ALLOWED_TYPES.filter((t) => t.when === "GITHUB_TOKEN set").map((t) => t.type);
    expect(github.sort()).toEqual(
      [B.githubProvider, B.environment, B.branchPolicy, "secretless:bootstrap:DeployEnvironment"].sort(),
    );
    expect(github.filter((t) => !types.has(t))).toEqual([]);
  });

  it("checks the branch the bootstrap admits: the pack's deploy branch is the program's", () => {
    expect(POLICY_DEPLOY_BRANCH).toBe(DEPLOY_BRANCH);
    expect(mocks.one(B.branchPolicy).inputs.branchPattern).toBe(DEPLOY_BRANCH);
  });

  it.each([
    [
      "a token input on the provider",
      B.githubProvider,
      (p: any): unknown => (p.token = FAKE_TOKEN),
      ["no-secret-inputs", "provider-settings-allowed"],
    ],
    [
      "another GitHub host (baseUrl)",
      B.githubProvider,
      (p: any): unknown => (p.baseUrl = "https://github.attacker.example/api/v3/"),
      ["provider-settings-allowed"],
    ],
    [
      "another owner",
      B.githubProvider,
      (p: any): unknown => (p.owner = "attacker"),
      ["github-deploy-environment-protected"],
    ],
    [
      "admins may bypass",
      B.environment,
      (p: any): unknown => (p.canAdminsBypass = true),
      ["github-deploy-environment-protected"],
    ],
    [
      "admin bypass left to GitHub's default (true)",
      B.environment,
      (p: any): unknown => delete p.canAdminsBypass,
      ["github-deploy-environment-protected"],
    ],
    [
      "protected branches may deploy",
      B.environment,
      (p: any): unknown => (p.deploymentBranchPolicy = { protectedBranches: true, customBranchPolicies: false }),
      ["github-deploy-environment-protected"],
    ],
    [
      "no deployment branch policy (any branch)",
      B.environment,
      (p: any): unknown => delete p.deploymentBranchPolicy,
      ["github-deploy-environment-protected"],
    ],
    [
      "another environment than the deploy identity trusts",
      B.environment,
      (p: any): unknown => (p.environment = "staging"),
      ["github-deploy-environment-protected"],
    ],
    [
      "another repository",
      B.environment,
      (p: any): unknown => (p.repository = "fork"),
      ["github-deploy-environment-protected"],
    ],
    [
      "a wildcard branch",
      B.branchPolicy,
      (p: any): unknown => (p.branchPattern = "*"),
      ["github-deploy-environment-protected"],
    ],
    [
      "a look-alike branch",
      B.branchPolicy,
      (p: any): unknown => (p.branchPattern = "main*"),
      ["github-deploy-environment-protected"],
    ],
    [
      "a tag pattern",
      B.branchPolicy,
      (p: any): unknown => Object.assign(p, { branchPattern: undefined, tagPattern: "v*" }),
      ["github-deploy-environment-protected"],
    ],
    [
      "an environment the stack does not manage",
      B.branchPolicy,
      (p: any): unknown => (p.environment = "other"),
      ["github-deploy-environment-protected"],
    ],
  ] as const)("refuses %s", (_, type, change, expected) => {
    expect([...new Set(policies(broken(type, change)))].sort()).toEqual([...expected].sort());
  });

  it("names the environment and the fix", () => {
    const [violation] = evaluateRecorded(
      broken(B.environment, (p) => (p.canAdminsBypass = true)),
      { repository },
    );
    expect(violation!.message).toMatch(
      new RegExp(
        'RepositoryEnvironment "ci-environment-environment" has ' +
          "canAdminsBypass true .*Fix: set canAdminsBypass: " +
          String.raw`false\.`,
      ),
    );
  });
});
