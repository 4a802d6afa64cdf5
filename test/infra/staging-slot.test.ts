import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { DEPLOY_COMMAND, SWAP_COMMAND } from "../../components/app-deployment";
import { StackConfigError, parseStackConfig } from "../../components/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import {
  type AzureMocks,
  type RegisteredResource,
  T,
  TENANT_ID,
  attachMocks,
  promiseOf,
  runProgram,
} from "../../offline/azure-mocks";

/**
 * `stagingSlot`: a `staging` slot that wears the site's identity and hardening, has its own redirect URI and the slot
 * settings marked, and a deploy step that goes through it; with the switch off, none of it. Fresh engine per build.
 */

const base: SecretlessWebAppArgs = {
  location: "westeurope",
  webAppName: "contoso-signin",
  tenantId: TENANT_ID,
  planSku: "P0v3",
};
const appPackage = { zipPath: "dist/app.zip", sha256: "d".repeat(64) };
const SLOT_TYPES = [T.slot, T.slotScm, T.slotFtp, T.slotLogs, T.slotSettings];

const settingsOf = (r: RegisteredResource): Record<string, string> =>
  Object.fromEntries(
    (r.inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]),
  );

async function build(args: Partial<SecretlessWebAppArgs>) {
  const mocks = await attachMocks({});
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.redirectUri);
    await promiseOf(component.stagingRedirectUri);
    await promiseOf(component.appPackageSha256);
    return component;
  });
  return { mocks, app, site: mocks.one(T.site) };
}

const dependenciesOf = (mocks: AzureMocks, r: RegisteredResource): string[] =>
  mocks.options.get(`${r.type}::${r.name}`)?.dependsOn ?? [];

