import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type Env } from "../../app/app-config";
import { AzureAdSetting, DownstreamApiSetting } from "../../contract/settings";

const TENANT = "00000000-0000-4000-8000-00000000feed";
const CLIENT = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const UAMI = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";

/** The settings the infrastructure writes, as App Service passes them to the process. */
const validEnv: Env = {
  [AzureAdSetting.Instance]: "https://login.microsoftonline.com/",
  [AzureAdSetting.TenantId]: TENANT,
  [AzureAdSetting.ClientId]: CLIENT,
  [AzureAdSetting.SourceType]: "SignedAssertionFromManagedIdentity",
  [AzureAdSetting.ManagedIdentityClientId]: UAMI,
  WEBSITE_HOSTNAME: "app.azurewebsites.net", // set by App Service itself
};

function problemsOf(env: Env): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error("expected loadConfig to throw");
}

function without(...names: string[]): Env {
  return Object.fromEntries(Object.entries(validEnv).filter(([name]) => !names.includes(name)));
}

describe("loadConfig", () => {
  describe("valid settings", () => {
    it("reads the infrastructure's settings and apply the defaults", () => {
      const config = loadConfig(validEnv);
      expect(config).toEqual({
        instance: "https://login.microsoftonline.com/",
        tenantId: TENANT,
        clientId: CLIENT,
        callbackPath: "/signin-oidc",
        managedIdentityClientId: UAMI,
        tokenExchangeUrl: "api://AzureADTokenExchange",
        port: 8080,
        authority: `https://login.microsoftonline.com/${TENANT}`,
        publicOrigins: ["https://app.azurewebsites.net"],
        behindPlatformFrontEnd: true,
        graph: { baseUrl: "https://graph.microsoft.com/v1.0", scopes: ["User.Read"] },
        sessions: {},
        clientCredentials: [{ index: 0, sourceType: "SignedAssertionFromManagedIdentity" }],
      });
    });

    it.each([
      ["https://login.microsoftonline.com/", "https://graph.microsoft.com/v1.0"],
      ["https://login.microsoftonline.us/", "https://graph.microsoft.us/v1.0"],
      ["https://login.chinacloudapi.cn/", "https://microsoftgraph.chinacloudapi.cn/v1.0"],
    ])("defaults Microsoft Graph for the instance %s to %s with User.Read", (instance, baseUrl) => {
      expect(loadConfig({ ...validEnv, [AzureAdSetting.Instance]: instance }).graph).toEqual({
        baseUrl,
        scopes: ["User.Read"],
      });
    });

    it(
      "reads Graph's base URL and scopes in Microsoft.Identity.Web's " +
        "shape, in index order, any separator and case",
      () => {
        const config = loadConfig({
          ...validEnv,
          "DownstreamApis:MicrosoftGraph:BaseUrl": "https://localhost:44321/graph/v1.0/",
          downstreamapis__microsoftgraph__scopes__1: "Mail.Read",
          [DownstreamApiSetting.GraphScopes0]: "https://graph.microsoft.com/User.Read",
        });
        expect(config.graph).toEqual({
          baseUrl: "https://localhost:44321/graph/v1.0",
          scopes: ["https://graph.microsoft.com/User.Read", "Mail.Read"],
        });
      },
    );

    it("adds the missing trailing slash to the instance", () => {
      const config = loadConfig({ ...validEnv, [AzureAdSetting.Instance]: "https://login.microsoftonline.us" });
      expect(config.instance).toBe("https://login.microsoftonline.us/");
      expect(config.authority).toBe(`https://login.microsoftonline.us/${TENANT}`);
    });

    it("accepts any https instance, such as the local emulator with a port", () => {
      const config = loadConfig({ ...validEnv, [AzureAdSetting.Instance]: "https://localhost:44321/" });
      expect(config.authority).toBe(`https://localhost:44321/${TENANT}`);
    });

    it("accepts the colon form and any letter case, like ASP.NET", () => {
      const config = loadConfig({
        "AzureAd:Instance": "https://login.microsoftonline.com/",
        AZUREAD__TENANTID: TENANT,
        "azuread:clientid": CLIENT,
        "AzureAd:ClientCredentials:0:SourceType": "signedassertionfrommanagedidentity",
        azuread__clientcredentials__0__managedidentityclientid: UAMI,
        WEBSITE_HOSTNAME: "app.azurewebsites.net",
      });
      expect(config.clientId).toBe(CLIENT);
      expect(config.managedIdentityClientId).toBe(UAMI);
    });

    it("reads the whole credential list in index order: the managed identity and a client secret", () => {
      const config = loadConfig({
        ...without(AzureAdSetting.SourceType, AzureAdSetting.ManagedIdentityClientId),
        AzureAd__ClientCredentials__10__SourceType: "ClientSecret",
        AzureAd__ClientCredentials__10__ClientSecret: "s3cr3t-value",
        AzureAd__ClientCredentials__2__SourceType: "SignedAssertionFromManagedIdentity",
        AzureAd__ClientCredentials__2__ManagedIdentityClientId: UAMI,
      });
      expect(config.managedIdentityClientId).toBe(UAMI);
      expect(config.clientCredentials.map((c) => [c.index, c.sourceType])).toEqual([
        [2, "SignedAssertionFromManagedIdentity"],
        [10, "ClientSecret"],
      ]);
      const secret = config.clientCredentials[1]!;
      expect(secret.sourceType === "ClientSecret" && secret.secret()).toBe("s3cr3t-value");
      // The secret is a function: the config serializes (and logs) without it.
      expect(JSON.stringify(config)).not.toContain("s3cr3t-value");
    });

    it("runs with a client secret alone (an app before its migration), with no managed identity", () => {
      const config = loadConfig({
        ...without(AzureAdSetting.SourceType, AzureAdSetting.ManagedIdentityClientId),
        AzureAd__ClientCredentials__0__SourceType: "6",
        AzureAd__ClientCredentials__0__ClientSecret: "s3cr3t-value",
      });
      expect(config.managedIdentityClientId).toBe("");
      expect(config.clientCredentials.map((c) => c.sourceType)).toEqual(["ClientSecret"]);
    });

    it("accepts the enum number 7 as SourceType, as .NET's binder does", () => {
      expect(loadConfig({ ...validEnv, [AzureAdSetting.SourceType]: "7" }).managedIdentityClientId).toBe(UAMI);
    });

    it("accepts a verified domain name as the tenant", () => {
      expect(loadConfig({ ...validEnv, [AzureAdSetting.TenantId]: "contoso.onmicrosoft.com" }).tenantId).toBe(
        "contoso.onmicrosoft.com",
      );
    });

    it("takes the callback path, token exchange URL and PORT when given", () => {
      const config = loadConfig({
        ...validEnv,
        [AzureAdSetting.CallbackPath]: "/auth/callback",
        [AzureAdSetting.TokenExchangeUrl]: "api://AzureADTokenExchangeUSGov",
        PORT: "3000",
      });
      expect(config).toMatchObject({
        callbackPath: "/auth/callback",
        tokenExchangeUrl: "api://AzureADTokenExchangeUSGov",
        port: 3000,
      });
    });

    it("ignores settings that are not the app's", () => {
      expect(() => loadConfig({ ...validEnv, AzureAd__Domain: "contoso.com", WEBSITE_SITE_NAME: "x" })).not.toThrow();
    });
  });

  describe("invalid settings", () => {
    const cases: Array<[string, Env, RegExp]> = [
      ["missing instance", without(AzureAdSetting.Instance), /AzureAd__Instance is missing/],
      [
        "instance not a URL",
        { ...validEnv, [AzureAdSetting.Instance]: "login.microsoftonline.com" },
        /AzureAd__Instance is not a URL/,
      ],
      [
        "instance over http",
        { ...validEnv, [AzureAdSetting.Instance]: "http://localhost:8443/" },
        /AzureAd__Instance must use https/,
      ],
      [
        "instance with a query",
        { ...validEnv, [AzureAdSetting.Instance]: "https://login.microsoftonline.com/?x=1" },
        /must not carry a query/,
      ],
      ["missing tenant", without(AzureAdSetting.TenantId), /AzureAd__TenantId is missing/],
      [
        "tenant neither GUID nor domain",
        { ...validEnv, [AzureAdSetting.TenantId]: "not a tenant" },
        /AzureAd__TenantId is "not a tenant": set the directory \(tenant\) ID GUID/,
      ],
      ["multi-tenant alias", { ...validEnv, [AzureAdSetting.TenantId]: "common" }, /this app is single-tenant/],
      ["missing client id", without(AzureAdSetting.ClientId), /AzureAd__ClientId is missing/],
      [
        "client id not a GUID",
        { ...validEnv, [AzureAdSetting.ClientId]: "my-app" },
        /AzureAd__ClientId is "my-app", not a GUID/,
      ],
      [
        "callback path without leading slash",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "signin-oidc" },
        /AzureAd__CallbackPath is invalid: "signin-oidc" must start with "\/"/,
      ],
      [
        "scheme-relative callback path",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "//evil.example/cb" },
        /AzureAd__CallbackPath is invalid: .* has an empty segment/,
      ],
      [
        "callback path with an empty segment",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "/a//b" },
        /AzureAd__CallbackPath is invalid: "\/a\/\/b" has an empty segment/,
      ],
      [
        "callback path with a query",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "/signin-oidc?x=1" },
        /AzureAd__CallbackPath is invalid: .*no query, fragment/,
      ],
      [
        "callback path shadowing a route",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "/signout-oidc" },
        /AzureAd__CallbackPath is invalid: .*one of the app's own routes.*use "\/signin-oidc"/,
      ],
      [
        "callback path shadowing a route in another case",
        { ...validEnv, [AzureAdSetting.CallbackPath]: "/ME" },
        new RegExp(
          String.raw`AzureAd__CallbackPath is invalid: "\/ME" is one of the app's own routes \(\/me, in any letter ` +
            String.raw`case\)`,
        ),
      ],
      [
        "missing credential",
        without(AzureAdSetting.SourceType, AzureAdSetting.ManagedIdentityClientId),
        /AzureAd__ClientCredentials__0__SourceType is missing: set it to SignedAssertionFromManagedIdentity/,
      ],
      [
        "unsupported SourceType",
        { ...validEnv, AzureAd__ClientCredentials__1__SourceType: "KeyVault" },
        new RegExp(
          'AzureAd__ClientCredentials__1__SourceType is "KeyVault", a source this app does not support: ' +
            "set it to SignedAssertionFromManagedIdentity or ClientSecret",
        ),
      ],
      [
        "credential without SourceType",
        { ...without(AzureAdSetting.SourceType) },
        /AzureAd__ClientCredentials__0__SourceType is missing: set it to SignedAssertionFromManagedIdentity/,
      ],
      [
        "client secret entry without its secret",
        { ...validEnv, AzureAd__ClientCredentials__1__SourceType: "ClientSecret" },
        /AzureAd__ClientCredentials__1__ClientSecret is missing or empty/,
      ],
      [
        "a second managed identity",
        {
          ...validEnv,
          AzureAd__ClientCredentials__1__SourceType: "SignedAssertionFromManagedIdentity",
          AzureAd__ClientCredentials__1__ManagedIdentityClientId: UAMI,
        },
        /AzureAd__ClientCredentials__1__SourceType is a second SignedAssertionFromManagedIdentity entry/,
      ],
      [
        "missing managed identity client id",
        without(AzureAdSetting.ManagedIdentityClientId),
        /ManagedIdentityClientId is missing: set it to the client ID of the user-assigned managed identity/,
      ],
      [
        "managed identity client id not a GUID",
        { ...validEnv, [AzureAdSetting.ManagedIdentityClientId]: "uami" },
        /ManagedIdentityClientId is "uami", not a GUID/,
      ],
      [
        "bad credential index",
        { ...validEnv, AzureAd__ClientCredentials__first__SourceType: "SignedAssertionFromManagedIdentity" },
        /AzureAd__ClientCredentials__first__SourceType is not a credential setting/,
      ],
      [
        "token exchange URL not a URI",
        { ...validEnv, [AzureAdSetting.TokenExchangeUrl]: "AzureADTokenExchange" },
        /TokenExchangeUrl is "AzureADTokenExchange"/,
      ],
      [
        "client secret present",
        { ...validEnv, AzureAd__ClientSecret: "s3cr3t" },
        /never uses a client secret: remove it/,
      ],
      [
        "conflicting duplicate setting",
        { ...validEnv, "AzureAd:ClientId": "11111111-2222-4333-8444-555555555555" },
        /are the same setting with different values/,
      ],
      ["PORT not a number", { ...validEnv, PORT: "http" }, /PORT is "http": set a whole number from 1 to 65535/],
      ["PORT out of range", { ...validEnv, PORT: "70000" }, /PORT is "70000"/],
      ["PORT zero", { ...validEnv, PORT: "0" }, /PORT is "0"/],
      [
        "Graph base URL over http",
        { ...validEnv, [DownstreamApiSetting.GraphBaseUrl]: "http://localhost:8443/graph/v1.0" },
        new RegExp(
          String.raw`DownstreamApis__MicrosoftGraph__BaseUrl "http:\/\/localhost:8443\/graph\/v1.0" must use https: ` +
            "the app sends the user's access token there",
        ),
      ],
      [
        "Graph base URL not a URL",
        { ...validEnv, [DownstreamApiSetting.GraphBaseUrl]: "graph.microsoft.com" },
        /DownstreamApis__MicrosoftGraph__BaseUrl "graph.microsoft.com" is not a URL/,
      ],
      [
        "Graph base URL with a query",
        { ...validEnv, [DownstreamApiSetting.GraphBaseUrl]: "https://graph.microsoft.com/v1.0?x=1" },
        /BaseUrl .* must not carry credentials, a query or a fragment/,
      ],
      [
        "two Graph scopes in one item",
        { ...validEnv, [DownstreamApiSetting.GraphScopes0]: "User.Read Mail.Read" },
        /Scopes__0 "User.Read Mail.Read" is not one scope/,
      ],
      [
        "an OpenID scope as a Graph scope",
        { ...validEnv, [DownstreamApiSetting.GraphScopes0]: "offline_access" },
        /Scopes__0 "offline_access" is an OpenID scope/,
      ],
      [
        "an unknown Graph setting",
        { ...validEnv, DownstreamApis__MicrosoftGraph__Scope: "User.Read" },
        /DownstreamApis__MicrosoftGraph__Scope is not a setting this app reads/,
      ],
    ];

    it.each(cases)("rejects %s, naming the key and the fix", (_name, env, message) => {
      const problems = problemsOf(env);
      expect(
        problems.some((p) => message.test(p)),
        problems.join("\n"),
      ).toBe(true);
    });

    it("reports every problem at once", () => {
      const problems = problemsOf({ PORT: "-1" });
      expect(problems).toHaveLength(6);
      expect(problems.join("\n")).toMatch(
        /Instance[\s\S]*TenantId[\s\S]*ClientId[\s\S]*SourceType[\s\S]*PORT[\s\S]*PUBLIC_BASE_URL/,
      );
    });

    it("puts every problem in the error message", () => {
      expect(() => loadConfig({})).toThrow(/Invalid app settings \(5 problems\):\n- AzureAd__Instance is missing/);
    });
  });
});

