/** Where data lives and who reaches it: storage accounts, role assignments and Redis caches. */
import { type ResourceRule, resourceRule } from "./model";
import { TLS_OK, arm, isRedisCache, isRedisEnterprise, isRedisEnterpriseDb, ref, show } from "./shared";

const STORAGE_TLS_OK = ["TLS1_2", "TLS1_3"];
const PRINCIPAL_TYPES = ["ServicePrincipal", "User", "Group", "ForeignGroup", "Device"];
const RG_SCOPE = /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+(?:\/.*)?$/i;

/** The fewest days a deleted or overwritten state blob, and a deleted container, stay recoverable (bootstrap: 30). */
export const MIN_STATE_RETENTION_DAYS = 7;

const retention = (policy: any, days: number) => policy?.enabled === true && Number(policy?.days) >= days;

/**
 * The state account's Blob service (`storage:BlobServiceProperties`, the singleton "default"): versioning keeps each
 * overwritten checkpoint, blob soft delete each deleted blob and version, container soft delete a deleted container,
 * and `allowPermanentDelete` would let a caller purge soft-deleted blobs and versions early
 * (learn.microsoft.com/azure/storage/blobs/versioning-overview, soft-delete-blob-overview,
 * soft-delete-container-overview; @pulumi/azure-native storage BlobServicePropertiesArgs).
 */
export const stateStoreRecoverable: ResourceRule = resourceRule(
  "state-store-recoverable",
  `A storage account's Blob service keeps versions, and soft-deletes blobs and containers for at least ` +
    `${MIN_STATE_RETENTION_DAYS} days, with no permanent delete.`,
  arm("storage", "BlobServiceProperties"),
  (r) => {
    const blobs = r.props.deleteRetentionPolicy;
    const containers = r.props.containerDeleteRetentionPolicy;
    const days = MIN_STATE_RETENTION_DAYS;
    return [
      r.props.isVersioningEnabled !== true
        ? `${ref(r)} has isVersioningEnabled ${show(r.props.isVersioningEnabled)}: an overwritten checkpoint is ` +
          "lost. Fix: set isVersioningEnabled: true."
        : undefined,
      !retention(blobs, days)
        ? `${ref(r)} has deleteRetentionPolicy ${show(blobs)}: a deleted checkpoint cannot be brought back. Fix: set ` +
          `deleteRetentionPolicy: { enabled: true, days: 30 } (at least ${days}).`
        : undefined,
      blobs?.allowPermanentDelete === true
        ? `${ref(r)} has deleteRetentionPolicy.allowPermanentDelete true: soft-deleted checkpoints and versions ` +
          "can be purged before their retention ends. Fix: set allowPermanentDelete: false."
        : undefined,
      !retention(containers, days)
        ? `${ref(r)} has containerDeleteRetentionPolicy ${show(containers)}: deleting the state container deletes ` +
          `every stack's state for good. Fix: set containerDeleteRetentionPolicy: { enabled: true, days: 30 } (at ` +
          `least ${days}).`
        : undefined,
    ];
  },
);

