/**
 * What Azure and Entra offer that this project can choose from, and what it chooses by default: the Linux App Service
 * plan SKUs, the Node.js runtimes, the app registration's sign-in audiences, the bounds of the readiness wait and the
 * scaled-out shape (instances, Azure Managed Redis SKUs). The rules that check a value against these lists are in
 * rules.ts; the clouds are in clouds.ts. The Linux runtime stacks an app of your own may run on, and their rules, are
 * in runtimes.ts: the sample app bundles this file, and a list it never reads would still change its package's bytes.
 */

/**
 * Linux App Service plan SKUs this project knows, with the tier ARM expects, whether "Always On" is allowed and the
 * most instances the tier scales out to
 * (learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits#app-service-limits).
 */
export const planSkus = {
  F1: { tier: "Free", alwaysOn: false, maxInstances: 1 },
  B1: { tier: "Basic", alwaysOn: true, maxInstances: 3 },
  B2: { tier: "Basic", alwaysOn: true, maxInstances: 3 },
  B3: { tier: "Basic", alwaysOn: true, maxInstances: 3 },
  S1: { tier: "Standard", alwaysOn: true, maxInstances: 10 },
  S2: { tier: "Standard", alwaysOn: true, maxInstances: 10 },
  S3: { tier: "Standard", alwaysOn: true, maxInstances: 10 },
  P0v3: { tier: "PremiumV3", alwaysOn: true, maxInstances: 30 },
  P1v3: { tier: "PremiumV3", alwaysOn: true, maxInstances: 30 },
  P2v3: { tier: "PremiumV3", alwaysOn: true, maxInstances: 30 },
  P3v3: { tier: "PremiumV3", alwaysOn: true, maxInstances: 30 },
  P1mv3: { tier: "PremiumMV3", alwaysOn: true, maxInstances: 30 },
  P2mv3: { tier: "PremiumMV3", alwaysOn: true, maxInstances: 30 },
  P3mv3: { tier: "PremiumMV3", alwaysOn: true, maxInstances: 30 },
  P4mv3: { tier: "PremiumMV3", alwaysOn: true, maxInstances: 30 },
  P5mv3: { tier: "PremiumMV3", alwaysOn: true, maxInstances: 30 },
} as const;
export type PlanSku = keyof typeof planSkus;

/** The plan a new stack runs on: the cheapest tier that allows Always On. */
export const DEFAULT_PLAN_SKU: PlanSku = "B1";

/** Node.js majors App Service offers as `NODE|<major>-lts` on Linux. */
export const nodeVersions = [22, 24] as const;
export type NodeVersion = (typeof nodeVersions)[number];

/** The runtime the sample app is built and tested for. */
export const DEFAULT_NODE_VERSION: NodeVersion = 22;

/** Values of the app registration's `signInAudience`. */
export const signInAudiences = [
  "AzureADMyOrg",
  "AzureADMultipleOrgs",
  "AzureADandPersonalMicrosoftAccount",
  "PersonalMicrosoftAccount",
] as const;
export type SignInAudience = (typeof signInAudiences)[number];

/** Single tenant: only the directory the app is registered in may sign in. */
export const DEFAULT_SIGN_IN_AUDIENCE: SignInAudience = "AzureADMyOrg";

/**
 * Whether Always On is on when not set: wherever the plan allows it. The Free tier forbids it; an existing plan's tier
 * is unknown before deployment, so it is assumed to allow it.
 */
export function alwaysOnByDefault(planSku: PlanSku, onExistingPlan: boolean): boolean {
  return onExistingPlan || planSkus[planSku].alwaysOn;
}

/** The app registration's name when none is given. */
export function defaultDisplayName(webAppName: string): string {
  return `Secretless sign-in (${webAppName})`;
}

/**
 * How long `pulumi up` waits for the deployed app's `/readyz` by default, in minutes: long enough for a new federated
 * credential to propagate in Entra (AADSTS70021 clears within minutes) and for a cold container to start.
 */
export const DEFAULT_READINESS_TIMEOUT_MINUTES = 10;

/** The readiness wait's bounds, in whole minutes: at least a minute, at most two hours. */
export const READINESS_TIMEOUT_MINUTES = { min: 1, max: 120 } as const;

/**
 * How many instances the plan runs when the stack scales out (`scaleOut: true`) and `instanceCount` is not set: two,
 * the
 * fewest that survive one instance failing. Without `scaleOut` the app runs on one instance (sessions in its memory).
 */
export const DEFAULT_SCALED_OUT_INSTANCES = 2;

/**
 * Azure Managed Redis SKUs (`Microsoft.Cache/redisEnterprise`, azure-native's `redisenterprise.SkuName`): the Balanced,
 * Memory Optimized and Compute Optimized tiers. The retiring Enterprise and Enterprise Flash SKUs and the preview Flash
 * Optimized tier are left out.
 */
export const redisSkus = [
  "Balanced_B0",
  "Balanced_B1",
  "Balanced_B3",
  "Balanced_B5",
  "Balanced_B10",
  "Balanced_B20",
  "Balanced_B50",
  "Balanced_B100",
  "Balanced_B150",
  "Balanced_B250",
  "Balanced_B350",
  "Balanced_B500",
  "Balanced_B700",
  "Balanced_B1000",
  "MemoryOptimized_M10",
  "MemoryOptimized_M20",
  "MemoryOptimized_M50",
  "MemoryOptimized_M100",
  "MemoryOptimized_M150",
  "MemoryOptimized_M250",
  "MemoryOptimized_M350",
  "MemoryOptimized_M500",
  "MemoryOptimized_M700",
  "MemoryOptimized_M1000",
  "MemoryOptimized_M1500",
  "MemoryOptimized_M2000",
  "ComputeOptimized_X3",
  "ComputeOptimized_X5",
  "ComputeOptimized_X10",
  "ComputeOptimized_X20",
  "ComputeOptimized_X50",
  "ComputeOptimized_X100",
  "ComputeOptimized_X150",
  "ComputeOptimized_X250",
  "ComputeOptimized_X350",
  "ComputeOptimized_X500",
  "ComputeOptimized_X700",
] as const;
export type RedisSku = (typeof redisSkus)[number];

/** The smallest Azure Managed Redis (0.5 GB, Balanced): sessions and pending sign-ins are a few kilobytes each. */
export const DEFAULT_REDIS_SKU: RedisSku = "Balanced_B0";

/**
 * The session database's eviction policy (redisenterprise Database `evictionPolicy`, one of AllKeysLFU, AllKeysLRU,
 * AllKeysRandom, VolatileLRU, VolatileLFU, VolatileTTL, VolatileRandom, NoEviction in @pulumi/azure-native's
 * `redisenterprise.EvictionPolicy`; settable on create and update, default VolatileLRU:
 * https://learn.microsoft.com/dotnet/api/azure.resourcemanager.redisenterprisecache.models.evictionpolicy and
 * https://learn.microsoft.com/azure/redis/best-practices-memory-management). NoEviction, so a front-channel logout's
 * sid index is never evicted before the sessions it names: full memory refuses new writes (a 503 sign-in) instead of
 * dropping keys silently; every key the app writes has a TTL and the app bounds its sessions. See app/stores/redis.ts.
 */
export const SESSION_REDIS_EVICTION_POLICY = "NoEviction";

/** The TLS port of an Azure Managed Redis database (the service's default; there is no plain-text port). */
export const AZURE_MANAGED_REDIS_PORT = 10000;
