import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it, vi } from "vitest";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { ADOPT_REDIRECT_COMMAND, ADOPT_SITE_COMMAND, AdoptionError } from "../../components/adoption";
import {
  ADOPTED_APP,
  ADOPTED_SITE,
  type AzureMocks,
  T,
  TENANT_ID,
  attachMocks,
  promiseOf,
  runProgram,
} from "../../offline/azure-mocks";

/**
 * Adopting an existing registration and Linux web app under the offline mocks: the component looks both up with
 * invokes, adds only the chain (identity, FIC, redirect URI step, site step) and registers no resource of the
 * registration's or the site's own types, so neither an update nor `pulumi destroy` can replace or delete them.
 */

const adoptBoth: SecretlessWebAppArgs = {
  location: "westeurope",
  webAppName: ADOPTED_SITE.name,
  tenantId: TENANT_ID,
  existingApp: { clientId: ADOPTED_APP.clientId },
  existingWebApp: { resourceGroupName: ADOPTED_SITE.resourceGroup, name: ADOPTED_SITE.name },
};

async function build(args: SecretlessWebAppArgs, tweak?: (m: AzureMocks) => void) {
  const mocks = await attachMocks({});
  tweak?.(mocks);
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("adopt", args);
    await promiseOf(component.redirectUri);
    return component;
  });
  return { mocks, app };
}

/**
 * The error the adoption checks fail with, and the resources registered by then. The checks run once the lookups
 * answer, so the failure surfaces the way the Pulumi CLI reports any program error, as a rejection (one error object,
 * reported once by the CLI): collected here instead of letting the test runner count it as a crash.
 */
async function refused(args: SecretlessWebAppArgs, tweak: (m: AzureMocks) => void) {
  const mocks = await attachMocks({});
  tweak(mocks);
  const runnerListeners = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const rejections: unknown[] = [];
  process.on("unhandledRejection", (reason) => rejections.push(reason));
  try {
    await runProgram(mocks, async () => {
      new SecretlessWebApp("adopt", args);
    }).catch((e) => rejections.push(e));
    await vi.waitFor(() => expect(rejections.length).toBeGreaterThan(0), { timeout: 5000, interval: 20 });
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const l of runnerListeners) process.on("unhandledRejection", l);
  }
  // Every rejection is the one AdoptionError.
  expect(new Set(rejections).size).toBe(1);
  return { mocks, error: rejections[0] };
}

const custom = (m: AzureMocks) => m.resources.filter((r) => r.custom).map((r) => r.type);

describe("adopting a registration and a web app", () => {
  it("adds the identity, the FIC, the redirect-URI and site steps, and nothing of the adopted types", async () => {
    const { mocks } = await build(adoptBoth);
    expect(custom(mocks).sort()).toEqual([T.fic, T.command, T.command, T.uami].sort());
    for (const owned of [T.app, T.sp, T.site, T.plan, T.redirect, T.apiAccess, T.rg, T.appRole, T.scm, T.ftp]) {
      expect(mocks.ofType(owned)).toHaveLength(0);
    }
    // Looked up, never imported: the invokes name the adopted objects.
    expect(mocks.calls.map((c) => c.token)).toEqual(
      expect.arrayContaining(["azuread:index/getApplication:getApplication", "azure-native:web:getWebApp"]),
    );
  });

  it("puts the FIC on the adopted registration, trusting the stack's identity", async () => {
    const { mocks } = await build(adoptBoth);
    const fic = mocks.one(T.fic).inputs;
    const uami = mocks.one(T.uami).state;
    expect(fic.applicationId).toBe(`/applications/${ADOPTED_APP.objectId}`);
    expect(fic.subject).toBe(uami.principalId);
    expect(fic.issuer).toBe(`https://login.microsoftonline.com/${TENANT_ID}/v2.0`);
    expect(fic.audiences).toEqual(["api://AzureADTokenExchange"]);
  });

  it("creates the identity in the adopted site's group and region, creating no group", async () => {
    const { mocks, app } = await build(adoptBoth);
    expect(mocks.one(T.uami).inputs).toMatchObject({ resourceGroupName: ADOPTED_SITE.resourceGroup });
    expect(mocks.one(T.uami).inputs.location).toBe("westeurope");
    expect(await promiseOf(app.url)).toBe(`https://${ADOPTED_SITE.defaultHostName}`);
    expect(await promiseOf(app.appClientId)).toBe(ADOPTED_APP.clientId);
    expect(await promiseOf(app.webAppName)).toBe(ADOPTED_SITE.name);
  });

  it("adds the site's identity and settings by a step whose destroy undoes it, given names and IDs only", async () => {
    const { mocks } = await build(adoptBoth);
    const step = mocks.ofType(T.command).find((c) => c.inputs.create === ADOPT_SITE_COMMAND)!;
    const uami = mocks.one(T.uami);
    expect(step.inputs.delete).toBe(`${ADOPT_SITE_COMMAND} --undo`);
    expect(step.inputs.addPreviousOutputInEnv).toBe(true);
    expect(step.inputs.environment).toEqual({
      ADOPT_SITE_ID: ADOPTED_SITE.id,
      ADOPT_SITE_HOST: ADOPTED_SITE.defaultHostName,
      ADOPT_IDENTITY_ID: uami.id,
      ADOPT_ARM_SCOPE: "https://management.azure.com/.default",
      ADOPT_INSTANCE: "https://login.microsoftonline.com/",
      ADOPT_TENANT_ID: TENANT_ID,
      ADOPT_CLIENT_ID: ADOPTED_APP.clientId,
      ADOPT_CALLBACK_PATH: "/signin-oidc",
      ADOPT_MI_CLIENT_ID: uami.state.clientId,
      ADOPT_TOKEN_EXCHANGE_URL: "api://AzureADTokenExchange",
    });
    // Any change undoes the old adoption before adopting again.
    expect(mocks.options.get(`${T.command}::${step.name}`)?.deleteBeforeReplace).toBe(true);
    expect([...step.inputs.triggers].sort()).toEqual(Object.values(step.inputs.environment).sort());
  });

  it("registers the redirect URI on the adopted site's host with a step that removes only its own URI", async () => {
    const { mocks, app } = await build(adoptBoth);
    const step = mocks.ofType(T.command).find((c) => c.inputs.create === ADOPT_REDIRECT_COMMAND)!;
    expect(step.inputs.delete).toBe(`${ADOPT_REDIRECT_COMMAND} --undo`);
    expect(step.inputs.environment).toEqual({
      ADOPT_GRAPH_URL: "https://graph.microsoft.com/v1.0",
      ADOPT_APP_OBJECT_ID: ADOPTED_APP.objectId,
      ADOPT_REDIRECT_URI: `https://${ADOPTED_SITE.defaultHostName}/signin-oidc`,
    });
    expect(await promiseOf(app.redirectUri)).toBe(`https://${ADOPTED_SITE.defaultHostName}/signin-oidc`);
    expect(mocks.options.get(`${T.command}::${step.name}`)?.deleteBeforeReplace).toBe(true);
  });

  it("keeps every input free of app setting values: no site setting is read into the program", async () => {
    const { mocks } = await build(adoptBoth);
    const everything = JSON.stringify(mocks.resources.map((r) => [r.inputs, r.state]));
    expect(everything).not.toMatch(/ClientSecret|ClientCredentials__|appSettings|siteConfig/);
  });
});

