import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  type RawStackConfig,
  type StackConfig,
  type StackConfigError,
  configDefaults,
  configKeys,
  parseStackConfig,
} from "../../components/stack-config";
import { ROOT } from "../../offline/language-host";
import { DEFAULT_APP_ROLES, stableRoleId } from "../../components/app-roles";
import { problemsOf } from "../support/stack-config";

const valid: RawStackConfig = { location: "westeurope", webAppName: "secretless-signin-dev" };

describe("stack configuration", () => {
  it("accepts the minimal stack and applies Pulumi.yaml's defaults", () => {
    expect(parseStackConfig(valid)).toEqual({
      location: "westeurope",
      webAppName: "secretless-signin-dev",
      resourceGroupName: undefined,
      cloud: "public",
      appDisplayName: "Secretless sign-in (secretless-signin-dev)",
      signInAudience: "AzureADMyOrg",
      appRoleAssignmentRequired: false,
      grantAdminConsent: false,
      appOwnerObjectIds: [],
      callbackPath: "/signin-oidc",
      planSku: "B1",
      existingPlanId: undefined,
      nodeVersion: 22,
      alwaysOn: true,
      healthCheckPath: "/healthz",
      uniqueDefaultHostname: true,
      scaleOut: false,
      instanceCount: 1,
      redisSku: "Balanced_B0",
      deployApp: true,
      waitForReady: true,
      readinessTimeoutMinutes: 10,
      stagingSlot: false,
      stagingSlotAfterSwap: "keep",
      tags: {},
      authMode: "app",
      appRoles: DEFAULT_APP_ROLES.map((role) => ({ ...role, id: stableRoleId("secretless-signin-dev", role.value) })),
      appRoleAssignments: [],
      securityGroupClaims: false,
      hosting: "appService",
      telemetry: false,
    });
  });

  it("accepts every option set to a valid non-default value", () => {
    const parsed = parseStackConfig({
      ...valid,
      resourceGroupName: "rg-signin_(prod).1",
      cloud: "usgov",
      azureadEnvironment: "usgovernment",
      armEnvironment: "usgovernment",
      azureadTenantId: "00000000-0000-4000-8000-00000000feed",
      appDisplayName: "Contoso sign-in",
      signInAudience: "AzureADMultipleOrgs",
      appRoleAssignmentRequired: "true",
      appOwnerObjectIds: JSON.stringify(["5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"]),
      callbackPath: "/auth/callback",
      existingPlanId:
        "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/shared" +
        "/providers/Microsoft.Web/serverfarms/linux-plan",
      nodeVersion: "24",
      alwaysOn: "false",
      healthCheckPath: "/health",
      uniqueDefaultHostname: "false",
      deployApp: "false",
      waitForReady: "false",
      readinessTimeoutMinutes: "30",
      tags: JSON.stringify({ environment: "prod" }),
    });
    expect(parsed).toMatchObject({ cloud: "usgov", nodeVersion: 24, alwaysOn: false, appRoleAssignmentRequired: true });
    expect(parsed).toMatchObject({ deployApp: false, waitForReady: false, readinessTimeoutMinutes: 30 });
    expect(parsed.tags).toEqual({ environment: "prod" });
  });

  // Each accepted input: what the parser makes of it.
  const accepted: [string, RawStackConfig, Partial<StackConfig>][] = [
    ["a plan SKU in any letter case, kept in ARM's spelling", { ...valid, planSku: "p1V3" }, { planSku: "P1v3" }],
    ["the Free tier, turning Always On off by default", { ...valid, planSku: "F1" }, { alwaysOn: false }],
    [
      "an existing plan, keeping Always On on",
      {
        ...valid,
        planSku: "F1",
        existingPlanId:
          "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg/providers/Microsoft.Web/serverfarms/p",
      },
      { alwaysOn: true },
    ],
    [
      "values with surrounding spaces, trimmed",
      { ...valid, location: " westeurope ", nodeVersion: " 24 " },
      { location: "westeurope", nodeVersion: 24 },
    ],
    [
      "empty values, as unset",
      { ...valid, resourceGroupName: "", callbackPath: "", cloud: "" },
      { resourceGroupName: undefined, callbackPath: "/signin-oidc", cloud: "public" },
    ],
    [
      "a nested callback path",
      { ...valid, callbackPath: "/auth/oidc.callback_1" },
      { callbackPath: "/auth/oidc.callback_1" },
    ],
    ["the shortest readiness bound", { ...valid, readinessTimeoutMinutes: "1" }, { readinessTimeoutMinutes: 1 }],
    ["the longest readiness bound", { ...valid, readinessTimeoutMinutes: "120" }, { readinessTimeoutMinutes: 120 }],
    [
      "scaling out, on two instances by default with the smallest Redis",
      { ...valid, scaleOut: "true" },
      { scaleOut: true, instanceCount: 2, redisSku: "Balanced_B0" },
    ],
    [
      "scaling out to the Basic tier's three instances on a larger Redis",
      { ...valid, scaleOut: "true", instanceCount: "3", redisSku: "MemoryOptimized_M10" },
      { scaleOut: true, instanceCount: 3, redisSku: "MemoryOptimized_M10" },
    ],
    [
      "scaling out on an existing plan, leaving its instances to its owner",
      {
        ...valid,
        scaleOut: "true",
        existingPlanId:
          "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg/providers/Microsoft.Web/serverfarms/p",
      },
      { scaleOut: true, instanceCount: undefined },
    ],
  ];

  it.each(accepted)("accepts %s", (_what, raw, expected) => {
    expect(parseStackConfig(raw)).toMatchObject(expected);
  });

  // Each bad input: the key that must be named, and a fragment of the fix the message must give.
  const bad: [string, RawStackConfig, string, RegExp][] = [
    ["missing location", { webAppName: "app-1" }, "location", /pulumi config set location westeurope/],
    ["location with spaces", { ...valid, location: "West Europe" }, "location", /lower-case name/],
    ["missing web app name", { location: "westeurope" }, "webAppName", /pulumi config set webAppName/],
    ["one-character web app name", { ...valid, webAppName: "a" }, "webAppName", /2-60 letters/],
    ["61-character web app name", { ...valid, webAppName: "a".repeat(61) }, "webAppName", /2-60 letters/],
    [
      "web app name with underscore",
      { ...valid, webAppName: "my_app" },
      "webAppName",
      /only letters, digits and hyphens/,
    ],
    [
      "web app name ending in a hyphen",
      { ...valid, webAppName: "my-app-" },
      "webAppName",
      /start and end with a letter or digit/,
    ],
    [
      "resource group ending in a period",
      { ...valid, resourceGroupName: "rg." },
      "resourceGroupName",
      /not ending in "\."/,
    ],
    ["resource group with a slash", { ...valid, resourceGroupName: "rg/one" }, "resourceGroupName", /1-90 letters/],
    ["unknown cloud", { ...valid, cloud: "germany" }, "cloud", /public, usgov, china/],
    [
      "cloud not matching azuread:environment",
      { ...valid, cloud: "china", azureadEnvironment: "global" },
      "cloud",
      /Set azuread:environment to china/,
    ],
    [
      "cloud not matching azure-native:environment",
      { ...valid, cloud: "usgov", armEnvironment: "public" },
      "cloud",
      /Set azure-native:environment to usgovernment/,
    ],
    [
      "azuread:tenantId that is a bare name",
      { ...valid, azureadTenantId: "contoso" },
      "azuread:tenantId",
      /"contoso" is not a tenant ID; .*az account show --query tenantId -o tsv/,
    ],
    [
      "azuread:tenantId that is a domain",
      { ...valid, azureadTenantId: "contoso.onmicrosoft.com" },
      "azuread:tenantId",
      /must be the directory's GUID/,
    ],
    [
      "display name over 120 characters",
      { ...valid, appDisplayName: "x".repeat(121) },
      "appDisplayName",
      /at most 120/,
    ],
    [
      "unknown sign-in audience",
      { ...valid, signInAudience: "Everyone" },
      "signInAudience",
      /AzureADMyOrg is single tenant/,
    ],
    [
      "non-boolean assignment flag",
      { ...valid, appRoleAssignmentRequired: "yes" },
      "appRoleAssignmentRequired",
      /true or false/,
    ],
    [
      "owner that is not a GUID",
      { ...valid, appOwnerObjectIds: JSON.stringify(["ada@contoso.com"]) },
      "appOwnerObjectIds",
      /must be a GUID/,
    ],
    [
      "owners that are not a list",
      { ...valid, appOwnerObjectIds: "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b" },
      "appOwnerObjectIds",
      /appOwnerObjectIds\[0\]/,
    ],
    [
      "callback path without a slash",
      { ...valid, callbackPath: "signin-oidc" },
      "callbackPath",
      /must start with "\/"/,
    ],
    ["callback path with a query", { ...valid, callbackPath: "/signin?x=1" }, "callbackPath", /no query, fragment/],
    ["callback path with an empty segment", { ...valid, callbackPath: "/a//b" }, "callbackPath", /empty segment/],
    [
      "callback path of a route in another letter case",
      { ...valid, callbackPath: "/ME" },
      "callbackPath",
      /one of the app's own routes \(\/me, in any letter case\)/,
    ],
    [
      "callback path shadowing the health check",
      { ...valid, callbackPath: "/healthz" },
      "callbackPath",
      /one of the app's own routes/,
    ],
    ["callback path of the home page", { ...valid, callbackPath: "/" }, "callbackPath", /one of the app's own routes/],
    [
      "health check path without a slash",
      { ...valid, healthCheckPath: "healthz" },
      "healthCheckPath",
      /must start with "\/"/,
    ],
    ["unknown plan SKU", { ...valid, planSku: "Y1" }, "planSku", /known Linux App Service plan SKU/],
    [
      "plan ID of another resource type",
      {
        ...valid,
        existingPlanId:
          "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg/providers/Microsoft.Web/sites/app",
      },
      "existingPlanId",
      /serverfarms/,
    ],
    [
      "plan ID with a subscription that is not a GUID",
      { ...valid, existingPlanId: "/subscriptions/prod/resourceGroups/rg/providers/Microsoft.Web/serverfarms/plan" },
      "existingPlanId",
      /subscription GUID/,
    ],
    ["Node 20 runtime", { ...valid, nodeVersion: "20" }, "nodeVersion", /use 22 or 24/],
    ["runtime that is not a number", { ...valid, nodeVersion: "22-lts" }, "nodeVersion", /--type int nodeVersion/],
    ["Always On on the Free tier", { ...valid, planSku: "F1", alwaysOn: "true" }, "alwaysOn", /Basic or higher/],
    [
      "non-boolean unique host name flag",
      { ...valid, uniqueDefaultHostname: "1" },
      "uniqueDefaultHostname",
      /true or false/,
    ],
    [
      "non-boolean deploy switch",
      { ...valid, deployApp: "no" },
      "deployApp",
      /pulumi config set --type bool deployApp true/,
    ],
    ["non-boolean readiness switch", { ...valid, waitForReady: "yes" }, "waitForReady", /true or false/],
    [
      "readiness bound of zero",
      { ...valid, readinessTimeoutMinutes: "0" },
      "readinessTimeoutMinutes",
      /from 1 to 120 \(default 10\); to skip the wait instead, set waitForReady to false/,
    ],
    [
      "readiness bound over two hours",
      { ...valid, readinessTimeoutMinutes: "121" },
      "readinessTimeoutMinutes",
      /from 1 to 120/,
    ],
    [
      "readiness bound that is not whole minutes",
      { ...valid, readinessTimeoutMinutes: "2.5" },
      "readinessTimeoutMinutes",
      /--type int readinessTimeoutMinutes 10/,
    ],
    [
      "non-boolean scale-out switch",
      { ...valid, scaleOut: "on" },
      "scaleOut",
      /pulumi config set --type bool scaleOut true/,
    ],
    [
      "two instances with sessions in memory",
      { ...valid, instanceCount: "2" },
      "instanceCount",
      /scaleOut is false: each instance would keep its own users' sessions in memory/,
    ],
    [
      "more instances than the Basic tier runs",
      { ...valid, scaleOut: "true", instanceCount: "4" },
      "instanceCount",
      /B1 plan runs at most 3 instances; choose a larger planSku/,
    ],
    ["zero instances", { ...valid, instanceCount: "0" }, "instanceCount", /--type int instanceCount 2/],
    [
      "an instance count on an existing plan",
      {
        ...valid,
        instanceCount: "1",
        existingPlanId:
          "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg/providers/Microsoft.Web/serverfarms/p",
      },
      "instanceCount",
      /scale that plan itself, and unset instanceCount/,
    ],
    [
      "scaling out on the Free tier",
      { ...valid, scaleOut: "true", planSku: "F1" },
      "scaleOut",
      /is true \(2 instances\), but the F1 plan runs at most 1 instance/,
    ],
    [
      "an unknown Redis SKU",
      { ...valid, redisSku: "Standard_C1" },
      "redisSku",
      /not an Azure Managed Redis SKU; use e.g. Balanced_B0/,
    ],
    ["tags that are not a map", { ...valid, tags: "environment=dev" }, "tags", /--path 'tags.<name>'/],
    ["tag with a number value", { ...valid, tags: JSON.stringify({ cost: 5 }) }, "tags", /must be strings/],
    ["tag name with a slash", { ...valid, tags: JSON.stringify({ "a/b": "c" }) }, "tags", /tag rules/],
    [
      "list of extra owners in GitHub Actions, which Application.ReadWrite.OwnedBy cannot add",
      {
        ...valid,
        inGitHubActions: true,
        resourceGroupName: "secretless-signin",
        appOwnerObjectIds: JSON.stringify(["5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"]),
      },
      "appOwnerObjectIds",
      /Application.ReadWrite.OwnedBy cannot add owners.*az ad app owner add .*pulumi config rm appOwnerObjectIds/,
    ],
  ];

  it.each(bad)("rejects a %s, naming the key and the fix", (_what, raw, key, fix) => {
    const problems = problemsOf(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(key);
    expect(problems[0]!.message).toMatch(fix);
  });

  it("reports every problem at once, each on its own line naming its key", () => {
    const error = (() => {
      try {
        parseStackConfig({ webAppName: "_", cloud: "mars", planSku: "Z9", callbackPath: "cb", nodeVersion: "18" });
      } catch (e) {
        return e as StackConfigError;
      }
      throw new Error("accepted");
    })();
    expect(error.problems.map((p) => p.key)).toEqual([
      "location",
      "webAppName",
      "cloud",
      "callbackPath",
      "planSku",
      "nodeVersion",
    ]);
    for (const key of ["location", "webAppName", "cloud", "callbackPath", "planSku", "nodeVersion"]) {
      expect(error.message).toMatch(new RegExp(`^  - ${key}: `, "m"));
    }
    expect(error.message).toMatch(/Nothing was created/);
  });
});

describe("Pulumi.yaml, the configuration contract", () => {
  const project = load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config: Record<string, { type: string; description?: string; default?: unknown }>;
  };

  it(
    "declares every key the program reads (objects aside: " + "Pulumi.yaml cannot type one), each with a description",
    () => {
      const objects: string[] = ["tags", "appRoles", "appRoleAssignments"];
      expect(Object.keys(project.config).sort()).toEqual(configKeys.filter((k) => !objects.includes(k)).sort());
      for (const [key, decl] of Object.entries(project.config)) expect(decl.description, key).toBeTruthy();
    },
  );

  it("declares the same defaults the program applies", () => {
    for (const key of configKeys) {
      const declared = project.config[key]?.default;
      const asString =
        declared === undefined || declared === ""
          ? undefined
          : Array.isArray(declared)
            ? JSON.stringify(declared)
            : String(declared);
      expect(asString, key).toBe(configDefaults[key]);
    }
  });

  it("is documented key by key in docs/configuration.md's table of settings", () => {
    const doc = readFileSync(join(ROOT, "docs", "configuration.md"), "utf8");
    const table = /## Settings\n([\s\S]*?)\n## /.exec(doc)?.[1] ?? "";
    expect([...table.matchAll(/^\| `([a-zA-Z]+)` \|/gm)].map((m) => m[1])).toEqual([...configKeys]);
  });

  it("has an example dev stack that passes validation", () => {
    const stack = load(readFileSync(join(ROOT, "Pulumi.dev.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
      Object.entries(stack.config).map(([k, v]) => [
        k.replace(`${project.name}:`, ""),
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
    expect(() => parseStackConfig(raw)).not.toThrow();
  });
});
