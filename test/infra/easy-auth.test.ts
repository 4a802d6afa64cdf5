/**
 * Easy Auth mode on the stack's side: App Service's built-in authentication signs users in with the managed
 * identity's token through the FIC (the `OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID` setting named by the provider's
 * clientSecretSettingName), Easy Auth's callback is the only redirect URI, the health paths stay open, the token store
 * is on, and no secret setting exists. The default mode registers none of it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { parseStackConfig, StackConfigError } from "../../components/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { AUTH_MODE_SETTING, MI_FIC_ASSERTION_SETTING } from "../../contract/easy-auth";
import { type AzureMocks, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { REPO } from "../support/repo";

const AUTH_V2 = "azure-native:web:WebAppAuthSettingsV2WithoutSecrets";
const STICKY = "azure-native:web:WebAppSlotConfigurationNames";
const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };

async function build(args: Partial<SecretlessWebAppArgs> = {}) {
  const mocks = await attachMocks({});
  const component = await runProgram(mocks, async () => {
    const c = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(c.redirectUri);
    return c;
  });
  const settings = Object.fromEntries(
    (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
      s.name,
      s.value,
    ]),
  );
  return { mocks, settings, redirectUri: await promiseOf(component.redirectUri) };
}

const parentOf = (mocks: AzureMocks, type: string, name: string) => mocks.options.get(`${type}::${name}`)?.parentUrn;

describe("Easy Auth mode", () => {
  it(
    "configures the Microsoft provider with the registration's client ID, the " +
      "tenant's v2.0 issuer and the identity instead of a secret",
    async () => {
      const { mocks } = await build({ authMode: "easyAuth" });
      const auth = mocks.one(AUTH_V2).inputs;
      const app = mocks.one(T.app);
      expect(auth.name).toBe("contoso-signin");
      expect(auth.resourceGroupName).toBe(mocks.one(T.rg).state.name);
      expect(auth.platform).toEqual({ enabled: true, runtimeVersion: "~1" });
      expect(auth.identityProviders.azureActiveDirectory).toEqual({
        enabled: true,
        registration: {
          openIdIssuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
          clientId: app.state.clientId,
          clientSecretSettingName: MI_FIC_ASSERTION_SETTING,
        },
        login: {
          loginParameters: [
            "response_type=code id_token",
            "scope=openid offline_access profile https://graph.microsoft.com/User.Read",
          ],
        },
        validation: { allowedAudiences: [app.state.clientId] },
      });
      expect(parentOf(mocks, AUTH_V2, "unit-easy-auth-settings")).toMatch(/secretless:index:EasyAuth::unit-easy-auth$/);
    },
  );

  it(
    "puts the managed identity's client ID (not the app's) in the setting the " +
      "provider names, slot-sticky, and no secret setting anywhere",
    async () => {
      const { mocks, settings } = await build({ authMode: "easyAuth" });
      const uami = mocks.one(T.uami).state;
      expect(settings[MI_FIC_ASSERTION_SETTING]).toBe(uami.clientId);
      expect(settings[MI_FIC_ASSERTION_SETTING]).not.toBe(mocks.one(T.app).state.clientId);
      expect(settings[AUTH_MODE_SETTING]).toBe("easyAuth");
      expect(Object.keys(settings).filter((k) => /secret|password|certificate/i.test(k))).toEqual([]);
      expect(mocks.one(STICKY).inputs).toEqual({
        name: "contoso-signin",
        resourceGroupName: mocks.one(T.rg).state.name,
        appSettingNames: [MI_FIC_ASSERTION_SETTING],
      });
      const registration = mocks.one(AUTH_V2).inputs.identityProviders.azureActiveDirectory.registration;
      expect(Object.keys(registration).filter((k) => k.startsWith("clientSecretCertificate"))).toEqual([]);
      // The FIC Easy Auth presents the identity through is the one the stack creates: subject = the identity's
      // principal
      // ID.
      expect(mocks.one(T.fic).inputs).toMatchObject({
        subject: uami.principalId,
        audiences: ["api://AzureADTokenExchange"],
        issuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0`,
      });
    },
  );

  it(
    "redirects unauthenticated requests to sign-in but leaves /healthz and " +
      "/readyz open, with the token store on and HTTPS required",
    async () => {
      const auth = (await build({ authMode: "easyAuth" })).mocks.one(AUTH_V2).inputs;
      expect(auth.globalValidation).toEqual({
        requireAuthentication: true,
        unauthenticatedClientAction: "RedirectToLoginPage",
        redirectToProvider: "azureactivedirectory",
        excludedPaths: ["/healthz", "/readyz"],
      });
      expect(auth.login).toEqual({ tokenStore: { enabled: true }, preserveUrlFragmentsForLogins: false });
      expect(auth.httpSettings).toEqual({ requireHttps: true });
    },
  );

  it(
    "registers Easy Auth's callback as the only redirect URI and lets the " +
      "registration issue ID tokens (not access tokens)",
    async () => {
      const { mocks, redirectUri } = await build({ authMode: "easyAuth" });
      const host = mocks.one(T.site).state.defaultHostName as string;
      expect(redirectUri).toBe(`https://${host}/.auth/login/aad/callback`);
      expect(mocks.one(T.redirect).inputs.redirectUris).toEqual([`https://${host}/.auth/login/aad/callback`]);
      expect(mocks.one(T.app).inputs).toMatchObject({
        implicitIdTokenIssuanceEnabled: true,
        implicitAccessTokenIssuanceEnabled: false,
      });
    },
  );

  it("uses the cloud's issuer and Graph in the US Government cloud", async () => {
    const auth = (await build({ authMode: "easyAuth", cloud: "usgov" })).mocks.one(AUTH_V2).inputs;
    expect(auth.identityProviders.azureActiveDirectory.registration.openIdIssuer).toBe(
      `https://login.microsoftonline.us/${TENANT_ID}/v2.0`,
    );
    expect(auth.identityProviders.azureActiveDirectory.login.loginParameters[1]).toBe(
      "scope=openid offline_access profile https://graph.microsoft.us/User.Read",
    );
  });

  it("deploys the app only after authentication is on", async () => {
    const { mocks } = await build({
      authMode: "easyAuth",
      appPackage: { zipPath: "dist/app.zip", sha256: "a".repeat(64) },
    });
    const deps = mocks.options.get(`${T.command}::unit-app-deploy`)?.dependsOn ?? [];
    expect(deps.some((urn) => urn.endsWith("secretless:index:EasyAuth::unit-easy-auth"))).toBe(true);
    const without = (await build({ appPackage: { zipPath: "dist/app.zip", sha256: "a".repeat(64) } })).mocks;
    expect(without.options.get(`${T.command}::unit-app-deploy`)?.dependsOn?.some((urn) => /EasyAuth/.test(urn))).toBe(
      false,
    );
  });
});

describe("the default mode", () => {
  it(
    "registers no auth settings, no Easy Auth setting, the app's own " +
      "callback and no ID tokens from the authorize endpoint",
    async () => {
      const { mocks, settings, redirectUri } = await build();
      expect(mocks.ofType(AUTH_V2)).toEqual([]);
      expect(mocks.ofType(STICKY)).toEqual([]);
      expect(settings[MI_FIC_ASSERTION_SETTING]).toBeUndefined();
      expect(settings[AUTH_MODE_SETTING]).toBeUndefined();
      expect(redirectUri).toMatch(/\/signin-oidc$/);
      expect(mocks.one(T.app).inputs.implicitIdTokenIssuanceEnabled).toBe(false);
    },
  );
});

describe("the authMode key", () => {
  const raw = { location: "westeurope", webAppName: "contoso-signin" };
  const problems = (extra: Record<string, string>) => {
    try {
      parseStackConfig({ ...raw, ...extra });
      return [];
    } catch (error) {
      if (!(error instanceof StackConfigError)) throw error;
      return error.problems;
    }
  };

  it("has an example Easy Auth stack (npm run plan -- easyauth) that passes validation in Easy Auth mode", () => {
    const stack = load(readFileSync(join(REPO, "Pulumi.easyauth.yaml"), "utf8")) as { config: Record<string, unknown> };
    const raw = Object.fromEntries(
      Object.entries(stack.config).map(([k, v]) => [
        k.replace("secretless-entra-webapp:", ""),
        typeof v === "string" ? v : JSON.stringify(v),
      ]),
    );
    expect(parseStackConfig(raw).authMode).toBe("easyAuth");
  });

  it("defaults to app and accepts easyAuth", () => {
    expect(parseStackConfig(raw).authMode).toBe("app");
    expect(parseStackConfig({ ...raw, authMode: "easyAuth" }).authMode).toBe("easyAuth");
  });

  it("refuses an unknown mode, naming the key and the fix", () => {
    expect(problems({ authMode: "easyauth" })).toEqual([
      { key: "authMode", message: expect.stringMatching(/"easyauth" is not an auth mode; set it to app or easyAuth/) },
    ]);
  });

  it(
    "refuses Easy Auth with scaleOut, a custom callbackPath or a " +
      "multi-tenant audience, each under its key with the fix",
    () => {
      const found = problems({
        authMode: "easyAuth",
        scaleOut: "true",
        callbackPath: "/auth/callback",
        signInAudience: "AzureADMultipleOrgs",
      });
      expect(found.map((p) => p.key).sort()).toEqual(["callbackPath", "scaleOut", "signInAudience"]);
      for (const p of found) expect(p.message).toMatch(/authMode (app|easyAuth)/);
      expect(problems({ scaleOut: "true", callbackPath: "/auth/callback" }).map((p) => p.key)).not.toContain(
        "callbackPath",
      );
    },
  );

  it(
    "refuses the same conflicts, and the Easy Auth settings in " +
      "appSettings, on the component before registering anything",
    async () => {
      const refusal = async (args: Partial<SecretlessWebAppArgs>) => {
        const mocks = await attachMocks({});
        let error: unknown;
        await runProgram(mocks, async () => {
          try {
            new SecretlessWebApp("unit", { ...base, ...args });
          } catch (e) {
            error = e;
          }
        });
        expect(pulumi.InputPropertiesError.isInstance(error), String(error)).toBe(true);
        expect(mocks.resources.filter((r) => r.custom)).toEqual([]);
        return (error as pulumi.InputPropertiesError).errors ?? [];
      };
      expect((await refusal({ authMode: "easyAuth", scaleOut: true })).map((e) => e.propertyPath)).toEqual([
        "scaleOut",
      ]);
      expect((await refusal({ authMode: "easyAuth", callbackPath: "/cb" })).map((e) => e.propertyPath)).toEqual([
        "callbackPath",
      ]);
      expect((await refusal({ appSettings: { override_use_mi_fic_assertion_clientid: "x" } }))[0]?.reason).toMatch(
        /authMode easyAuth/,
      );
      expect((await refusal({ authMode: "EasyAuth" as never }))[0]).toMatchObject({ propertyPath: "authMode" });
    },
  );
});
