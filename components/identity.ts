import * as pulumi from "@pulumi/pulumi";
import * as managedidentity from "@pulumi/azure-native/managedidentity";

/** Arguments of {@link ManagedIdentity}. */
export interface ManagedIdentityArgs {
  /** Required. The resource group to create the identity in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Optional. Tags for the identity. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A user-assigned managed identity (UAMI): the web app's only credential. Its token, requested for the token-exchange
 * audience, is the client assertion the app registration's federated credential accepts. Only user-assigned identities
 * can be a FIC for an app registration (notes/entra-fic.md §1), so this is never a system-assigned identity.
 */
export class ManagedIdentity extends pulumi.ComponentResource {
  /** ARM resource ID, attached to the web app. */
  public readonly id: pulumi.Output<string>;
  /** Client (application) ID: what the app names when it asks the managed-identity endpoint for a token. */
  public readonly clientId: pulumi.Output<string>;
  /** Principal (object) ID: the `sub` of the identity's tokens, and so the FIC's subject. */
  public readonly principalId: pulumi.Output<string>;
  /** Tenant the identity lives in; must be the app registration's tenant. */
  public readonly tenantId: pulumi.Output<string>;

  constructor(name: string, args: ManagedIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:ManagedIdentity", name, {}, opts);

    // Create the identity the app signs in with.
    const identity = new managedidentity.UserAssignedIdentity(
      `${name}-uami`,
      { resourceGroupName: args.resourceGroupName, location: args.location, tags: args.tags },
      { parent: this },
    );

    this.id = identity.id;
    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.tenantId = identity.tenantId;
    this.registerOutputs({
      id: this.id,
      clientId: this.clientId,
      principalId: this.principalId,
      tenantId: this.tenantId,
    });
  }
}
