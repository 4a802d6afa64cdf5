import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import * as authorization from "@pulumi/azure-native/authorization";
import * as resources from "@pulumi/azure-native/resources";
import { refuseInvalidArguments } from "../../common/invalid-arguments";
import { microsoftGraph } from "../../common/microsoft-graph";
import { type GitHubRepository, environmentSubject, parseRepository, pullRequestSubject } from "../../contract/github";
import { type DeployAccess, bootstrapConfigDefaults, bootstrapProblems } from "../bootstrap-config";
import { BuiltInRole, type BuiltInRoleName, GraphAppRole } from "../roles";
import { DeployEnvironment, deployEnvironmentCommands } from "./deploy-environment";
import { GitHubActionsIdentity } from "./github-identity";
import { StateStore } from "./state-store";

/** Arguments of {@link CiBootstrap}. Names are plain strings: they are checked before anything registers. */
export interface CiBootstrapArgs {
  /**
   * Required. The GitHub repository as `OWNER/REPO` or in GitHub's immutable form `OWNER@OWNER_ID/REPO@REPO_ID`,
   * exactly as GitHub spells it: every subject is built from the form given.
   */
  readonly repository: string;
  /** Optional. The GitHub environment deploy jobs run in. Defaults to `production`. */
  readonly deployEnvironment?: string;
  /**
   * Optional. Create the deploy environment on GitHub (branch policy `main` only, admins included, and the reviewers
   * below) with the GitHub provider, which reads GITHUB_TOKEN from the environment. Defaults to false:
   * `githubEnvironmentCommands` then holds the `gh api` calls that do the same.
   */
  readonly manageGitHubEnvironment?: boolean;
  /** Optional. GitHub user IDs of the deploy environment's required reviewers (at most 6). Defaults to none. */
  readonly deployReviewerIds?: readonly number[];
  /** Required. Azure region for every resource. */
  readonly location: string;
  /** Required. The resource group the app stack deploys into (created here). */
  readonly targetResourceGroupName: string;
  /** Required. The resource group for the state account and the vault (created here). */
  readonly stateResourceGroupName: string;
  /** Required. State storage account name (3-24 lower-case letters and digits). */
  readonly stateStorageAccountName: string;
  /** Optional. Blob container for the checkpoints. Defaults to `pulumi-state`. */
  readonly stateContainerName?: string;
  /** Required. Key Vault name (3-24 letters, digits, hyphens). */
  readonly keyVaultName: string;
  /** Optional. Key Vault key wrapping the stacks' secrets. Defaults to `pulumi-state`. */
  readonly stateKeyName?: string;
  /**
   * Optional. `least` grants Website Contributor, Web Plan Contributor, Managed Identity Contributor, Managed Identity
   * Operator and Azure Managed Redis Contributor on the target group; `contributor` grants Contributor there instead.
   * Defaults to `least`.
   */
  readonly deployAccess?: DeployAccess;
  /** Optional. Object ID of an app registration made before CI took over; the deploy identity becomes an owner. */
  readonly appRegistrationObjectId?: string;
  /** Optional. Object ID of the person migrating existing state; gets blob and key data access. Defaults to none. */
  readonly operatorObjectId?: string;
  /** Optional. Tags for every Azure resource that takes them. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/** The roles the deploy identity holds on the target resource group, per access level. */
export const deployRoles: Record<DeployAccess, BuiltInRoleName[]> = {
  // The app stack creates a managed identity, a plan and a site wearing that identity: sites/* (Website Contributor)
  // cannot create the plan (Web Plan Contributor), the identity (Managed Identity Contributor), or attach the identity
  // to the site (`userAssignedIdentities/*/assign/action`, Managed Identity Operator). With scaleOut it also creates
  // Azure Managed Redis (`Microsoft.Cache/redisEnterprise/*`, Azure Managed Redis Contributor), which none of the
  // others
  // covers. test/bootstrap/permissions.test.ts maps every resource type the app stack creates to one of these.
  least: [
    "WebsiteContributor",
    "WebPlanContributor",
    "ManagedIdentityContributor",
    "ManagedIdentityOperator",
    "AzureManagedRedisContributor",
  ],
  // Anything in the group (for stacks that add other resource types), still without the right to grant access.
  contributor: ["Contributor"],
};

/**
 * Everything CI needs, created once by someone with the rights: a preview identity trusted only by pull-request jobs,
 * a deploy identity trusted only by jobs in the deploy environment, the least grants each needs, and a state store
 * (blob container + Key Vault key) reached with Entra tokens alone.
 */
export class CiBootstrap extends pulumi.ComponentResource {
  public readonly tenantId: pulumi.Output<string>;
  public readonly subscriptionId: pulumi.Output<string>;
  public readonly previewClientId: pulumi.Output<string>;
  public readonly deployClientId: pulumi.Output<string>;
  public readonly backendUrl: pulumi.Output<string>;
  public readonly secretsProviderUrl: pulumi.Output<string>;
  public readonly targetResourceGroupName: pulumi.Output<string>;
  /** The subjects the two identities trust, as built from the repository's form. */
  public readonly subjects: { readonly preview: string; readonly deploy: string };
  /**
   * The `gh api` calls that set up the deploy environment, when `manageGitHubEnvironment` is false; empty otherwise.
   */
  public readonly githubEnvironmentCommands: readonly string[];

