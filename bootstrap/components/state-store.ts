import * as pulumi from "@pulumi/pulumi";
import * as keyvault from "@pulumi/azure-native/keyvault";
import * as storage from "@pulumi/azure-native/storage";

/** How long a deleted or overwritten checkpoint, and a deleted container, can be brought back. */
export const STATE_RETENTION_DAYS = 30;

/** Arguments of {@link StateStore}. */
export interface StateStoreArgs {
  /** Required. The resource group for the storage account and the Key Vault. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Required. The Entra tenant the vault trusts for RBAC. */
  readonly tenantId: pulumi.Input<string>;
  /** Required. Storage account name: 3-24 lower-case letters and digits, unique across Azure. */
  readonly storageAccountName: string;
  /** Required. The blob container holding Pulumi's checkpoints. */
  readonly containerName: string;
  /** Required. Key Vault name: 3-24 letters, digits and hyphens, unique across Azure. */
  readonly keyVaultName: string;
  /** Required. Name of the RSA key that wraps each stack's data key. */
  readonly keyName: string;
  /** Optional. Tags for the account and the vault. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Where a team keeps Pulumi state without a stored secret: a blob container reachable only with Entra tokens (shared
 * key off, so no account key or SAS can ever read it) and an RBAC Key Vault key that wraps each stack's secrets key,
 * in place of a passphrase. Pulumi's `azblob://` backend and `azurekeyvault://` secrets provider both authenticate with
 * the Azure SDK's DefaultAzureCredential (the logged-in `az` in CI).
 */
export class StateStore extends pulumi.ComponentResource {
  /** `pulumi login` URL: `azblob://<container>?storage_account=<account>`. */
  public readonly backendUrl: pulumi.Output<string>;
  /** Secrets provider URL: `azurekeyvault://<vault>.vault.azure.net/keys/<key>`. */
  public readonly secretsProviderUrl: pulumi.Output<string>;
  /** ARM ID of the container: the scope of the identities' blob data roles. */
  public readonly containerId: pulumi.Output<string>;
  /** ARM ID of the key: the scope of the identities' crypto role. */
  public readonly keyId: pulumi.Output<string>;

  constructor(name: string, args: StateStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:bootstrap:StateStore", name, {}, opts);

    // Create the state account: Entra auth only, private, TLS 1.2+, HTTPS only.
    const account = new storage.StorageAccount(
      `${name}-account`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        accountName: args.storageAccountName,
        kind: storage.Kind.StorageV2,
        sku: { name: storage.SkuName.Standard_ZRS },
        allowSharedKeyAccess: false,
        defaultToOAuthAuthentication: true,
        allowBlobPublicAccess: false,
        minimumTlsVersion: storage.MinimumTlsVersion.TLS1_2,
        enableHttpsTrafficOnly: true,
        allowCrossTenantReplication: false,
        tags: args.tags,
      },
      { parent: this, protect: true },
    );

    // Make every checkpoint write and delete recoverable: blob versioning keeps each overwritten checkpoint as a
    // version, blob soft delete keeps deleted blobs and versions, container soft delete keeps a deleted container, each
    // for 30 days, and nothing may be purged early (allowPermanentDelete false). The Blob service of an account is the
    // singleton "default" (https://learn.microsoft.com/azure/storage/blobs/versioning-overview,
    // .../soft-delete-blob-overview, .../soft-delete-container-overview).
    const blobService = new storage.BlobServiceProperties(
      `${name}-blob-service`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: account.name,
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: STATE_RETENTION_DAYS, allowPermanentDelete: false },
        containerDeleteRetentionPolicy: { enabled: true, days: STATE_RETENTION_DAYS },
      },
      { parent: this },
    );

    // Keep the checkpoints in a private container, created once versioning and soft delete are on.
    const container = new storage.BlobContainer(
      `${name}-container`,
      {
        resourceGroupName: args.resourceGroupName,
        accountName: account.name,
        containerName: args.containerName,
        publicAccess: storage.PublicAccess.None,
      },
      { parent: this, protect: true, dependsOn: [blobService] },
    );

    // Create the vault: RBAC only (no access policies), soft delete with purge protection, so the key that unlocks
    // every stack's secrets cannot be destroyed by mistake or malice.
    const vault = new keyvault.Vault(
      `${name}-vault`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        vaultName: args.keyVaultName,
        properties: {
          tenantId: args.tenantId,
          sku: { family: keyvault.SkuFamily.A, name: keyvault.SkuName.Standard },
          enableRbacAuthorization: true,
          enableSoftDelete: true,
          softDeleteRetentionInDays: 90,
          enablePurgeProtection: true,
        },
        tags: args.tags,
      },
      { parent: this, protect: true },
    );

    // Create the key Pulumi wraps each stack's data key with; it never leaves the vault.
    const key = new keyvault.Key(
      `${name}-key`,
      {
        resourceGroupName: args.resourceGroupName,
        vaultName: vault.name,
        keyName: args.keyName,
        properties: {
          kty: keyvault.JsonWebKeyType.RSA,
          keySize: 3072,
          keyOps: [
            keyvault.JsonWebKeyOperation.Encrypt,
            keyvault.JsonWebKeyOperation.Decrypt,
            keyvault.JsonWebKeyOperation.WrapKey,
            keyvault.JsonWebKeyOperation.UnwrapKey,
          ],
        },
        tags: args.tags,
      },
      { parent: this, protect: true },
    );

    this.backendUrl = pulumi.interpolate`azblob://${container.name}?storage_account=${account.name}`;
    this.secretsProviderUrl = pulumi.interpolate`azurekeyvault://${vault.name}.vault.azure.net/keys/${key.name}`;
    this.containerId = container.id;
    this.keyId = key.id;
    this.registerOutputs({
      backendUrl: this.backendUrl,
      secretsProviderUrl: this.secretsProviderUrl,
      containerId: this.containerId,
      keyId: this.keyId,
    });
  }
}