export const storageAndRoleRules: readonly ResourceRule[] = [
  resourceRule(
    "storage-account-hardened",
    "A storage account allows no shared-key access and no public blob access, and requires TLS 1.2 or later.",
    arm("storage", "StorageAccount"),
    (r) => [
      r.props.allowSharedKeyAccess !== false
        ? `${ref(r)} has allowSharedKeyAccess ${show(r.props.allowSharedKeyAccess)} (account keys and SAS work). ` +
          `Fix: set allowSharedKeyAccess: false and use Entra ID (RBAC) data access.`
        : undefined,
      r.props.allowBlobPublicAccess !== false
        ? `${ref(r)} has allowBlobPublicAccess ${show(r.props.allowBlobPublicAccess)}. ` +
          `Fix: set allowBlobPublicAccess: false.`
        : undefined,
      !STORAGE_TLS_OK.includes(r.props.minimumTlsVersion)
        ? `${ref(r)} has minimumTlsVersion ${show(r.props.minimumTlsVersion)}. Fix: set minimumTlsVersion: "TLS1_2".`
        : undefined,
    ],
  ),
  stateStoreRecoverable,
  resourceRule(
    "role-assignment-scope",
    "A role assignment is scoped to a resource group or narrower, never a subscription or management group.",
    arm("authorization", "RoleAssignment"),
    (r) => [
      typeof r.props.scope !== "string" || !RG_SCOPE.test(r.props.scope)
        ? `${ref(r)} has scope ${show(r.props.scope)}, wider than a resource group. Fix: scope it to the resource ` +
          `group (/subscriptions/{id}/resourceGroups/{name}) or to the one resource it needs.`
        : undefined,
    ],
  ),
  resourceRule(
    "role-assignment-principal-type",
    "A role assignment names its principal's type, so a brand-new identity is not rejected while it replicates.",
    arm("authorization", "RoleAssignment"),
    (r) => [
      !PRINCIPAL_TYPES.includes(r.props.principalType)
        ? `${ref(r)} has principalType ${show(r.props.principalType)}. Fix: set principalType, e.g. ` +
          `"ServicePrincipal" for a managed identity (one of ${PRINCIPAL_TYPES.join(", ")}).`
        : undefined,
    ],
  ),
];

export const redisRules: readonly ResourceRule[] = [
  resourceRule(
    "redis-no-access-keys",
    "A Redis cache takes Microsoft Entra tokens only: access-key authentication is off.",
    (type) => isRedisCache(type) || isRedisEnterpriseDb(type),
    (r) => {
      if (isRedisEnterpriseDb(r.type)) {
        return r.props.accessKeysAuthentication === "Disabled"
          ? []
          : [
              `${ref(r)} has accessKeysAuthentication ${show(r.props.accessKeysAuthentication)}; access keys are ` +
                `shared secrets (and on by default). Fix: set ` +
                `accessKeysAuthentication: "Disabled" and give the app's ` +
                `managed identity an AccessPolicyAssignment.`,
            ];
      }
      const problems: string[] = [];
      if (r.props.disableAccessKeyAuthentication !== true) {
        problems.push(
          `${ref(r)} has disableAccessKeyAuthentication ${show(r.props.disableAccessKeyAuthentication)}; access ` +
            `keys are shared secrets. Fix: set disableAccessKeyAuthentication: true.`,
        );
      }
      if (r.props.redisConfiguration?.aadEnabled !== "true") {
        problems.push(
          `${ref(r)} has redisConfiguration.aadEnabled ${show(r.props.redisConfiguration?.aadEnabled)}; without ` +
            `Entra authentication nothing can sign in once keys are off. Fix: set redisConfiguration: { aadEnabled: ` +
            `"true" } and add an AccessPolicyAssignment for the app's identity.`,
        );
      }
      return problems;
    },
  ),
  resourceRule(
    "redis-tls-only",
    "A Redis cache is reached over TLS 1.2 or later only.",
    (type) => isRedisCache(type) || isRedisEnterpriseDb(type) || isRedisEnterprise(type),
    (r) => {
      if (isRedisEnterpriseDb(r.type)) {
        return r.props.clientProtocol === undefined || r.props.clientProtocol === "Encrypted"
          ? []
          : [
              `${ref(r)} has clientProtocol ${show(r.props.clientProtocol)}: tokens would cross the ` +
                `network in clear. Fix: set clientProtocol: "Encrypted".`,
            ];
      }
      const problems: string[] = [];
      if (!TLS_OK.includes(r.props.minimumTlsVersion)) {
        problems.push(
          `${ref(r)} has minimumTlsVersion ${show(r.props.minimumTlsVersion)}. Fix: set minimumTlsVersion: "1.2".`,
        );
      }
      if (isRedisCache(r.type) && r.props.enableNonSslPort === true) {
        problems.push(
          `${ref(r)} has enableNonSslPort true: tokens would cross the network ` +
            `in clear. Fix: set enableNonSslPort: false.`,
        );
      }
      return problems;
    },
  ),
];
