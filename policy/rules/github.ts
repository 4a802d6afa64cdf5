/**
 * The CI bootstrap's GitHub deploy environment (created when it runs with GITHUB_TOKEN; bootstrap/components/
 * deploy-environment.ts). The deploy identity trusts `repo:R:environment:NAME`, and GitHub issues that subject to any
 * job that may enter environment NAME; what stops a workflow on another branch from entering it is the environment's
 * deployment branch policy ("Managing environments for deployment", deployment branches: "custom branch and tag
 * patterns" with `custom_branch_policies: true, protected_branches: false`; `can_admins_bypass` lets admins skip the
 * protection rules; GitHub REST "Create or update an environment"). So the pack checks the environment as well as
 * the identity: custom branch policies only, no admin bypass, and exactly one branch, `main`.
 *
 * Property names: @pulumi/github v6 `RepositoryEnvironment` (repository, environment, canAdminsBypass,
 * deploymentBranchPolicy.{protectedBranches, customBranchPolicies}) and `RepositoryEnvironmentDeploymentPolicy`
 * (repository, environment, branchPattern | tagPattern), node_modules/@pulumi/github/*.d.ts.
 */
import { type PlannedResource, type StackFinding, type StackRule, stackRule } from "./model";
import { GITHUB_ISSUER, GITHUB_REPOSITORY, field, inputField, isUamiFic, ref, show } from "./shared";

/** The one branch that may deploy: bootstrap/components/deploy-environment.ts `DEPLOY_BRANCH` (a test checks). */
export const DEPLOY_BRANCH = "main";

export const GITHUB_TYPES = {
  provider: "pulumi:providers:github",
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  branchPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
} as const;

/** `OWNER` and `REPO` of a configured repository, without GitHub's immutable `@ID`s. */
function ownerAndName(repository: string | undefined): { owner: string; name: string } | undefined {
  if (!repository || !GITHUB_REPOSITORY.test(repository)) return undefined;
  const [owner = "", name = ""] = repository.split("/").map((part) => part.replace(/@\d+$/, ""));
  return { owner, name };
}

/** The environments the stack's GitHub-trusting managed identities accept (`repo:R:environment:NAME`). */
function trustedEnvironments(resources: readonly PlannedResource[]): string[] {
  return resources
    .filter((r) => isUamiFic(r.type) && field(r, "issuer") === GITHUB_ISSUER)
    .map((r) => /:environment:([^:]+)$/.exec(String(field(r, "subject")))?.[1])
    .filter((e): e is string => e !== undefined);
}

