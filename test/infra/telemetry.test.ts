import { describe, expect, it } from "vitest";
import { ENTRA_INGESTION_CLOUDS } from "../../components/app-insights";
import { APP_SERVICE_LOG_CATEGORIES, PLATFORM_LOGS_SETTING_NAME } from "../../components/linux-web-app";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { StackConfigError, parseStackConfig } from "../../components/stack-config";
import { MONITORING_METRICS_PUBLISHER_ROLE_ID, TelemetrySetting } from "../../contract/telemetry";
import {
  type AzureMocks,
  type RegisteredResource,
  SUBSCRIPTION_ID,
  T,
  TENANT_ID,
  attachMocks,
  promiseOf,
  runProgram,
} from "../../offline/azure-mocks";
import { evaluateRecorded } from "../../policy/offline";

/**
 * `telemetry` (issue 23, the stack side) under the offline mocks: an Entra-only workspace, workspace-based Application
 * Insights with local authentication off, the Monitoring Metrics Publisher grant to the very identity the site wears
 * scoped to that component, the two settings on the site (and slot), the site's platform logs to the workspace; with
 * telemetry off, none of it. Fresh engine per build.
 */

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };
const on: Partial<SecretlessWebAppArgs> = { telemetry: true };
const appPackage = { zipPath: "dist/app.zip", sha256: "d".repeat(64) };
const TELEMETRY_TYPES = [T.workspace, T.diagnosticSetting, T.appInsights, T.azureRole];

async function build(args: Partial<SecretlessWebAppArgs>) {
  const mocks = await attachMocks({});
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.url);
    await promiseOf(component.appInsightsName);
    await promiseOf(component.stagingUrl);
    return component;
  });
  return { mocks, app, site: mocks.one(T.site) };
}

const settingsOf = (r: RegisteredResource): Record<string, string> =>
  Object.fromEntries(
    (r.inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]),
  );

const optionsOf = (mocks: AzureMocks, r: RegisteredResource) => mocks.options.get(`${r.type}::${r.name}`);

describe("telemetry on", () => {
  it("creates workspace-based Application Insights, kind web, local auth off, IP masking left on", async () => {
    const { mocks } = await build(on);
    const workspace = mocks.one(T.workspace);
    const component = mocks.one(T.appInsights);
    expect(component.inputs).toMatchObject({
      kind: "web",
      applicationType: "web",
      disableLocalAuth: true,
      ingestionMode: "LogAnalytics",
      workspaceResourceId: workspace.id,
      location: "westeurope",
      resourceGroupName: mocks.one(T.rg).state.name,
    });
    expect(component.inputs.disableIpMasking).toBeUndefined();
    expect(workspace.inputs.features).toMatchObject({ disableLocalAuth: true });
    expect(optionsOf(mocks, component)?.parentUrn).toMatch(
      /SecretlessWebApp\$secretless:index:AppInsights::unit-insights$/,
    );
  });

  it(
    "grants Monitoring Metrics Publisher to the same identity the site wears, scoped to the component, " +
      "as a service principal, deleted before replaced",
    async () => {
      const { mocks, site } = await build(on);
      const uami = mocks.one(T.uami);
      const component = mocks.one(T.appInsights);
      const grant = mocks.one(T.azureRole);
      expect(site.inputs.identity.userAssignedIdentities).toEqual([uami.id]);
      expect(grant.inputs.principalId).toBe(uami.state.principalId);
      expect(grant.inputs.principalId).not.toBe(uami.state.clientId);
      expect(grant.inputs.principalType).toBe("ServicePrincipal");
      expect(grant.inputs.scope).toBe(component.id);
      expect(grant.inputs.roleDefinitionId).toBe(
        `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/` +
          MONITORING_METRICS_PUBLISHER_ROLE_ID,
      );
      expect(optionsOf(mocks, grant)?.deleteBeforeReplace).toBe(true);
    },
  );

  it("gives the site the component's connection string and the identity's client ID to authenticate with", async () => {
    const { mocks, site } = await build(on);
    const settings = settingsOf(site);
    const component = mocks.one(T.appInsights);
    const uami = mocks.one(T.uami);
    expect(settings[TelemetrySetting.ConnectionString]).toBe(component.state.connectionString);
    expect(settings[TelemetrySetting.ConnectionString]).toMatch(/^InstrumentationKey=[0-9a-f-]{36};IngestionEndpoint=/);
    expect(settings[TelemetrySetting.AuthenticationString]).toBe(`Authorization=AAD;ClientId=${uami.state.clientId}`);
    // The same identity the app presents to Entra as its client assertion.
    expect(settings.AzureAd__ClientCredentials__0__ManagedIdentityClientId).toBe(uami.state.clientId);
  });

  it("sends the site's HTTP, console, app and platform logs to the stack's workspace, and nowhere else", async () => {
    const { mocks, site } = await build(on);
    const setting = mocks.one(T.diagnosticSetting);
    expect(setting.inputs).toEqual({
      resourceUri: site.id,
      name: PLATFORM_LOGS_SETTING_NAME,
      workspaceId: mocks.one(T.workspace).id,
      logs: APP_SERVICE_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
    });
    expect([...APP_SERVICE_LOG_CATEGORIES]).toEqual([
      "AppServiceHTTPLogs",
      "AppServiceConsoleLogs",
      "AppServiceAppLogs",
      "AppServicePlatformLogs",
    ]);
  });

  it("gives the staging slot the same two settings, so a swap carries nothing telemetry-specific", async () => {
    const { mocks, site } = await build({ ...on, planSku: "P0v3", stagingSlot: true });
    const slot = settingsOf(mocks.one(T.slot));
    const own = settingsOf(site);
    for (const name of Object.values(TelemetrySetting)) expect(slot[name], name).toBe(own[name]);
    expect(mocks.ofType(T.appInsights)).toHaveLength(1);
    expect(mocks.ofType(T.azureRole)).toHaveLength(1);
  });

  it("deploys only once the component and its grant exist, so the app's first telemetry is accepted", async () => {
    const { mocks } = await build({ ...on, appPackage });
    const deployment = mocks.one("secretless:index:AppDeployment");
    expect(optionsOf(mocks, deployment)?.dependsOn).toContainEqual(
      expect.stringMatching(/secretless:index:AppInsights::unit-insights$/),
    );
  });

  it("outputs the component's name and the workspace's customer ID", async () => {
    const { mocks, app } = await build(on);
    expect(await promiseOf(app.appInsightsName)).toBe(mocks.one(T.appInsights).state.name);
    expect(await promiseOf(app.logWorkspaceCustomerId)).toBe(mocks.one(T.workspace).state.customerId);
  });

  it("passes every policy as built", async () => {
    const { mocks } = await build({ ...on, appPackage });
    expect(evaluateRecorded(mocks.resources)).toEqual([]);
  });
});

