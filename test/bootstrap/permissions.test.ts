import { describe, expect, it } from "vitest";
import { deployRoles } from "../../bootstrap/components/ci-bootstrap";
import { BuiltInRole, RoleActions, actionCovers } from "../../bootstrap/roles";
import { parseStackConfig } from "../../components/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { type AzureMocks, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";

/**
 * The permissions matrix: every resource type the app stack creates, under every documented switch, maps to an action
 * that a role in the deploy identity's `least` set grants (or, for Entra objects, to what Application.ReadWrite.OwnedBy
 * allows an owner). What neither covers must be refused by the stack's config when it runs in GitHub Actions.
 */

/** What creating (or updating) each registered type needs: an ARM action, or the Graph right OwnedBy gives an owner. */
const needs: Record<string, { arm: string[] } | { graph: "owned" | "not-owned-by" }> = {
  [T.uami]: { arm: ["Microsoft.ManagedIdentity/userAssignedIdentities/write"] },
  [T.plan]: { arm: ["Microsoft.Web/serverFarms/write"] },
  // The site, and wearing the app's identity: ARM checks assign/action on the identity for the site's write.
  [T.site]: { arm: ["Microsoft.Web/sites/write", "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"] },
  [T.scm]: { arm: ["Microsoft.Web/sites/basicPublishingCredentialsPolicies/write"] },
  [T.ftp]: { arm: ["Microsoft.Web/sites/basicPublishingCredentialsPolicies/write"] },
  "azure-native:web:WebAppDiagnosticLogsConfiguration": { arm: ["Microsoft.Web/sites/config/write"] },
  // Easy Auth: the site's auth settings v2 and its sticky setting names are both site config.
  "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": { arm: ["Microsoft.Web/sites/config/write"] },
  "azure-native:web:WebAppSlotConfigurationNames": { arm: ["Microsoft.Web/sites/config/write"] },
  [T.redis]: { arm: ["Microsoft.Cache/redisEnterprise/write"] },
  [T.redisDb]: { arm: ["Microsoft.Cache/redisEnterprise/databases/write"] },
  [T.redisAccess]: { arm: ["Microsoft.Cache/redisEnterprise/databases/accessPolicyAssignments/write"] },
  // The deploy step's OneDeploy to Kudu with the deployer's Entra token, and the settings it reads back.
  [T.command]: { arm: ["Microsoft.Web/sites/publish/action", "Microsoft.Web/sites/config/list/action"] },
  [T.rg]: { arm: ["Microsoft.Resources/subscriptions/resourceGroups/write"] },
  // Telemetry: the workspace, the component, the site's diagnostic setting, and the publisher grant, which needs
  // roleAssignments/write (no least or contributor role has it: the config refuses telemetry in CI).
  [T.workspace]: { arm: ["Microsoft.OperationalInsights/workspaces/write"] },
  [T.appInsights]: { arm: ["Microsoft.Insights/components/write"] },
  [T.diagnosticSetting]: { arm: ["Microsoft.Insights/diagnosticSettings/write"] },
  [T.azureRole]: { arm: ["Microsoft.Authorization/roleAssignments/write"] },
  [T.app]: { graph: "owned" },
  [T.sp]: { graph: "owned" },
  [T.fic]: { graph: "owned" },
  [T.redirect]: { graph: "owned" },
  [T.apiAccess]: { graph: "owned" },
  // Adding another owner, and a tenant-wide consent grant, are beyond OwnedBy (Graph: "cannot add other owners";
  // oauth2PermissionGrant needs DelegatedPermissionGrant.ReadWrite.All).
  [T.owner]: { graph: "not-owned-by" },
  [T.grant]: { graph: "not-owned-by" },
};

const leastActions = deployRoles.least.flatMap((role) => RoleActions[role] ?? []);
const covered = (action: string) => leastActions.some((pattern) => actionCovers(pattern, action));

/**
 * The documented switches that change which resources the stack creates. Each adds or removes its own resources
 * independently of the others, so every type appears in one of these runs: all off, each switch alone, and all on.
 */
const PLAN_ID =
  "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/app-rg/providers/Microsoft.Web/serverfarms/plan";