export const githubDeployEnvironmentProtected: StackRule = stackRule(
  "github-deploy-environment-protected",
  "The GitHub deploy environment admits the branch main only (custom branch policies, no protected-branches " +
    "shortcut, no admin bypass), is the environment the deploy identity trusts, in the configured repository.",
  (resources, context) => {
    const findings: StackFinding[] = [];
    const environments = resources.filter((r) => r.type === GITHUB_TYPES.environment);
    const policies = resources.filter((r) => r.type === GITHUB_TYPES.branchPolicy);
    const trusted = trustedEnvironments(resources);
    const configured = ownerAndName(context.repository);
    const CONFIG =
      "Fix: set the bootstrap's `repository` (and, for the CLI, the fic-trust-allowed policy's config) " +
      "to the repository CI runs in.";
    for (const provider of resources.filter((r) => r.type === GITHUB_TYPES.provider)) {
      const owner = inputField(provider, "owner");
      if (configured && owner !== configured.owner) {
        findings.push({
          resource: provider,
          message:
            `${ref(provider)} manages owner ${show(owner)}, not the ` +
            `configured repository's owner "${configured.owner}". Fix: set owner: "${configured.owner}". ${CONFIG}`,
        });
      }
    }
    for (const env of environments) {
      const name = inputField(env, "environment");
      const policy = inputField(env, "deploymentBranchPolicy");
      if (inputField(env, "canAdminsBypass") !== false) {
        findings.push({
          resource: env,
          message:
            `${ref(env)} has canAdminsBypass ` +
            `${show(inputField(env, "canAdminsBypass"))} (GitHub's default is true): a repository admin could run a ` +
            `deploy job from any branch and get the deploy identity's token. Fix: set canAdminsBypass: false.`,
        });
      }
      if (policy?.customBranchPolicies !== true || policy?.protectedBranches !== false) {
        findings.push({
          resource: env,
          message:
            `${ref(env)} has deploymentBranchPolicy ${show(policy)}: without ` +
            `custom branch policies any branch (or every protected branch) may deploy. Fix: set ` +
            `deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: ` +
            `true } and one RepositoryEnvironmentDeploymentPolicy ` +
            `with branchPattern "${DEPLOY_BRANCH}".`,
        });
      }
      if (configured && inputField(env, "repository") !== configured.name) {
        findings.push({
          resource: env,
          message:
            `${ref(env)} is in repository ` +
            `${show(inputField(env, "repository"))}, not the configured "${configured.name}". ${CONFIG}`,
        });
      }
      if (!trusted.includes(name)) {
        findings.push({
          resource: env,
          message:
            `${ref(env)} protects environment ${show(name)}, which no CI ` +
            `identity of this stack trusts (${trusted.map(show).join(", ") || "none"}): the deploy identity's ` +
            `environment stays unprotected. Fix: set environment to the bootstrap's deployEnvironment.`,
        });
      }
      const own = policies.filter(
        (p) => inputField(p, "environment") === name && inputField(p, "repository") === inputField(env, "repository"),
      );
      if (!own.some((p) => inputField(p, "branchPattern") === DEPLOY_BRANCH)) {
        findings.push({
          resource: env,
          message:
            `${ref(env)} has no deployment policy admitting ` +
            `"${DEPLOY_BRANCH}": with custom branch policies and none listed, nothing deploys. Fix: add a ` +
            `RepositoryEnvironmentDeploymentPolicy { environment: ${show(name)}, branchPattern: "${DEPLOY_BRANCH}" }.`,
        });
      }
    }
    for (const p of policies) {
      const branch = inputField(p, "branchPattern");
      const tag = inputField(p, "tagPattern");
      if (branch !== DEPLOY_BRANCH || tag !== undefined) {
        findings.push({
          resource: p,
          message:
            `${ref(p)} admits ${
              tag !== undefined ? `tag pattern ${show(tag)}` : `branch pattern ${show(branch)}`
            }: every branch or tag it matches could run a deploy job and get the ` +
            `deploy identity's token. Fix: set branchPattern: "${DEPLOY_BRANCH}" (exactly) and no tagPattern.`,
        });
      }
      const env = environments.find(
        (e) =>
          inputField(e, "environment") === inputField(p, "environment") &&
          inputField(e, "repository") === inputField(p, "repository"),
      );
      if (!env) {
        findings.push({
          resource: p,
          message:
            `${ref(p)} adds a deployment policy to environment ` +
            `${show(inputField(p, "environment"))} of ${show(inputField(p, "repository"))}, ` +
            `which this stack does not ` +
            `manage: it widens an environment whose other rules the pack cannot see. Fix: delete it, or attach it to ` +
            `the stack's own RepositoryEnvironment.`,
        });
      }
    }
    // Once the stack manages environments, every environment a CI identity trusts must be one of them.
    if (environments.length > 0) {
      for (const name of new Set(trusted)) {
        if (!environments.some((e) => inputField(e, "environment") === name)) {
          findings.push({
            message:
              `A CI identity trusts GitHub environment ${show(name)}, which this stack does ` +
              `not protect (it manages ${environments.map((e) => show(inputField(e, "environment"))).join(", ")}). ` +
              `Fix: manage that environment (the bootstrap's deployEnvironment) with the main-only policy.`,
          });
        }
      }
    }
    return findings;
  },
);
