import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readStackFile } from "../../offline/stack-file";
import type { RegisteredResource } from "../../offline/azure-mocks";
import { evaluateRecorded } from "../../policy/offline";
import { planMainStack } from "../support/policy";

/**
 * The example stack with a staging slot, Pulumi.slot.yaml (`npm run plan -- slot`), passes every guardrail. Its own
 * file: the program is imported once per process.
 */

const PROJECT = "secretless-entra-webapp";
/** Pulumi.slot.yaml's config, keys without the project prefix, values as the engine hands them over. */
const slotStack = readStackFile(join(__dirname, "..", ".."), "slot", {
  project: PROJECT,
  keys: [],
  providers: {},
}).config;
const config = Object.fromEntries(Object.entries(slotStack).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]));

let planned: RegisteredResource[];
beforeAll(async () => {
  planned = await planMainStack(config);
});

describe("the example slot stack (Pulumi.slot.yaml)", () => {
  it("turns the slot on, on a plan tier that has slots", () => {
    expect(config).toMatchObject({ stagingSlot: "true", planSku: "P0v3" });
  });
});

describe("on this project's stack with a staging slot", () => {
  it(
    "every policy passes: the slot wears the site's identity and " +
      "hardening, basic auth off, and only slot settings differ",
    () => {
      const withSlot = structuredClone(planned);
      const slotTypes = withSlot
        .filter((r) => /^azure-native:web:WebApp\w*Slot\w*$/.test(r.type))
        .map((r) => r.type.split(":")[2]);
      expect(slotTypes.sort()).toEqual([
        "WebAppDiagnosticLogsConfigurationSlot",
        "WebAppFtpAllowedSlot",
        "WebAppScmAllowedSlot",
        "WebAppSlot",
        "WebAppSlotConfigurationNames",
      ]);
      expect(evaluateRecorded(withSlot)).toEqual([]);
    },
  );

  it("a slot setting that differs is allowed only because it is marked: production's AllowedHosts", () => {
    const withSlot = structuredClone(planned);
    const site = withSlot.find((r) => r.type === "azure-native:web:WebApp")!;
    site.inputs.siteConfig.appSettings.push({ name: "AllowedHosts", value: "signin.contoso.com" });
    expect(evaluateRecorded(withSlot)).toEqual([]);
    const names = withSlot.find((r) => r.type === "azure-native:web:WebAppSlotConfigurationNames")!;
    names.inputs.appSettingNames = [];
    expect(evaluateRecorded(withSlot).map((v) => v.policy)).toEqual(["slot-settings-differ-only-when-sticky"]);
  });
});