const OWNER = "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b";
const each: Record<string, Partial<SecretlessWebAppArgs>> = {
  scaleOut: { scaleOut: true },
  existingPlanId: { existingPlanId: PLAN_ID },
  deployApp: { appPackage: { zipPath: "dist/app.zip", sha256: "a".repeat(64) } },
  resourceGroupName: { resourceGroupName: "secretless-signin" },
  grantAdminConsent: { grantAdminConsent: true },
  appOwnerObjectIds: { appOwnerObjectIds: [OWNER] },
  authMode: { authMode: "easyAuth" },
  telemetry: { telemetry: true },
};
const switches: [name: string, args: Partial<SecretlessWebAppArgs>][] = [
  ["every switch off", {}],
  ...Object.entries(each).map(([name, args]) => [`${name} alone`, args] as [string, Partial<SecretlessWebAppArgs>]),
  // Easy Auth is refused with scaleOut, so "all on" leaves it out; its own run above covers its resources.
  [
    "every other switch on",
    Object.assign(
      {},
      ...Object.entries(each)
        .filter(([n]) => n !== "authMode")
        .map(([, a]) => a),
    ),
  ],
];

async function typesFor(args: Partial<SecretlessWebAppArgs>): Promise<Set<string>> {
  const mocks: AzureMocks = await attachMocks({});
  await runProgram(mocks, async () => {
    const app = new SecretlessWebApp("matrix", {
      location: "westeurope",
      webAppName: "contoso-signin",
      tenantId: TENANT_ID,
      ...args,
    });
    await promiseOf(app.redirectUri);
  });
  return new Set(mocks.resources.filter((r) => r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => r.type));
}

/** The switches that make the stack create a type CI's grants do not cover, refused by the config in GitHub Actions. */
const refusedInCi: Record<string, { raw: Record<string, string>; key: string }> = {
  [T.rg]: { raw: {}, key: "resourceGroupName" },
  [T.owner]: {
    raw: {
      appOwnerObjectIds: JSON.stringify(["5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"]),
      resourceGroupName: "secretless-signin",
    },
    key: "appOwnerObjectIds",
  },
  [T.grant]: { raw: { grantAdminConsent: "true", resourceGroupName: "secretless-signin" }, key: "grantAdminConsent" },
  ...Object.fromEntries(
    [T.workspace, T.appInsights, T.diagnosticSetting, T.azureRole].map((type) => [
      type,
      { raw: { telemetry: "true", resourceGroupName: "secretless-signin" }, key: "telemetry" },
    ]),
  ),
};

describe("the permissions matrix", () => {
  it("includes Azure Managed Redis Contributor in least, by its built-in role ID", () => {
    expect(deployRoles.least).toContain("AzureManagedRedisContributor");
    expect(BuiltInRole.AzureManagedRedisContributor).toBe("3015e5ed-6856-4ab3-b2f0-b8492aa30ca6");
  });

  it.each(switches)(
    "maps every resource type of %s to a least role or to OwnedBy, or CI's config refuses it",
    async (_name, args) => {
      for (const type of await typesFor(args)) {
        const need = needs[type];
        expect(need, `no permission entry for ${type}`).toBeDefined();
        if ("arm" in need!) {
          const missing = need.arm.filter((action) => !covered(action));
          if (missing.length === 0) continue;
          expect(refusedInCi[type], `${type} needs ${missing.join(", ")}, which no least role grants`).toBeDefined();
        } else if (need!.graph === "not-owned-by") {
          expect(refusedInCi[type], `${type} is beyond Application.ReadWrite.OwnedBy`).toBeDefined();
        }
      }
    },
  );

  it.each(Object.entries(refusedInCi))(
    "refuses in GitHub Actions the setting that creates %s, naming the key and the fix",
    (_type, { raw, key }) => {
      const base = { location: "westeurope", webAppName: "contoso-signin" };
      expect(() => parseStackConfig({ ...base, ...raw, inGitHubActions: true })).toThrow(
        new RegExp(`- ${key}: .*(set|rm|false)`),
      );
      // The same settings are fine outside CI, where a person's rights apply.
      expect(() => parseStackConfig({ ...base, ...raw })).not.toThrow();
    },
  );

  it("fails without Azure Managed Redis Contributor: no other least role creates Redis", () => {
    const others = deployRoles.least
      .filter((r) => r !== "AzureManagedRedisContributor")
      .flatMap((role) => RoleActions[role] ?? []);
    expect(others.some((pattern) => actionCovers(pattern, "Microsoft.Cache/redisEnterprise/write"))).toBe(false);
    expect(covered("Microsoft.Cache/redisEnterprise/write")).toBe(true);
  });
});