describe("a SecretlessWebApp with a staging slot", () => {
  it("adds a staging slot of the site, wearing the same user-assigned identity (one FIC serves both)", async () => {
    const { mocks, site } = await build({ stagingSlot: true });
    const slot = mocks.one(T.slot);
    const uami = mocks.one(T.uami);
    const { resourceGroupName } = site.inputs;
    expect(slot.inputs).toMatchObject({ name: site.state.name, slot: "staging", resourceGroupName });
    expect(slot.inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [uami.id] });
    expect(slot.inputs.keyVaultReferenceIdentity).toBe(uami.id);
    expect(slot.inputs.serverFarmId).toBe(site.inputs.serverFarmId);
    // Still exactly one FIC, and it trusts the identity both wear.
    expect(mocks.one(T.fic).inputs.subject).toBe(uami.state.principalId);
    const parent = mocks.options.get(`${T.slot}::${slot.name}`)?.parentUrn;
    expect(parent).toMatch(/SecretlessWebApp\$secretless:index:StagingSlot::unit-staging$/);
  });

  it(
    "hardens the slot exactly like the site: HTTPS only, TLS 1.2 on " + "app and SCM, FTP off, no remote debugging",
    async () => {
      const { mocks, site } = await build({ stagingSlot: true });
      const slot = mocks.one(T.slot).inputs;
      expect(slot.httpsOnly).toBe(true);
      expect(slot.clientCertEnabled).toBe(false);
      expect(slot.clientAffinityEnabled).toBe(site.inputs.clientAffinityEnabled);
      const { appSettings: _slotSettings, ...slotConfig } = slot.siteConfig;
      const { appSettings: _siteSettings, ...siteConfig } = site.inputs.siteConfig;
      expect(slotConfig).toEqual(siteConfig);
      expect(slotConfig).toMatchObject({
        minTlsVersion: "1.2",
        scmMinTlsVersion: "1.2",
        ftpsState: "Disabled",
        remoteDebuggingEnabled: false,
        alwaysOn: true,
      });
    },
  );

  it("turns basic-auth publishing off on the slot's own SCM and FTP endpoints", async () => {
    const { mocks, site } = await build({ stagingSlot: true });
    for (const type of [T.slotScm, T.slotFtp]) {
      const { resourceGroupName } = site.inputs;
      expect(mocks.one(type).inputs).toEqual({
        resourceGroupName,
        name: site.state.name,
        slot: "staging",
        allow: false,
      });
    }
    const logs = mocks.one(T.slotLogs).inputs;
    expect(logs).toMatchObject({ name: site.state.name, slot: "staging", detailedErrorMessages: { enabled: true } });
  });

  it("registers the slot's own callback beside production's on the app registration", async () => {
    const { mocks, app, site } = await build({ stagingSlot: true });
    const slotHost = mocks.one(T.slot).state.defaultHostName;
    expect(slotHost).not.toBe(site.state.defaultHostName);
    const expected = [`https://${site.state.defaultHostName}/signin-oidc`, `https://${slotHost}/signin-oidc`];
    expect(mocks.one(T.redirect).inputs.redirectUris).toEqual(expected);
    expect(await promiseOf(app.stagingRedirectUri)).toBe(expected[1]);
    expect(await promiseOf(app.stagingUrl)).toBe(`https://${slotHost}`);
  });

  it(
    "marks AllowedHosts as the one slot setting, keeps it on production " +
      "only, and gives the slot every other setting",
    async () => {
      const appSettings = { AllowedHosts: "signin.contoso.com", FEATURE: "on" };
      const { mocks, site } = await build({ stagingSlot: true, appSettings });
      const { resourceGroupName } = site.inputs;
      expect(mocks.one(T.slotSettings).inputs).toEqual({
        resourceGroupName,
        name: site.state.name,
        appSettingNames: ["AllowedHosts"],
      });
      const siteSettings = settingsOf(site);
      const slotSettings = settingsOf(mocks.one(T.slot));
      expect(siteSettings.AllowedHosts).toBe("signin.contoso.com");
      const { AllowedHosts: _custom, ...travelling } = siteSettings;
      expect(slotSettings).toEqual(travelling);
      // The platform's own warm-up proves every slot instance before a swap.
      expect(slotSettings).toMatchObject({
        WEBSITE_SWAP_WARMUP_PING_PATH: "/readyz",
        WEBSITE_SWAP_WARMUP_PING_STATUSES: "200",
        FEATURE: "on",
      });
    },
  );

  it(
    "deploys to the slot's Kudu, then swaps once the slot is " + "proven, after the slot and its policies exist",
    async () => {
      const { mocks, site } = await build({ stagingSlot: true, stagingSlotAfterSwap: "stop", appPackage });
      const commands = mocks.ofType(T.command);
      expect(commands.map((c) => c.name).sort()).toEqual(["unit-app-deploy", "unit-app-swap"]);
      const deploy = commands.find((c) => c.name === "unit-app-deploy")!;
      const swap = commands.find((c) => c.name === "unit-app-swap")!;
      const slot = mocks.one(T.slot);
      const slotScm = slot.state.hostNameSslStates.find((s: { hostType: string }) => s.hostType === "Repository").name;
      expect(deploy.inputs.create).toBe(DEPLOY_COMMAND);
      expect(deploy.inputs.environment.DEPLOY_SCM_HOST).toBe(slotScm);
      expect(swap.inputs.create).toBe(SWAP_COMMAND);
      expect(swap.inputs.environment).toEqual({
        SWAP_SITE_ID: site.id,
        SWAP_SLOT: "staging",
        SWAP_SLOT_HOST: slot.state.defaultHostName,
        SWAP_SLOT_SCM_HOST: slotScm,
        SWAP_PRODUCTION_HOST: site.state.defaultHostName,
        SWAP_ARM_SCOPE: "https://management.azure.com/.default",
        SWAP_AFTER: "stop",
        READY_TIMEOUT_MINUTES: "10",
      });
      expect(dependenciesOf(mocks, swap).some((urn) => urn.endsWith("::unit-app-deploy"))).toBe(true);
      const deployDeps = dependenciesOf(mocks, deploy);
      for (const type of [T.slot, T.slotScm, T.slotFtp, T.site]) {
        expect(
          deployDeps.some((urn) => urn.includes(`${type.split(":").at(-1)}::`)),
          type,
        ).toBe(true);
      }
    },
  );
});

