import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity";

/** The issuer of every GitHub Actions OIDC token (github.com; GHES and data-residency hosts differ). */
export const GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com";
/** The audience azure/login requests and a federated credential for the public cloud accepts. */
export const AZURE_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

// The subjects themselves are built in contract/github.ts from the repository in the form it was given.

/** Arguments of {@link GitHubActionsIdentity}. */
export interface GitHubActionsIdentityArgs {
  /** Required. The resource group to create the identity in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /**
   * Required. The exact `sub` claim to trust, e.g. `repo:contoso/app:pull_request`. Entra compares it character for
   * character, case included (https://learn.microsoft.com/entra/workload-id/workload-identity-federation).
   */
  readonly subject: pulumi.Input<string>;
  /** Optional. Tags for the identity. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A user-assigned managed identity that GitHub Actions signs in as, with no stored credential: its federated identity
 * credential accepts a GitHub OIDC token whose issuer, audience and subject match exactly, and nothing else. A managed
 * identity needs no Graph application credential and no app registration of its own.
 */
export class GitHubActionsIdentity extends pulumi.ComponentResource {
  /** Client ID: what the workflow passes as ARM_CLIENT_ID / azure/login `client-id`. */
  public readonly clientId: pulumi.Output<string>;
  /** Principal (object) ID: what role assignments and Graph app-role assignments name. */
  public readonly principalId: pulumi.Output<string>;
  /** The identity's ARM resource ID. */
  public readonly id: pulumi.Output<string>;

  constructor(name: string, args: GitHubActionsIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:bootstrap:GitHubActionsIdentity", name, {}, opts);

    // Create the identity the workflow's jobs act as.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-uami`,
      { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );

    // Trust exactly one kind of GitHub job. The credential's name is immutable, so a change of subject updates it in
    // place; anything that replaces it must delete the old one first (issuer+subject are unique per identity).
    new managedidentity.FederatedIdentityCredential(
      `${name}-github`,
      {
        resourceGroupName: args.resourceGroupName,
        resourceName: identity.name,
        federatedIdentityCredentialResourceName: "github-actions",
        issuer: GITHUB_ACTIONS_ISSUER,
        subject: args.subject,
        audiences: [AZURE_TOKEN_EXCHANGE_AUDIENCE],
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.id = identity.id;
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, id: this.id });
  }
}