describe("loadConfig's Redis settings (scaled out)", () => {
  const OID = "9f1c3e5a-7b2d-4f6e-8a0c-1d3e5f7a9b0c";
  const redisEnv: Env = {
    ...validEnv,
    Redis__HostName: "sessions-ab12.westeurope.redis.azure.net",
    Redis__UserName: OID,
  };

  it("keeps sessions in memory when no Redis host is set", () => {
    expect(loadConfig(validEnv).redis).toBeUndefined();
  });

  it.each([
    ["the public cloud", "https://login.microsoftonline.com/", "https://redis.azure.com"],
    ["Azure China", "https://login.chinacloudapi.cn/", "https://redis.azure.com"],
    [
      "US Government (the service's app ID)",
      "https://login.microsoftonline.us/",
      "acca5fbb-b7e4-4009-81f1-37e38fd66d78",
    ],
  ])(
    "reads the host, Azure Managed Redis's port 10000 by default, the " +
      "object ID as user name, and %s's Redis resource",
    (_cloud, instance, resource) => {
      expect(loadConfig({ ...redisEnv, [AzureAdSetting.Instance]: instance }).redis).toEqual({
        host: "sessions-ab12.westeurope.redis.azure.net",
        port: 10000,
        username: OID,
        resource,
      });
    },
  );

  it("reads the names in any letter case, with : as the separator, and another port", () => {
    const env = { ...validEnv, "redis:hostname": "cache.example", REDIS__PORT: "6380", "Redis:UserName": OID };
    expect(loadConfig(env).redis).toMatchObject({ host: "cache.example", port: 6380, username: OID });
  });

  it.each([
    [
      "a host with a scheme",
      { Redis__HostName: "rediss://cache.example" },
      /^Redis__HostName "rediss:\/\/cache.example" is not a host name/,
    ],
    ["a port that is not a number", { Redis__Port: "ten" }, /^Redis__Port is "ten": set the Redis TLS port/],
    [
      "no user name",
      { Redis__UserName: undefined },
      /^Redis__UserName is missing: set it to the managed identity's object \(principal\) ID/,
    ],
    [
      "a user name that is not an object ID",
      { Redis__UserName: "default" },
      /^Redis__UserName is "default", not a GUID/,
    ],
    [
      "a user name without a host",
      { Redis__HostName: undefined },
      /^Redis__UserName is set but Redis__HostName is not/,
    ],
  ])("refuses %s, naming the setting and the fix", (_what, change, message) => {
    const problems = problemsOf({ ...redisEnv, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});

describe("loadConfig's session bounds", () => {
  it("leaves the defaults (10 000 sessions, 10 per user) to the app when unset", () => {
    expect(loadConfig(validEnv).sessions).toEqual({});
  });

  it("reads Sessions__MaxSessions and Sessions__MaxPerUser in any letter case and separator", () => {
    const env = { ...validEnv, Sessions__MaxSessions: "50000", "sessions:maxperuser": "3" };
    expect(loadConfig(env).sessions).toEqual({ maxSessions: 50_000, maxSessionsPerUser: 3 });
  });

  it.each([
    [
      "a per-user cap of 0",
      { Sessions__MaxPerUser: "0" },
      /^Sessions__MaxPerUser is "0": set a whole number from 1 to 1000, or leave it unset for 10\.$/,
    ],
    [
      "a per-user cap that is not a number",
      { Sessions__MaxPerUser: "ten" },
      /^Sessions__MaxPerUser is "ten": set a whole number/,
    ],
    [
      "a fractional bound",
      { Sessions__MaxSessions: "1.5" },
      /^Sessions__MaxSessions is "1.5": set a whole number from 1 to 10000000, or leave it unset for 10000\.$/,
    ],
    [
      "an unknown Sessions__ name",
      { Sessions__PerUser: "3" },
      /^Sessions__PerUser is not a setting this app reads: use Sessions__MaxSessions or Sessions__MaxPerUser\.$/,
    ],
  ])("refuses %s, naming the setting and the fix", (_what, change, message) => {
    const problems = problemsOf({ ...validEnv, ...change });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });
});
