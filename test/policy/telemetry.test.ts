import { beforeAll, describe, expect, it } from "vitest";
import { type RegisteredResource, SUBSCRIPTION_ID, T, guidFrom } from "../../offline/azure-mocks";
import { evaluateRecorded } from "../../policy/offline";
import { isAddressOnlyConnectionString } from "../../policy/rules/secrets";
import { isArmIdOf } from "../../policy/rules/shared";
import { planMainStack } from "../support/policy";

/**
 * The telemetry rules as the Pulumi CLI runs them: stack policies get no provider IDs there (policy/pack.ts hands them
 * type, name, URN, outputs and inputs), so the rules that match a workspace, a component or a role's scope by ARM ID
 * must resolve it by resource group, ARM type and name, and refuse anything else.
 */

let planned: RegisteredResource[];
beforeAll(async () => {
  planned = await planMainStack({ telemetry: "true" });
});

/** The plan as the CLI's stack policies see it: no `id` on any resource. */
const withoutIds = (rs: RegisteredResource[]): RegisteredResource[] =>
  structuredClone(rs).map(({ id: _id, ...r }) => r as RegisteredResource);

const one = (rs: RegisteredResource[], type: string) => rs.find((r) => r.type === type)!;

describe("the telemetry rules without provider IDs (the CLI's view)", () => {
  it("pass the main stack: workspace, component and grant found by group, type and name", () => {
    expect(evaluateRecorded(withoutIds(planned))).toEqual([]);
  });

  it("still refuse a grant scoped to the group, and platform logs sent to another workspace", () => {
    const rs = withoutIds(planned);
    const grant = one(rs, T.azureRole);
    grant.inputs.scope = grant.state.scope = String(grant.inputs.scope).replace(/\/providers\/.*$/, "");
    const setting = one(rs, T.diagnosticSetting);
    setting.inputs.workspaceId = setting.state.workspaceId = String(setting.inputs.workspaceId).replace(
      /workspaces\/.*$/,
      "workspaces/other",
    );
    expect(evaluateRecorded(rs).map((v) => v.policy)).toEqual([
      "role-assignment-allowed",
      "diagnostic-setting-own-workspace",
    ]);
  });

  it("refuse platform logs sent to a workspace of the same group and name in another subscription", () => {
    const rs = withoutIds(planned);
    const setting = one(rs, T.diagnosticSetting);
    const elsewhere = String(setting.inputs.workspaceId).replace(SUBSCRIPTION_ID, guidFrom("attacker-subscription"));
    setting.inputs.workspaceId = setting.state.workspaceId = elsewhere;
    expect(evaluateRecorded(rs).map((v) => `${v.policy}: ${v.message}`)).toEqual([
      expect.stringMatching(/^diagnostic-setting-own-workspace: .* sends logs from subscription .* to a workspace in/),
    ]);
  });
});

describe("isArmIdOf", () => {
  const workspace = {
    type: T.workspace,
    name: "logs",
    props: { name: "logs-ab12" },
    inputs: { resourceGroupName: "rg-app" },
  };
  const id =
    `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-app/providers/Microsoft.OperationalInsights/` +
    "workspaces/logs-ab12";

  it("matches the resource's own ID, and, without one, its group, ARM type and name in any letter case", () => {
    expect(isArmIdOf(id, { ...workspace, id })).toBe(true);
    expect(isArmIdOf(id, workspace)).toBe(true);
    expect(isArmIdOf(id.toUpperCase(), workspace)).toBe(true);
  });

  it.each([
    ["another group", id.replace("rg-app", "rg-other")],
    ["another type", id.replace("Microsoft.OperationalInsights/workspaces", "Microsoft.Insights/components")],
    ["another name", id.replace("logs-ab12", "logs-ab13")],
    ["a child of it", `${id}/tables/AppServiceHTTPLogs`],
    ["a name that merely starts the same", `${id}x`],
    ["not a string", undefined],
  ])("refuses %s", (_, other) => {
    expect(isArmIdOf(other, workspace)).toBe(false);
  });

  it("decides by a known ID alone: the same group, type and name in another subscription is another resource", () => {
    const elsewhere = id.replace(SUBSCRIPTION_ID, guidFrom("attacker-subscription"));
    expect(isArmIdOf(elsewhere, { ...workspace, id })).toBe(false);
  });

  it("refuses a type it has no ARM mapping for, unless the IDs are equal", () => {
    const unknown = { ...workspace, type: "azure-native:storage:StorageAccount" };
    expect(isArmIdOf(id, unknown)).toBe(false);
  });
});

describe("the connection string the pack lets through by name", () => {
  const key = guidFrom("k");
  const app = guidFrom("a");

  it.each([
    `InstrumentationKey=${key};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;` +
      `LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=${app}`,
    `InstrumentationKey=${key}`,
    `InstrumentationKey=${key};EndpointSuffix=applicationinsights.azure.cn;Location=chinanorth3`,
  ])("is an address only: %s", (value) => expect(isAddressOnlyConnectionString(value)).toBe(true));

  it.each([
    ["no instrumentation key", "IngestionEndpoint=https://x.in.applicationinsights.azure.com/"],
    ["a key that is not a GUID", "InstrumentationKey=abc"],
    ["a shared access key", `InstrumentationKey=${key};SharedAccessKey=abc`],
    ["an authorization field", `InstrumentationKey=${key};Authorization=AAD`],
    ["a plain-http endpoint", `InstrumentationKey=${key};IngestionEndpoint=http://x.example/`],
    ["user info in an endpoint", `InstrumentationKey=${key};IngestionEndpoint=https://u:p@x.example/`],
    ["a path in an endpoint", `InstrumentationKey=${key};IngestionEndpoint=https://x.example/?sig=abc`],
    ["a field twice", `InstrumentationKey=${key};InstrumentationKey=${app}`],
  ])("is more than an address with %s", (_, value) => expect(isAddressOnlyConnectionString(value)).toBe(false));
});