describe("a SecretlessWebApp without a staging slot", () => {
  it("registers no slot resource, one redirect URI, no swap settings and deploys in place", async () => {
    const { mocks, app, site } = await build({ appPackage });
    for (const type of SLOT_TYPES) expect(mocks.ofType(type), type).toHaveLength(0);
    expect(mocks.one(T.redirect).inputs.redirectUris).toEqual([`https://${site.state.defaultHostName}/signin-oidc`]);
    expect(Object.keys(settingsOf(site)).filter((k) => k.startsWith("WEBSITE_SWAP"))).toEqual([]);
    expect(
      mocks
        .ofType(T.command)
        .map((c) => c.name)
        .sort(),
    ).toEqual(["unit-app-deploy", "unit-app-ready"]);
    expect(await promiseOf(app.stagingRedirectUri)).toBeUndefined();
  });
});

describe("staging slot arguments and configuration", () => {
  it(
    "refuses a staging slot on a plan tier without slots, and without " +
      "the readiness wait, before anything registers",
    async () => {
      const mocks = await attachMocks({});
      let error: unknown;
      await runProgram(mocks, async () => {
        try {
          new SecretlessWebApp("unit", { ...base, planSku: "B1", stagingSlot: true, waitForReady: false });
        } catch (e) {
          error = e;
        }
      });
      expect(pulumi.InputPropertiesError.isInstance(error), String(error)).toBe(true);
      const refusal = error as pulumi.InputPropertiesError;
      expect(refusal.errors.map((e) => e.propertyPath)).toEqual(["stagingSlot", "waitForReady"]);
      expect(refusal.errors[0]!.reason).toContain("(pulumi config set planSku P0v3)");
      expect(mocks.resources.filter((r) => r.custom)).toEqual([]);
    },
  );

  it("names the key and the fix in the stack configuration: plan tier, readiness wait, after-swap mode", () => {
    const raw = { location: "westeurope", webAppName: "contoso-signin" };
    const stop = parseStackConfig({ ...raw, planSku: "S1", stagingSlot: "true", stagingSlotAfterSwap: "stop" });
    expect(stop).toMatchObject({ stagingSlot: true, stagingSlotAfterSwap: "stop" });
    // An existing plan's tier is unknown before deployment: allowed (ARM refuses a slot on a plan without slots).
    const existingPlanId =
      "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg/providers/Microsoft.Web/serverfarms/plan";
    expect(parseStackConfig({ ...raw, existingPlanId, stagingSlot: "true" }).stagingSlot).toBe(true);
    let problems: { key: string; message: string }[] = [];
    try {
      const bad = { planSku: "B1", stagingSlot: "true", waitForReady: "false", stagingSlotAfterSwap: "delete" };
      parseStackConfig({ ...raw, ...bad });
    } catch (e) {
      expect(e).toBeInstanceOf(StackConfigError);
      problems = (e as StackConfigError).problems;
    }
    expect(problems.map((p) => p.key).sort()).toEqual(["stagingSlot", "stagingSlotAfterSwap", "waitForReady"]);
    expect(problems.find((p) => p.key === "stagingSlot")!.message).toContain("pulumi config set planSku P0v3");
    expect(problems.find((p) => p.key === "stagingSlotAfterSwap")!.message).toContain(
      '"delete" is not one of keep, stop',
    );
    // Easy Auth is configured per slot, and the slot does not get it yet: refused, with both ways out.
    let easyAuth: { key: string; message: string }[] = [];
    try {
      parseStackConfig({ ...raw, planSku: "S1", stagingSlot: "true", authMode: "easyAuth" });
    } catch (e) {
      easyAuth = (e as StackConfigError).problems;
    }
    expect(easyAuth.find((p) => p.key === "stagingSlot")?.message).toContain("pulumi config set authMode app");
  });
});