  constructor(name: string, args: CiBootstrapArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:bootstrap:CiBootstrap", name, {}, opts);

    const d = bootstrapConfigDefaults;
    const deployEnvironment = args.deployEnvironment ?? d.deployEnvironment;
    const deployAccess = args.deployAccess ?? d.deployAccess;
    const stateContainerName = args.stateContainerName ?? d.stateContainerName;
    const stateKeyName = args.stateKeyName ?? d.stateKeyName;
    const reviewerIds = args.deployReviewerIds ?? [];
    // Check every name before anything registers, with the rules of the project's config keys.
    const problems = bootstrapProblems({ ...args, deployEnvironment, stateContainerName, stateKeyName, deployAccess });
    if (reviewerIds.length > 6 || reviewerIds.some((id) => !Number.isSafeInteger(id) || id <= 0)) {
      problems.push({
        key: "deployReviewerIds",
        message: "GitHub takes at most 6 required reviewers, each a positive user ID (gh api users/<login> --jq .id).",
      });
    }
    refuseInvalidArguments(
      "CiBootstrap",
      problems.map((p) => ({ propertyPath: p.key, reason: p.message })),
    );
    const repository: GitHubRepository = parseRepository(args.repository)!;
    this.subjects = {
      preview: pullRequestSubject(repository),
      deploy: environmentSubject(repository, deployEnvironment),
    };

    const client = authorization.getClientConfigOutput({ parent: this });
    const roleDefinition = (role: BuiltInRoleName) =>
      pulumi.interpolate`/subscriptions/${client.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${
        BuiltInRole[role]
      }`;

    // Create the group the app stack deploys into, and the group that keeps state apart from it.
    const target = new resources.ResourceGroup(
      `${name}-target`,
      { resourceGroupName: args.targetResourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );
    const stateGroup = new resources.ResourceGroup(
      `${name}-state`,
      { resourceGroupName: args.stateResourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );

    // Create the state container and the secrets key.
    const store = new StateStore(
      `${name}-store`,
      {
        resourceGroupName: stateGroup.name,
        location: args.location,
        tenantId: client.tenantId,
        storageAccountName: args.stateStorageAccountName,
        containerName: stateContainerName,
        keyVaultName: args.keyVaultName,
        keyName: stateKeyName,
        tags: args.tags,
      },
      { parent: this },
    );

    // Create the two identities, each trusting one kind of GitHub job.
    const preview = new GitHubActionsIdentity(
      `${name}-preview`,
      { resourceGroupName: stateGroup.name, location: args.location, subject: this.subjects.preview, tags: args.tags },
      { parent: this },
    );
    const deploy = new GitHubActionsIdentity(
      `${name}-deploy`,
      {
        resourceGroupName: stateGroup.name,
        location: args.location,
        subject: this.subjects.deploy,
        tags: args.tags,
      },
      { parent: this },
    );

    // Grant each identity its Azure roles. principalType spares ARM a directory look-up that can miss a principal
    // created seconds ago; a replaced assignment (same principal, role and scope) must go first or ARM answers 409.
    const grant = (
      who: string,
      principalId: pulumi.Input<string>,
      role: BuiltInRoleName,
      what: string,
      scope: pulumi.Input<string>,
      principalType: authorization.PrincipalType = authorization.PrincipalType.ServicePrincipal,
    ) =>
      new authorization.RoleAssignment(
        `${name}-${who}-${what}-${role}`,
        { principalId, principalType, roleDefinitionId: roleDefinition(role), scope },
        { parent: this, deleteBeforeReplace: true },
      );
    grant("preview", preview.principalId, "Reader", "target", target.id);
    grant("preview", preview.principalId, "StorageBlobDataReader", "state", store.containerId);
    grant("preview", preview.principalId, "KeyVaultCryptoUser", "key", store.keyId);
    for (const role of deployRoles[deployAccess]) grant("deploy", deploy.principalId, role, "target", target.id);
    grant("deploy", deploy.principalId, "StorageBlobDataContributor", "state", store.containerId);
    grant("deploy", deploy.principalId, "KeyVaultCryptoUser", "key", store.keyId);
    if (args.operatorObjectId) {
      grant(
        "operator",
        args.operatorObjectId,
        "StorageBlobDataContributor",
        "state",
        store.containerId,
        authorization.PrincipalType.User,
      );
      grant(
        "operator",
        args.operatorObjectId,
        "KeyVaultCryptoUser",
        "key",
        store.keyId,
        authorization.PrincipalType.User,
      );
    }

    // Grant the Microsoft Graph application permissions, looked up by value on Graph's own service principal.
    const graph = microsoftGraph(this);
    const appRole = (who: string, principalId: pulumi.Input<string>, value: string) =>
      new azuread.AppRoleAssignment(
        `${name}-${who}-graph-${value}`,
        {
          appRoleId: graph.appRoleId(value),
          principalObjectId: principalId,
          resourceObjectId: graph.servicePrincipalObjectId,
        },
        { parent: this, deleteBeforeReplace: true },
      );
    appRole("preview", preview.principalId, GraphAppRole.ApplicationReadAll);
    appRole("deploy", deploy.principalId, GraphAppRole.ApplicationReadWriteOwnedBy);

    // Application.ReadWrite.OwnedBy reaches only apps the identity owns. An app it creates lists it as owner by
    // itself; an app registration made earlier (by a person's `pulumi up`) needs the identity added as an owner.
    if (args.appRegistrationObjectId) {
      new azuread.ApplicationOwner(
        `${name}-deploy-owns-app`,
        { applicationId: `/applications/${args.appRegistrationObjectId}`, ownerObjectId: deploy.principalId },
        { parent: this },
      );
    }

    // Bind the deploy identity to `main`: its subject is issued only to jobs that pass the environment's branch policy.
    if (args.manageGitHubEnvironment) {
      const environment = { repository, environment: deployEnvironment, reviewerIds };
      new DeployEnvironment(`${name}-environment`, environment, { parent: this });
      this.githubEnvironmentCommands = [];
    } else {
      this.githubEnvironmentCommands = deployEnvironmentCommands(repository, deployEnvironment, reviewerIds);
    }

    this.tenantId = client.tenantId;
    this.subscriptionId = client.subscriptionId;
    this.previewClientId = preview.clientId;
    this.deployClientId = deploy.clientId;
    this.backendUrl = store.backendUrl;
    this.secretsProviderUrl = store.secretsProviderUrl;
    this.targetResourceGroupName = target.name;
    this.registerOutputs({
      tenantId: this.tenantId,
      subscriptionId: this.subscriptionId,
      previewClientId: this.previewClientId,
      deployClientId: this.deployClientId,
      backendUrl: this.backendUrl,
      secretsProviderUrl: this.secretsProviderUrl,
      targetResourceGroupName: this.targetResourceGroupName,
    });
  }
}