describe("adopting one of the two", () => {
  it("adopts a registration alone: a new site with the full settings, the redirect URI by the step", async () => {
    const { mocks } = await build({ ...adoptBoth, existingWebApp: undefined, webAppName: "orders-new" });
    expect(mocks.ofType(T.app)).toHaveLength(0);
    expect(mocks.ofType(T.redirect)).toHaveLength(0);
    expect(mocks.ofType(T.site)).toHaveLength(1);
    const settings = Object.fromEntries(
      (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
        s.name,
        s.value,
      ]),
    );
    expect(settings.AzureAd__ClientId).toBe(ADOPTED_APP.clientId);
    const step = mocks.ofType(T.command).find((c) => c.inputs.create === ADOPT_REDIRECT_COMMAND)!;
    expect(step.inputs.environment.ADOPT_REDIRECT_URI).toBe(
      `https://${mocks.one(T.site).state.defaultHostName}/signin-oidc`,
    );
  });

  it("registers the staging slot's redirect URI too when a new site has a slot", async () => {
    const { mocks } = await build({
      ...adoptBoth,
      existingWebApp: undefined,
      webAppName: "orders-new",
      planSku: "P0v3",
      stagingSlot: true,
    });
    const uris = mocks
      .ofType(T.command)
      .filter((c) => c.inputs.create === ADOPT_REDIRECT_COMMAND)
      .map((c) => c.inputs.environment.ADOPT_REDIRECT_URI);
    expect(uris).toEqual([
      `https://${mocks.one(T.site).state.defaultHostName}/signin-oidc`,
      `https://${mocks.one(T.slot).state.defaultHostName}/signin-oidc`,
    ]);
  });

  it("adopts a site alone: a new registration owning its own redirect URIs, the site by the step", async () => {
    const { mocks } = await build({ ...adoptBoth, existingApp: undefined });
    expect(mocks.ofType(T.app)).toHaveLength(1);
    expect(mocks.ofType(T.site)).toHaveLength(0);
    expect(mocks.one(T.redirect).inputs.redirectUris).toEqual([`https://${ADOPTED_SITE.defaultHostName}/signin-oidc`]);
    const step = mocks.ofType(T.command).find((c) => c.inputs.create === ADOPT_SITE_COMMAND)!;
    expect(step.inputs.environment.ADOPT_CLIENT_ID).toBe(mocks.one(T.app).state.clientId);
  });
});

