/**
 * The main stack under every documented switch passes the pack, and creates only allow-listed types: the allow-list
 * is exactly what the program needs, no more. Each switch set is planned by the real program under the offline mocks
 * (the module cache is reset between plans, so index.ts runs afresh for each).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { ALLOWED_TYPES } from "../../policy/rules";
import { ADOPTED_APP, ADOPTED_SITE, SUBSCRIPTION_ID, guidFrom } from "../../offline/azure-mocks";
import { planMainStack } from "../support/policy";

const existingPlan =
  `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-shared/providers/Microsoft.Web/serverfarms/` + "plan-shared";

const ADOPT_BOTH = {
  existingAppClientId: ADOPTED_APP.clientId,
  existingWebAppResourceGroup: ADOPTED_SITE.resourceGroup,
  existingWebAppName: ADOPTED_SITE.name,
};

const switches: [string, Record<string, string>][] = [
  ["the defaults (deployed, one instance, new group and plan)", {}],
  ["provision only (deployApp false)", { deployApp: "false" }],
  ["deployed without waiting for readiness", { waitForReady: "false" }],
  ["scaled out to Azure Managed Redis", { scaleOut: "true", instanceCount: "2" }],
  ["an existing resource group and plan", { resourceGroupName: "rg-shared", existingPlanId: existingPlan }],
  [
    "admin consent and extra app owners",
    { grantAdminConsent: "true", appOwnerObjectIds: JSON.stringify([guidFrom("owner-1")]) },
  ],
  ["telemetry (an Entra-only workspace and Application Insights)", { telemetry: "true" }],
  ["the US Government cloud", { cloud: "usgov", location: "usgovvirginia" }],
  ["the China cloud", { cloud: "china", location: "chinanorth3" }],
  ["Easy Auth signing users in (authMode easyAuth)", { authMode: "easyAuth" }],
  ["a staging slot (stagingSlot, a Premium plan)", { stagingSlot: "true", planSku: "P0v3" }],
  [
    "app roles assigned to a user (appRoleAssignments)",
    { appRoleAssignments: JSON.stringify({ [guidFrom("user-1")]: ["Admin"] }) },
  ],
  ["Container Apps (hosting containerApps)", { hosting: "containerApps", webAppName: "secretless-aca-dev" }],
  [
    "Container Apps scaled out to Redis, scaling to zero",
    { hosting: "containerApps", webAppName: "secretless-aca-dev", scaleOut: "true", minReplicas: "0" },
  ],
  [
    "Container Apps with telemetry (the connection string in the container's environment)",
    { hosting: "containerApps", webAppName: "secretless-aca-dev", telemetry: "true" },
  ],
  ["an adopted registration and web app (Pulumi.adopt.yaml)", { ...ADOPT_BOTH, webAppName: ADOPTED_SITE.name }],
  ["an adopted registration only (existingAppClientId)", { existingAppClientId: ADOPTED_APP.clientId }],
  [
    "an adopted web app only (existingWebAppName)",
    { ...ADOPT_BOTH, existingAppClientId: "", webAppName: ADOPTED_SITE.name },
  ],
  [
    "everything on at once",
    {
      scaleOut: "true",
      grantAdminConsent: "true",
      appOwnerObjectIds: JSON.stringify([guidFrom("owner-1")]),
      resourceGroupName: "rg-shared",
      existingPlanId: existingPlan,
      telemetry: "true",
    },
  ],
];

afterEach(() => {
  vi.resetModules();
});

const allowed = new Set(ALLOWED_TYPES.map((t) => t.type));
const seen = new Set<string>();

describe.each(switches)("the main stack with %s", (_, config) => {
  it("passes every policy and creates only allow-listed types", async () => {
    const resources = await planMainStack(config);
    expect(evaluateRecorded(resources)).toEqual([]);
    expect(resources.map((r) => r.type).filter((t) => !allowed.has(t))).toEqual([]);
    for (const r of resources) seen.add(r.type);
  });
});

describe("across the switches", () => {
  it("the main stack uses every main-stack entry of the allow-list (none is dead weight)", () => {
    const unused = ALLOWED_TYPES.filter(
      (t) => t.stack !== "bootstrap" && !t.type.startsWith("pulumi:providers:") && !seen.has(t.type),
    ).map((t) => t.type);
    expect(unused).toEqual([]);
  });
});
