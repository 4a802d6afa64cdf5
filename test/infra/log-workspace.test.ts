import { describe, expect, it } from "vitest";
import { DEFAULT_LOG_RETENTION_DAYS, LogWorkspace, type LogWorkspaceArgs } from "../../components/log-workspace";
import { T, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { evaluateRecorded } from "../../policy/offline";

/**
 * LogWorkspace: one Log Analytics workspace that takes Microsoft Entra ID only, PerGB2018, and outputs the ID,
 * name and workspace (customer) ID its users need. Fresh engine per build.
 */

async function build(args: LogWorkspaceArgs) {
  const mocks = await attachMocks({});
  const outputs = await runProgram(mocks, async () => {
    const logs = new LogWorkspace("unit", args);
    return {
      id: await promiseOf(logs.id),
      name: await promiseOf(logs.name),
      customerId: await promiseOf(logs.customerId),
    };
  });
  return { mocks, outputs };
}

describe("LogWorkspace", () => {
  it("creates one PerGB2018 workspace with shared keys off, in the given group and region, with tags", async () => {
    const { mocks } = await build({ resourceGroupName: "rg-logs", location: "westeurope", tags: { env: "dev" } });
    const workspace = mocks.one(T.workspace);
    expect(workspace.name).toBe("unit-workspace");
    expect(workspace.inputs).toMatchObject({
      resourceGroupName: "rg-logs",
      location: "westeurope",
      sku: { name: "PerGB2018" },
      retentionInDays: DEFAULT_LOG_RETENTION_DAYS,
      features: { disableLocalAuth: true, enableLogAccessUsingOnlyResourcePermissions: true },
      tags: { env: "dev" },
    });
    expect(workspace.inputs.workspaceCapping).toBeUndefined();
    expect(mocks.options.get(`${T.workspace}::unit-workspace`)?.parentUrn).toMatch(
      /secretless:index:LogWorkspace::unit$/,
    );
  });

  it("outputs the workspace's ARM ID, its name and its customer ID, each the workspace's own", async () => {
    const { mocks, outputs } = await build({ resourceGroupName: "rg-logs" });
    const workspace = mocks.one(T.workspace);
    expect(outputs.id).toBe(workspace.id);
    expect(outputs.id).toMatch(/\/resourceGroups\/rg-logs\/providers\/Microsoft\.OperationalInsights\/workspaces\//);
    expect(outputs.name).toBe(workspace.state.name);
    expect(outputs.customerId).toBe(workspace.state.customerId);
    expect(outputs.customerId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(outputs.id).not.toContain(outputs.customerId);
  });

  it("takes a retention and a daily cap", async () => {
    const { mocks } = await build({ resourceGroupName: "rg-logs", retentionInDays: 90, dailyQuotaGb: 0.5 });
    expect(mocks.one(T.workspace).inputs).toMatchObject({
      retentionInDays: 90,
      workspaceCapping: { dailyQuotaGb: 0.5 },
    });
  });

  it("refuses a retention or a cap the service would reject, naming the argument and the range", async () => {
    await attachMocks({});
    expect(() => new LogWorkspace("bad", { resourceGroupName: "rg", retentionInDays: 7, dailyQuotaGb: 0 })).toThrow(
      /Invalid arguments for LogWorkspace/,
    );
    try {
      new LogWorkspace("bad", { resourceGroupName: "rg", retentionInDays: 7, dailyQuotaGb: -1 });
    } catch (e) {
      const reasons = (e as { errors: { propertyPath: string; reason: string }[] }).errors;
      expect(reasons.map((r) => r.propertyPath)).toEqual(["retentionInDays", "dailyQuotaGb"]);
      expect(reasons[0]!.reason).toMatch(/is 7; a PerGB2018 workspace keeps data 30 to 730 whole days/);
      expect(reasons[1]!.reason).toMatch(/is -1; a daily cap is a positive number of GB/);
    }
    expect.assertions(4);
  });

  it("passes the pack as built, and fails log-workspace-entra-only once local auth is back on", async () => {
    const { mocks } = await build({ resourceGroupName: "rg-logs" });
    const planned = structuredClone(mocks.resources);
    expect(evaluateRecorded(planned)).toEqual([]);
    const workspace = planned.find((r) => r.type === T.workspace)!;
    workspace.inputs.features = { disableLocalAuth: false };
    expect(evaluateRecorded(planned).map((v) => [v.policy, v.message])).toEqual([
      [
        "log-workspace-entra-only",
        expect.stringMatching(/^Workspace "unit-workspace" has features\.disableLocalAuth false: .* Fix: set features/),
      ],
    ]);
  });
});