describe("refusing what cannot be adopted, before any resource registers", () => {
  const cases: [string, (m: AzureMocks) => void, string, RegExp][] = [
    [
      "a registration not in the provider's tenant",
      (m) => void delete m.existingApplications[ADOPTED_APP.clientId],
      "existingAppClientId",
      /no app registration in the azuread provider's tenant: it is in another tenant/,
    ],
    [
      "a multi-tenant registration when the stack is single-tenant",
      (m) => void (m.existingApplications[ADOPTED_APP.clientId]!.signInAudience = "AzureADMultipleOrgs"),
      "existingAppClientId",
      /signInAudience is AzureADMultipleOrgs, but this stack's signInAudience is AzureADMyOrg.*pulumi config set/,
    ],
    [
      "a Windows site",
      (m) => void (Object.values(m.existingWebApps)[0]!.kind = "app"),
      "existingWebAppName",
      /kind is "app": a Windows site/,
    ],
    [
      "a site on an Azure Arc custom location",
      (m) =>
        void (Object.values(m.existingWebApps)[0]!.extendedLocation = { name: "arc-location", type: "CustomLocation" }),
      "existingWebAppName",
      /Azure Arc custom location, where App Service has no managed identities/,
    ],
    [
      "a site in another region than location",
      (m) => void (Object.values(m.existingWebApps)[0]!.location = "North Europe"),
      "existingWebAppName",
      /in North Europe, but location is westeurope.*pulumi config set location northeurope/,
    ],
    [
      "a site that does not exist",
      (m) => void (m.existingWebApps = {}),
      "existingWebAppName",
      /no web app contoso-orders in resource group contoso-orders-rg/,
    ],
  ];

  it.each(cases)("refuses %s, naming the key and the fix, and creates nothing", async (_, tweak, key, message) => {
    const { mocks, error } = await refused(adoptBoth, tweak);
    expect(error).toBeInstanceOf(AdoptionError);
    const problems = (error as AdoptionError).problems;
    expect(problems.map((p) => p.key)).toContain(key);
    expect(problems.map((p) => p.message).join("\n")).toMatch(message);
    expect(custom(mocks)).toEqual([]);
  });

  it.each<[string, Partial<SecretlessWebAppArgs>, (m: AzureMocks) => void]>([
    [
      "a site alone (the new registration waits too)",
      { existingApp: undefined },
      (m) => void (Object.values(m.existingWebApps)[0]!.kind = "app"),
    ],
    [
      "a registration alone (the new group, plan and site wait too)",
      { existingWebApp: undefined, webAppName: "orders-new" },
      (m) => void delete m.existingApplications[ADOPTED_APP.clientId],
    ],
  ])("creates nothing when adopting %s is refused", async (_, args, tweak) => {
    const { mocks, error } = await refused({ ...adoptBoth, ...args }, tweak);
    expect(error).toBeInstanceOf(AdoptionError);
    expect(custom(mocks)).toEqual([]);
  });

  it("reports every problem at once", async () => {
    const { error } = await refused(adoptBoth, (m) => {
      m.existingApplications[ADOPTED_APP.clientId]!.signInAudience = "AzureADMultipleOrgs";
      Object.values(m.existingWebApps)[0]!.kind = "app";
    });
    expect((error as AdoptionError).problems.map((p) => p.key).sort()).toEqual([
      "existingAppClientId",
      "existingWebAppName",
    ]);
  });

  it("accepts a multi-tenant registration when the stack says the same audience", async () => {
    const { mocks } = await build({ ...adoptBoth, signInAudience: "AzureADMultipleOrgs" }, (m) => {
      m.existingApplications[ADOPTED_APP.clientId]!.signInAudience = "AzureADMultipleOrgs";
    });
    expect(mocks.ofType(T.fic)).toHaveLength(1);
  });
});

describe("the component's own argument checks", () => {
  it("refuses arguments that would change an adopted registration or deploy onto an adopted site", async () => {
    await attachMocks({});
    let thrown: unknown;
    try {
      new SecretlessWebApp("adopt", {
        ...adoptBoth,
        appRoles: [{ id: ADOPTED_APP.objectId, value: "Admin", displayName: "Admin", description: "Admin" }],
        grantAdminConsent: true,
        appPackage: { zipPath: "dist/app.zip", sha256: "0".repeat(64) },
        stagingSlot: true,
        authMode: "easyAuth",
      });
    } catch (e) {
      thrown = e;
    }
    expect(pulumi.InputPropertiesError.isInstance(thrown)).toBe(true);
    const reasons = Object.fromEntries(
      (thrown as pulumi.InputPropertiesError).errors.map((e) => [e.propertyPath, e.reason]),
    );
    expect(reasons.appRoles).toMatch(/existingApp adopts a registration this component does not change/);
    expect(reasons.grantAdminConsent).toMatch(/existingApp adopts/);
    expect(reasons.appPackage).toMatch(/existingWebApp adopts a site this component neither reconfigures nor deploys/);
    expect(reasons.stagingSlot).toMatch(/existingWebApp adopts/);
    expect(reasons.authMode).toMatch(/adopted/);
  });
});