describe("telemetry off (the default: it assigns a role, which Contributor cannot)", () => {
  it("adds no workspace, component, grant, diagnostic setting or telemetry setting", async () => {
    const { mocks, site, app } = await build({ appPackage });
    for (const type of TELEMETRY_TYPES) expect(mocks.ofType(type), type).toEqual([]);
    expect(mocks.ofType("secretless:index:AppInsights")).toEqual([]);
    expect(Object.keys(settingsOf(site)).filter((name) => /APPLICATIONINSIGHTS/i.test(name))).toEqual([]);
    expect(await promiseOf(app.appInsightsName)).toBeUndefined();
    expect(await promiseOf(app.logWorkspaceCustomerId)).toBeUndefined();
    expect(evaluateRecorded(mocks.resources)).toEqual([]);
  });

  it("is what telemetry false gives, in any cloud", async () => {
    expect(ENTRA_INGESTION_CLOUDS).toEqual(["public"]);
    const { mocks } = await build({ telemetry: false, cloud: "usgov", location: "usgovvirginia" });
    for (const type of TELEMETRY_TYPES) expect(mocks.ofType(type), type).toEqual([]);
  });
});

describe("the telemetry key of the stack configuration", () => {
  const raw = { location: "westeurope", webAppName: "contoso-signin" };

  it("defaults to off, and turns on when set, in the public cloud", () => {
    expect(parseStackConfig(raw).telemetry).toBe(false);
    expect(parseStackConfig({ ...raw, cloud: "usgov", location: "usgovvirginia" }).telemetry).toBe(false);
    expect(parseStackConfig({ ...raw, telemetry: "true" }).telemetry).toBe(true);
  });

  it("refuses telemetry true in GitHub Actions, whose deploy identity may not assign roles, naming the fix", () => {
    const parse = () => parseStackConfig({ ...raw, resourceGroupName: "rg", telemetry: "true", inGitHubActions: true });
    expect(parse).toThrow(
      new RegExp(
        "telemetry: is true, but the stack then grants the app's identity Monitoring Metrics Publisher " +
          ".*roleAssignments/write.*pulumi config set --type bool telemetry false",
      ),
    );
    expect(parseStackConfig({ ...raw, resourceGroupName: "rg", inGitHubActions: true }).telemetry).toBe(false);
  });

  it("refuses telemetry true in the US Government cloud, naming the key and how to fix it", () => {
    const parse = () => parseStackConfig({ ...raw, cloud: "usgov", location: "usgovvirginia", telemetry: "true" });
    expect(parse).toThrow(StackConfigError);
    expect(parse).toThrow(/telemetry: is true but cloud is "usgov".*pulumi config set --type bool telemetry false/);
  });

  it("refuses telemetry on an adopted web app, which the stack writes no settings onto", () => {
    const adopted = { ...raw, existingWebAppResourceGroup: "rg-owner", existingWebAppName: "contoso-signin" };
    expect(() => parseStackConfig({ ...adopted, telemetry: "true" })).toThrow(
      /telemetry: is set, but existingWebAppName adopts a web app the stack does not own/,
    );
    expect(parseStackConfig(adopted).telemetry).toBe(false);
  });

  it("refuses a value that is not a boolean", () => {
    expect(() => parseStackConfig({ ...raw, telemetry: "yes" })).toThrow(/telemetry/);
  });
});
