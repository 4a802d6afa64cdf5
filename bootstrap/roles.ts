/**
 * Azure built-in role definitions the bootstrap grants, by their fixed, tenant-independent GUIDs. azure-native has no
 * look-up of a role definition by name (its `getRoleDefinition` needs the ID), so the IDs are written down here, each
 * checked against Microsoft's built-in roles reference (MicrosoftDocs/azure-docs
 * articles/role-based-access-control/built-in-roles/{general,storage,security,identity,web-and-mobile,databases}.md,
 * whose JSON blocks give `"name": "<guid>"` and `"roleName"`; the summary table in built-in-roles.md lists each ID).
 */
export const BuiltInRole = {
  /** Read everything, change nothing: the preview identity's view of the app's resource group. */
  Reader: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
  /** Manage everything except access (no role assignments): the deploy identity's broad option. */
  Contributor: "b24988ac-6180-42a0-ab88-20f7382dd24c",
  /** `Microsoft.Web/sites/*` plus `serverFarms/read` and `serverFarms/join/action`: the web app, not its plan. */
  WebsiteContributor: "de139f84-1756-47ae-9be6-808fbbe84772",
  /** `Microsoft.Web/serverFarms/*`: the App Service plan. */
  WebPlanContributor: "2cc479cb-7b4d-49a8-b449-8c00fd0f0a4b",
  /** `Microsoft.ManagedIdentity/userAssignedIdentities/{read,write,delete}`: the app's own managed identity. */
  ManagedIdentityContributor: "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
  /** `userAssignedIdentities/*\/assign/action`: attach that identity to the web app. */
  ManagedIdentityOperator: "f1a07417-d97a-45cb-824c-7a7467783830",
  /**
   * "Create and manage Azure Managed Redis resources. Cannot read or write data stored in the cache."
   * (`Microsoft.Cache/redisEnterprise/*`): the scaled-out stack's Redis, its database and access policy assignment.
   * Built-in roles reference, Databases: Azure Managed Redis Contributor, 3015e5ed-6856-4ab3-b2f0-b8492aa30ca6.
   */
  AzureManagedRedisContributor: "3015e5ed-6856-4ab3-b2f0-b8492aa30ca6",
  /** Read blobs (data plane): `pulumi preview` reads the stack's checkpoint. */
  StorageBlobDataReader: "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1",
  /** Read, write and delete blobs (data plane): `pulumi up` writes the checkpoint and takes the lock. */
  StorageBlobDataContributor: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
  /** Encrypt/decrypt/wrap/unwrap with keys (data plane, RBAC vaults only): the stack's secrets provider. */
  KeyVaultCryptoUser: "12338af0-0e69-4776-bea7-57ae8d297424",
} as const;
export type BuiltInRoleName = keyof typeof BuiltInRole;

/**
 * Microsoft Graph application permissions (app roles) the identities get, by their `value`. Their IDs are looked up at
 * deploy time from Graph's service principal (`appRoleIds`), never pasted.
 */
export const GraphAppRole = {
  /** Read every app registration: the preview reads the app registration the stack manages. */
  ApplicationReadAll: "Application.Read.All",
  /** Create app registrations and manage only those it owns: the deploy creates and updates the stack's app. */
  ApplicationReadWriteOwnedBy: "Application.ReadWrite.OwnedBy",
} as const;

/**
 * The control-plane actions of the roles the deploy identity may hold on the app's group, as Microsoft's built-in roles
 * reference lists them (the `actions` of each role's JSON block; only those relevant to this stack are kept). The
 * permissions matrix (test/bootstrap/permissions.test.ts) maps every resource type the app stack creates to one of
 * these. Contributor's `*` covers all but authorization writes.
 */
export const RoleActions: Partial<Record<BuiltInRoleName, readonly string[]>> = {
  // Reader's one action: every GET; none of the POST `list…` actions that return keys, settings or publishing
  // profiles.
  Reader: ["*/read"],
  Contributor: ["*"],
  WebsiteContributor: [
    "Microsoft.Web/sites/*",
    "Microsoft.Web/serverFarms/read",
    "Microsoft.Web/serverFarms/join/action",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
  ],
  WebPlanContributor: [
    "Microsoft.Web/serverFarms/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
  ],
  ManagedIdentityContributor: [
    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
  ],
  ManagedIdentityOperator: [
    "Microsoft.ManagedIdentity/userAssignedIdentities/*/read",
    "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action",
  ],
  AzureManagedRedisContributor: ["Microsoft.Cache/redisEnterprise/*"],
};

/**
 * True when an action pattern covers `action`. ARM's `*` matches any run of characters, and a `/*\/` segment also
 * matches no segment at all: Managed Identity Operator's `userAssignedIdentities/*\/assign/action` is what grants
 * `userAssignedIdentities/assign/action`. Actions compare without regard to case.
 */
export function actionCovers(pattern: string, action: string): boolean {
  const escapeRegExp = (text: string) => text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
  const source = pattern
    .split("/*/")
    .map((part) => part.split("*").map(escapeRegExp).join(".*"))
    .join("/(?:.*/)?");
  return new RegExp(`^${source}$`, "i").test(action);
}
