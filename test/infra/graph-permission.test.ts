/**
 * Calling Microsoft Graph as the user, on the stack's side: the app registration declares the delegated User.Read
 * permission with IDs looked up in the directory (never pasted), tenant-wide admin consent is granted only when asked
 * for, and the web app gets Microsoft.Identity.Web's `DownstreamApis__MicrosoftGraph__…` settings for its cloud.
 */
import { describe, expect, it } from "vitest";
import { parseStackConfig } from "../../components/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import type { CloudName } from "../../contract/clouds";
import { DownstreamApiSetting } from "../../contract/settings";
import {
  type AzureMocks,
  GRAPH_APP_ID,
  T,
  TENANT_ID,
  attachMocks,
  guidFrom,
  promiseOf,
  runProgram,
} from "../../offline/azure-mocks";

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };

async function build(args: Partial<SecretlessWebAppArgs> = {}, tweak?: (m: AzureMocks) => void) {
  const mocks = await attachMocks({});
  tweak?.(mocks);
  await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.redirectUri);
    return component;
  });
  const settings = Object.fromEntries(
    (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
      s.name,
      s.value,
    ]),
  );
  return { mocks, settings };
}

const parentOf = (mocks: AzureMocks, type: string, name: string): string | undefined =>
  mocks.options.get(`${type}::${name}`)?.parentUrn;

describe("the Microsoft Graph permission", () => {
  it(
    "declares delegated User.Read on Microsoft Graph on the app " +
      "registration, with both IDs from the directory lookups",
    async () => {
      const { mocks } = await build();
      const access = mocks.one(T.apiAccess);
      expect(access.inputs).toEqual({
        applicationId: mocks.one(T.app).id,
        apiClientId: GRAPH_APP_ID,
        scopeIds: [mocks.graphServicePrincipal.oauth2PermissionScopeIds["User.Read"]],
      });
      expect(access.inputs.roleIds).toBeUndefined(); // no application permission: the app acts only as the user
      expect(parentOf(mocks, T.apiAccess, "unit-entra-graph-access")).toMatch(
        /secretless:index:EntraApplication::unit-entra$/,
      );
      const tokens = mocks.calls.map((c) => c.token);
      expect(tokens).toContain("azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds");
      expect(
        mocks.calls.find((c) => c.token === "azuread:index/getServicePrincipal:getServicePrincipal")?.inputs,
      ).toEqual({ clientId: GRAPH_APP_ID });
    },
  );

  it(
    "follows the lookups: another Graph app ID or permission ID in " + "the directory ends up in the declaration",
    async () => {
      const otherGraph = guidFrom("another directory's graph");
      const otherScope = guidFrom("another User.Read id");
      const { mocks } = await build({}, (m) => {
        m.publishedAppIds = { ...m.publishedAppIds, MicrosoftGraph: otherGraph };
        m.graphServicePrincipal.oauth2PermissionScopeIds = { "User.Read": otherScope };
      });
      expect(mocks.one(T.apiAccess).inputs).toMatchObject({ apiClientId: otherGraph, scopeIds: [otherScope] });
    },
  );
});

describe("the admin-consent switch", () => {
  it("grants no consent by default", async () => {
    const { mocks } = await build();
    expect(mocks.ofType(T.grant)).toHaveLength(0);
  });

  it("grants User.Read for all users of the tenant when grantAdminConsent is true", async () => {
    const { mocks } = await build({ grantAdminConsent: true });
    const grant = mocks.one(T.grant);
    expect(grant.inputs).toEqual({
      servicePrincipalObjectId: mocks.one(T.sp).state.objectId,
      resourceServicePrincipalObjectId: mocks.graphServicePrincipal.objectId,
      claimValues: ["User.Read"],
    });
    expect(grant.inputs.userObjectId).toBeUndefined(); // no user: consent for everyone
    expect(parentOf(mocks, T.grant, "unit-entra-graph-consent")).toMatch(
      /secretless:index:EntraApplication::unit-entra$/,
    );
  });

  it("reads grantAdminConsent from the stack configuration", () => {
    const minimal = { location: "westeurope", webAppName: "contoso-signin" };
    expect(parseStackConfig(minimal).grantAdminConsent).toBe(false);
    expect(parseStackConfig({ ...minimal, grantAdminConsent: "true" }).grantAdminConsent).toBe(true);
    expect(() => parseStackConfig({ ...minimal, grantAdminConsent: "yes" })).toThrow(
      /grantAdminConsent: "yes" is not a boolean/,
    );
  });
});

describe("the Graph settings per cloud", () => {
  it.each([
    ["public", "https://graph.microsoft.com/v1.0"],
    ["usgov", "https://graph.microsoft.us/v1.0"],
    ["china", "https://microsoftgraph.chinacloudapi.cn/v1.0"],
  ] as [CloudName, string][])(
    "gives the %s cloud's web app Graph at %s and the User.Read scope",
    async (cloud, baseUrl) => {
      const { settings } = await build({ cloud });
      expect(settings[DownstreamApiSetting.GraphBaseUrl]).toBe(baseUrl);
      expect(settings[DownstreamApiSetting.GraphScopes0]).toBe("User.Read");
    },
  );
});
