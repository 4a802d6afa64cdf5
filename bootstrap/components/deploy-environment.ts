import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import type { GitHubRepository } from "../../contract/github";

/**
 * Why an environment branch policy, not OIDC subject customization, binds the deploy identity to `main`:
 * - GitHub puts `environment:NAME` in a job's subject only when the job references the environment, and such a job
 *   runs only after passing the environment's protection rules, deployment branch policy included ("Jobs that
 *   reference an environment ... must pass any protection rules before running"; GitHub Docs, "Managing environments
 *   for deployment" and "OpenID Connect reference", filtering for a specific environment). A custom branch policy
 *   `main` therefore means no other branch's workflow can obtain `repo:…:environment:production`.
 * - Customizing the subject template to include `ref` is repository-wide: every job's subject changes, the pull-request
 *   subject then carries each PR's own `refs/pull/N/merge`, and a federated credential matches its subject exactly, so
 *   the preview identity could not follow. (Entra's flexible FICs with wildcards are not available for managed
 *   identities.)
 * Admins may not bypass the rules (`canAdminsBypass: false`), so the policy holds for everyone.
 */
export const DEPLOY_BRANCH = "main";

/**
 * Runs `create` with environment variable `name` hidden. @pulumi/github's Provider copies GITHUB_TOKEN into its `token`
 * input when none is given (node_modules/@pulumi/github/provider.js), and provider inputs are stored in state
 * (pulumi/pulumi-github#95, "Token is persisted in state storage backend"). Hidden from the SDK, the token stays in the
 * environment of the provider plugin, which reads GITHUB_TOKEN itself; the policy pack refuses a `token` input.
 */
function withoutEnv<T>(name: string, create: () => T): T {
  const value = process.env[name];
  delete process.env[name];
  try {
    return create();
  } finally {
    if (value !== undefined) process.env[name] = value;
  }
}

/** Arguments of {@link DeployEnvironment}. */
export interface DeployEnvironmentArgs {
  /** Required. The repository (either form; the GitHub API takes the names). */
  readonly repository: GitHubRepository;
  /** Required. The environment name the deploy identity's subject names. */
  readonly environment: string;
  /** Optional. GitHub user IDs of required reviewers (at most 6). Defaults to none. */
  readonly reviewerIds?: readonly number[];
}

/**
 * The GitHub environment the deploy job runs in, with a deployment branch policy that admits `main` only, admins
 * included, and the required reviewers when given. The GitHub provider reads its token from GITHUB_TOKEN at run time:
 * the token is never a resource input, so it is never written to config or state.
 */
export class DeployEnvironment extends pulumi.ComponentResource {
  public readonly environment: pulumi.Output<string>;

  constructor(name: string, args: DeployEnvironmentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:bootstrap:DeployEnvironment", name, {}, opts);
    const provider = withoutEnv(
      "GITHUB_TOKEN",
      () => new github.Provider(`${name}-github`, { owner: args.repository.owner }, { parent: this }),
    );
    const reviewers = args.reviewerIds ?? [];

    // Create (or take over) the environment: only custom branch policies may deploy, and admins cannot bypass.
    const environment = new github.RepositoryEnvironment(
      `${name}-environment`,
      {
        repository: args.repository.name,
        environment: args.environment,
        canAdminsBypass: false,
        deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
        reviewers: reviewers.length > 0 ? [{ users: [...reviewers] }] : undefined,
      },
      { parent: this, provider },
    );

    // Admit `main`, and nothing else.
    new github.RepositoryEnvironmentDeploymentPolicy(
      `${name}-main-only`,
      { repository: args.repository.name, environment: environment.environment, branchPattern: DEPLOY_BRANCH },
      { parent: this, provider },
    );

    this.environment = environment.environment;
    this.registerOutputs({ environment: this.environment });
  }
}

/**
 * The same environment set up by hand with the GitHub CLI, for a bootstrap run without GITHUB_TOKEN: the exact calls
 * (REST "Create or update an environment" and "Create a deployment branch policy").
 */
export function deployEnvironmentCommands(
  repo: GitHubRepository,
  environment: string,
  reviewerIds: readonly number[] = [],
): string[] {
  const path = `repos/${repo.owner}/${repo.name}/environments/${environment}`;
  const body = {
    can_admins_bypass: false,
    deployment_branch_policy: { protected_branches: false, custom_branch_policies: true },
    reviewers: reviewerIds.map((id) => ({ type: "User", id })),
  };
  return [
    `echo '${JSON.stringify(body)}' | gh api -X PUT ${path} --input -`,
    `gh api -X POST ${path}/deployment-branch-policies -f name=${DEPLOY_BRANCH} -f type=branch`,
  ];
}
