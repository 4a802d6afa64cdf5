import * as pulumi from "@pulumi/pulumi";
import * as redisenterprise from "@pulumi/azure-native/redisenterprise";
import {
  AZURE_MANAGED_REDIS_PORT,
  DEFAULT_REDIS_SKU,
  SESSION_REDIS_EVICTION_POLICY,
  type RedisSku,
} from "../contract/catalogue";

/** Arguments of {@link SessionRedis}. */
export interface SessionRedisArgs {
  /** Required. The resource group to create the cache in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /**
   * Required. Principal (object) ID of the identity the app wears: the only Redis user, through an access policy
   * assignment.
   */
  readonly identityPrincipalId: pulumi.Input<string>;
  /** Optional. The Azure Managed Redis SKU. Defaults to `Balanced_B0`. */
  readonly sku?: RedisSku;
  /** Optional. Tags for the cache. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Azure Managed Redis (`Microsoft.Cache/redisEnterprise`) for the app's sessions and pending sign-ins, reached only
 * with
 * Microsoft Entra tokens: access keys off, TLS 1.2+ only, and one access policy assignment that lets the app's
 * managed identity in (the token is the password, the identity's object ID the user name). AOF persistence keeps
 * signed-in sessions across a cache restart.
 *
 * Azure Managed Redis rather than Azure Cache for Redis (`Microsoft.Cache/redis`): the Basic, Standard and Premium
 * tiers retire on 30 September 2028 and Microsoft points new work at Azure Managed Redis, which turns Entra
 * authentication on by default and switches access keys off per database. The database uses the Enterprise clustering
 * policy, so a non-cluster client works against one endpoint; the app keeps each atomic operation on one key.
 */
export class SessionRedis extends pulumi.ComponentResource {
  /** The host name the app connects to, e.g. `<name>.<region>.redis.azure.net`. */
  public readonly hostName: pulumi.Output<string>;
  /** The database's TLS port (10000). */
  public readonly port: pulumi.Output<number>;
  /** ARM resource ID of the cache (cluster). */
  public readonly id: pulumi.Output<string>;

  constructor(name: string, args: SessionRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:SessionRedis", name, {}, opts);

    // Create the cache: TLS 1.2 at least; Entra authentication is Azure Managed Redis's default.
    const cluster = new redisenterprise.RedisEnterprise(
      `${name}-cache`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: args.sku ?? DEFAULT_REDIS_SKU },
        minimumTlsVersion: redisenterprise.TlsVersion.TlsVersion_1_2,
        publicNetworkAccess: redisenterprise.PublicNetworkAccess.Enabled,
        tags: args.tags,
      },
      { parent: this },
    );

    // Create its one database: TLS only, no access keys, AOF every second, and nothing ever evicted: under an LRU
    // policy
    // a front-channel logout's sid index could go before the sessions it names; full memory refuses writes instead
    // (every key the app writes has a TTL, and the app bounds its sessions; app/stores/redis.ts).
    const database = new redisenterprise.Database(
      `${name}-db`,
      {
        resourceGroupName: args.resourceGroupName,
        clusterName: cluster.name,
        databaseName: "default",
        clientProtocol: redisenterprise.Protocol.Encrypted,
        accessKeysAuthentication: redisenterprise.AccessKeysAuthentication.Disabled,
        clusteringPolicy: redisenterprise.ClusteringPolicy.EnterpriseCluster,
        evictionPolicy: SESSION_REDIS_EVICTION_POLICY,
        persistence: { aofEnabled: true, aofFrequency: redisenterprise.AofFrequency.AofFrequency_1s },
        port: AZURE_MANAGED_REDIS_PORT,
      },
      { parent: this },
    );

    // Let the app's managed identity in: the "default" policy is the only one Azure Managed Redis offers (data access).
    new redisenterprise.AccessPolicyAssignment(
      `${name}-app-access`,
      {
        resourceGroupName: args.resourceGroupName,
        clusterName: cluster.name,
        databaseName: database.name,
        accessPolicyName: "default",
        // Assignment names are letters and digits; one assignment per database, so a fixed name.
        accessPolicyAssignmentName: "appidentity",
        user: { objectId: args.identityPrincipalId },
      },
      { parent: this },
    );

    this.hostName = cluster.hostName;
    this.port = database.port.apply((port) => port ?? AZURE_MANAGED_REDIS_PORT);
    this.id = cluster.id;
    this.registerOutputs({ hostName: this.hostName, port: this.port, id: this.id });
  }
}
