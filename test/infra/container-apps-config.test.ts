/**
 * The hosting switch in the stack configuration and in SecretlessWebApp's arguments: Container Apps' replica bounds
 * and their defaults, and every combination that cannot work refused before anything registers, naming the key and
 * the fix. App Service, the default, is unchanged.
 */
import { describe, expect, it } from "vitest";
import { type RawStackConfig, parseStackConfig } from "../../components/stack-config";
import { TEST_IMAGE } from "../support/container-apps";
import { problemsOf as configProblemsOf } from "../support/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { TENANT_ID } from "../../offline/azure-mocks";

const aca: RawStackConfig = { location: "westeurope", webAppName: "secretless-aca-dev", hosting: "containerApps" };
/** What the Pulumi CLI hands the program: Pulumi.yaml's defaults filled in for every key that has one. */
const cliDefaults: RawStackConfig = {
  planSku: "B1",
  nodeVersion: "22",
  uniqueDefaultHostname: "true",
  deployApp: "true",
  stagingSlot: "false",
  authMode: "app",
};

describe("hosting in the stack configuration", () => {
  it("defaults to App Service, with no replica bounds", () => {
    const config = parseStackConfig({ location: "westeurope", webAppName: "secretless-signin-dev" });
    expect(config.hosting).toBe("appService");
    expect(config.minReplicas).toBeUndefined();
    expect(config.maxReplicas).toBeUndefined();
    expect(config.planSku).toBe("B1");
  });

  it("refuses Container Apps for CI's deploy identity, which may not assign AcrPull, naming key and fix", () => {
    const problems = configProblemsOf({ ...cliDefaults, ...aca, resourceGroupName: "rg", inGitHubActions: true });
    expect(problems).toEqual([
      { key: "hosting", message: expect.stringMatching(/roleAssignments\/write.*hosting appService/) },
    ]);
    expect(parseStackConfig({ ...cliDefaults, ...aca, resourceGroupName: "rg" }).hosting).toBe("containerApps");
  });

  it("on Container Apps keeps one replica and drops the App Service keys Pulumi.yaml filled in", () => {
    const config = parseStackConfig({ ...cliDefaults, ...aca });
    expect(config).toMatchObject({ hosting: "containerApps", minReplicas: 1, maxReplicas: 1 });
    for (const key of ["planSku", "existingPlanId", "nodeVersion", "alwaysOn", "uniqueDefaultHostname"] as const) {
      expect(config[key]).toBeUndefined();
    }
    expect(config.instanceCount).toBeUndefined();
  });

  it("scaled out keeps two replicas and lets Container Apps add up to ten", () => {
    expect(parseStackConfig({ ...aca, scaleOut: "true" })).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
    expect(parseStackConfig({ ...aca, scaleOut: "true", minReplicas: "0", maxReplicas: "30" })).toMatchObject({
      minReplicas: 0,
      maxReplicas: 30,
    });
  });

  it("refuses a hosting it does not know, naming both", () => {
    expect(configProblemsOf({ ...aca, hosting: "aks" })).toEqual([
      { key: "hosting", message: expect.stringMatching(/^"aks" is not a hosting; use appService .* or containerApps/) },
    ]);
  });

  it.each([
    ["stagingSlot", "true", /deployment slots are App Service's.*pulumi config rm stagingSlot/],
    ["authMode", "easyAuth", /App Service's built-in authentication.*pulumi config set authMode app/],
    ["planSku", "P0v3", /not an App Service plan.*pulumi config rm planSku/],
    ["existingPlanId", "/subscriptions/x/resourceGroups/g/providers/Microsoft.Web/serverfarms/p", /existingPlanId/],
    ["alwaysOn", "true", /minReplicas of 1 or more keeps a replica loaded/],
    ["instanceCount", "3", /scales between minReplicas and maxReplicas/],
    ["nodeVersion", "24", /the image's pinned Node\.js base decides/],
    ["uniqueDefaultHostname", "false", /names the app's host itself/],
    ["deployApp", "false", /needs the image this stack builds and pushes/],
    ["existingAppClientId", "11111111-2222-4333-8444-555555555555", /adopting .* is for App Service stacks/],
    ["existingWebAppName", "legacy-site", /pulumi config rm existingWebAppName/],
    ["runtimeStack", "DOTNETCORE|8.0", /an app of your own .* is an App Service deployment for now/],
  ])("refuses %s %s on Container Apps, with the fix", (key, value, message) => {
    const problems = configProblemsOf({ ...cliDefaults, ...aca, [key]: value });
    expect(problems.filter((p) => p.key === key).map((p) => p.message)).toContainEqual(expect.stringMatching(message));
  });

  it("refuses replica bounds on App Service, naming instanceCount", () => {
    const problems = configProblemsOf({
      location: "westeurope",
      webAppName: "contoso",
      minReplicas: "2",
      maxReplicas: "3",
    });
    expect(problems.map((p) => p.key).sort()).toEqual(["maxReplicas", "minReplicas"]);
    expect(problems[0]!.message).toMatch(/App Service runs instanceCount instances.*set hosting containerApps/);
  });

  it("refuses several replicas or scaling to zero while sessions live in memory", () => {
    expect(configProblemsOf({ ...aca, maxReplicas: "3" })).toEqual([
      { key: "maxReplicas", message: expect.stringMatching(/sign users out at random\. Set scaleOut to true/) },
    ]);
    expect(configProblemsOf({ ...aca, minReplicas: "0" })).toEqual([
      { key: "minReplicas", message: expect.stringMatching(/scale to zero .* forget every session/) },
    ]);
  });

  it("refuses bounds that are not whole numbers, out of range or crossed", () => {
    expect(configProblemsOf({ ...aca, scaleOut: "true", minReplicas: "two" })).toEqual([
      { key: "minReplicas", message: expect.stringMatching(/"two" is not a whole number; .*--type int minReplicas 2/) },
    ]);
    expect(configProblemsOf({ ...aca, scaleOut: "true", maxReplicas: "1001" })[0]).toMatchObject({
      key: "maxReplicas",
    });
    expect(configProblemsOf({ ...aca, scaleOut: "true", minReplicas: "12" })).toEqual([
      { key: "minReplicas", message: expect.stringMatching(/is 12, more than maxReplicas 10/) },
    ]);
  });

  it("refuses a webAppName that cannot name a container app", () => {
    expect(configProblemsOf({ ...aca, webAppName: "Secretless-Signin" })).toEqual([
      { key: "webAppName", message: expect.stringMatching(/cannot name a container app: 2-32 lower-case/) },
    ]);
    expect(configProblemsOf({ ...aca, webAppName: "a".repeat(33) })[0]).toMatchObject({ key: "webAppName" });
  });
});

describe("hosting in SecretlessWebApp's arguments", () => {
  const base: SecretlessWebAppArgs = {
    location: "westeurope",
    webAppName: "contoso-signin",
    tenantId: TENANT_ID,
    hosting: "containerApps",
    appImage: TEST_IMAGE,
  };
  const refused = (args: Partial<SecretlessWebAppArgs>) => {
    try {
      new SecretlessWebApp("unit", { ...base, ...args });
    } catch (e) {
      return (e as { errors?: { propertyPath: string; reason: string }[] }).errors ?? [];
    }
    throw new Error("accepted");
  };

  it("refuses App Service-only arguments with Container Apps, each by name", () => {
    const errors = refused({ planSku: "S1", stagingSlot: true, authMode: "easyAuth", alwaysOn: true });
    expect(errors.map((e) => e.propertyPath)).toEqual(
      expect.arrayContaining(["planSku", "stagingSlot", "authMode", "alwaysOn"]),
    );
  });

  it("refuses Container Apps without an image, and replica bounds on App Service", () => {
    expect(refused({ appImage: undefined }).map((e) => e.propertyPath)).toContain("appImage");
    expect(refused({ hosting: "appService", appImage: undefined, maxReplicas: 2 }).map((e) => e.propertyPath)).toEqual([
      "maxReplicas",
    ]);
  });
});
