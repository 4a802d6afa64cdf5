import type { TokenCredential } from "@azure/identity";
import { describe, expect, it } from "vitest";
import { withManagedIdentityFirst } from "../../contract/credential-list";
import { actionMatches, ArmRequestError, ArmSite, ArmUserAssignedIdentity, SiteAction } from "../../deploy/arm-site";

const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg-app";
const SITE = `${SUB}/providers/Microsoft.Web/sites/app-contoso`;
const UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`;
const OTHER_UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-other`;
const SECRET = "s3cr3t-value-never-printed";
const ARM = "https://management.example.test";

interface Call {
  method: string;
  url: URL;
  authorization: string | null;
  body: unknown;
}

/** A fake fetch answering from a routing function; it records every call. */
function fakeArm(route: (call: Call) => { status: number; body?: unknown }) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      method: init?.method ?? "GET",
      url: new URL(String(input)),
      authorization: new Headers(init?.headers).get("authorization"),
      body: init?.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const { status, body } = route(call);
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });
  }) as typeof fetch;
  return { calls, fetchFn };
}

const scopes: string[] = [];
const credential: TokenCredential = {
  getToken: async (scope) => {
    scopes.push(String(scope));
    return { token: "operator-token", expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

function site(fetchFn: typeof fetch) {
  return new ArmSite({ resourceManagerUrl: ARM, siteId: SITE, credential, fetch: fetchFn });
}

describe("ArmSite", () => {
  it("lists app settings with POST .../config/appsettings/list as the operator, for the ARM audience", async () => {
    const { calls, fetchFn } = fakeArm(() => ({ status: 200, body: { properties: { A: "1", B: SECRET } } }));
    expect(await site(fetchFn).settings()).toEqual({ A: "1", B: SECRET });
    expect(calls[0]!.method).toBe("POST");
    expect(calls[0]!.url.pathname).toBe(`${SITE}/config/appsettings/list`);
    expect(calls[0]!.url.searchParams.get("api-version")).toBe("2025-05-01");
    expect(calls[0]!.authorization).toBe("Bearer operator-token");
    expect(scopes.at(-1)).toBe(`${ARM}/.default`);
  });

  it("writes the whole collection back, changing only the names in the change", async () => {
    const settings = {
      KEEP: "kept",
      AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__0__ClientSecret: SECRET,
    };
    const { calls, fetchFn } = fakeArm((c) =>
      c.method === "POST" ? { status: 200, body: { properties: settings } } : { status: 200, body: {} },
    );
    const change = withManagedIdentityFirst(settings, {
      managedIdentityClientId: "6d2e4f80-1a3b-4c5d-9e6f-7a8b9c0d1e2f",
      tokenExchangeUrl: "api://AzureADTokenExchange",
    });
    await site(fetchFn).applySettings(change);
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.url.pathname).toBe(`${SITE}/config/appsettings`);
    expect(put.body).toEqual({
      properties: {
        KEEP: "kept",
        AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
        AzureAd__ClientCredentials__0__ManagedIdentityClientId: "6d2e4f80-1a3b-4c5d-9e6f-7a8b9c0d1e2f",
        AzureAd__ClientCredentials__0__TokenExchangeUrl: "api://AzureADTokenExchange",
        AzureAd__ClientCredentials__1__SourceType: "ClientSecret",
        AzureAd__ClientCredentials__1__ClientSecret: SECRET,
      },
    });
  });

  it("makes no write when the change changes nothing", async () => {
    const { calls, fetchFn } = fakeArm(() => ({ status: 200, body: { properties: { A: "1" } } }));
    await site(fetchFn).applySettings({ set: { A: "1" }, remove: ["MISSING"] });
    expect(calls.map((c) => c.method)).toEqual(["POST"]);
  });

  it("adds a user-assigned identity next to the ones the site wears, keeping the system-assigned one", async () => {
    const { calls, fetchFn } = fakeArm((c) =>
      c.method === "GET"
        ? {
            status: 200,
            body: { identity: { type: "SystemAssigned, UserAssigned", userAssignedIdentities: { [OTHER_UAMI]: {} } } },
          }
        : { status: 200, body: {} },
    );
    await site(fetchFn).addUserAssignedIdentity(UAMI);
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.url.pathname).toBe(SITE);
    expect(patch.body).toEqual({
      identity: { type: "SystemAssigned, UserAssigned", userAssignedIdentities: { [OTHER_UAMI]: {}, [UAMI]: {} } },
    });
  });

  it("sends no PATCH when the site already wears the identity (any case)", async () => {
    const { calls, fetchFn } = fakeArm(() => ({
      status: 200,
      body: { identity: { type: "UserAssigned", userAssignedIdentities: { [UAMI.toLowerCase()]: {} } } },
    }));
    await site(fetchFn).addUserAssignedIdentity(UAMI);
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
  });

  it("describes kind, location, runtime and plan, reading config/web when the site omits linuxFxVersion", async () => {
    const { fetchFn } = fakeArm((c) =>
      c.url.pathname.endsWith("/config/web")
        ? { status: 200, body: { properties: { linuxFxVersion: "DOTNETCORE|8.0" } } }
        : { status: 200, body: { kind: "app,linux", location: "westeurope", properties: { serverFarmId: "/plan" } } },
    );
    expect(await site(fetchFn).describe()).toEqual({
      kind: "app,linux",
      location: "westeurope",
      linuxFxVersion: "DOTNETCORE|8.0",
      serverFarmId: "/plan",
    });
  });

  it("turns a 403 into an error naming ARM's code and the action, without any setting value", async () => {
    const { fetchFn } = fakeArm((c) =>
      c.method === "POST"
        ? { status: 200, body: { properties: { S: SECRET } } }
        : {
            status: 403,
            body: {
              error: {
                code: "AuthorizationFailed",
                message: "The client does not have authorization to perform action 'Microsoft.Web/sites/config/Write'",
              },
            },
          },
    );
    const error = await site(fetchFn)
      .applySettings({ set: { NEW: "x" }, remove: [] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmRequestError);
    expect((error as ArmRequestError).code).toBe("AuthorizationFailed");
    expect((error as Error).message).toContain("Microsoft.Web/sites/config/Write");
    expect((error as Error).message).not.toContain(SECRET);
  });

  it("refuses a resource ID that is not a web app's", () => {
    const { fetchFn } = fakeArm(() => ({ status: 200 }));
    expect(() => new ArmSite({ resourceManagerUrl: ARM, siteId: `${SITE}/../x`, credential, fetch: fetchFn })).toThrow(
      /not a web app resource ID/,
    );
  });

  it("reports the actions the operator lacks from its permissions, honouring wildcards and notActions", async () => {
    const { calls, fetchFn } = fakeArm(() => ({
      status: 200,
      body: { value: [{ actions: ["Microsoft.Web/sites/*/read", "Microsoft.Web/*"], notActions: ["*/config/Write"] }] },
    }));
    const missing = await site(fetchFn).missingActions([
      SiteAction.ReadSite,
      SiteAction.WriteSettings,
      SiteAction.AssignIdentity,
    ]);
    expect(missing).toEqual([SiteAction.WriteSettings, SiteAction.AssignIdentity]);
    expect(calls[0]!.url.pathname).toBe(`${SITE}/providers/Microsoft.Authorization/permissions`);
  });
});

describe("actionMatches", () => {
  it("matches case-insensitively with * spanning segments", () => {
    expect(actionMatches("*", "Microsoft.Web/sites/Write")).toBe(true);
    expect(actionMatches("microsoft.web/sites/write", "Microsoft.Web/sites/Write")).toBe(true);
    expect(actionMatches("Microsoft.Web/sites/*/read", "Microsoft.Web/sites/config/read")).toBe(true);
    expect(actionMatches("Microsoft.Web/sites/read", "Microsoft.Web/sites/Write")).toBe(false);
    expect(actionMatches("Microsoft.Web/*", "Microsoft.WebX/sites/read")).toBe(false);
  });
});

describe("ArmUserAssignedIdentity", () => {
  it("creates the identity when missing and reports its IDs", async () => {
    const { calls, fetchFn } = fakeArm((c) =>
      c.method === "GET"
        ? { status: 404, body: { error: { code: "ResourceNotFound", message: "not found" } } }
        : {
            status: 201,
            body: { location: "westeurope", properties: { clientId: "c", principalId: "p", tenantId: "t" } },
          },
    );
    const identity = new ArmUserAssignedIdentity({
      resourceManagerUrl: ARM,
      identityId: UAMI,
      credential,
      fetch: fetchFn,
    });
    expect(await identity.ensure("westeurope")).toEqual({
      clientId: "c",
      principalId: "p",
      tenantId: "t",
      location: "westeurope",
      created: true,
    });
    const put = calls.find((c) => c.method === "PUT")!;
    expect(put.url.searchParams.get("api-version")).toBe("2023-01-31");
    expect(put.body).toEqual({ location: "westeurope" });
  });

  it("leaves an existing identity as it is", async () => {
    const { calls, fetchFn } = fakeArm(() => ({
      status: 200,
      body: { location: "westeurope", properties: { clientId: "c", principalId: "p", tenantId: "t" } },
    }));
    const identity = new ArmUserAssignedIdentity({
      resourceManagerUrl: ARM,
      identityId: UAMI,
      credential,
      fetch: fetchFn,
    });
    expect((await identity.ensure("northeurope")).created).toBe(false);
    expect(calls.map((c) => c.method)).toEqual(["GET"]);
  });
});

describe("actionMatches with a middle wildcard segment", () => {
  it("lets /*/ stand for no segment, as Managed Identity Operator's assign action does", () => {
    const pattern = "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action";
    expect(actionMatches(pattern, "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action")).toBe(true);
    expect(actionMatches(pattern, "Microsoft.ManagedIdentity/userAssignedIdentities/x/assign/action")).toBe(true);
    expect(actionMatches(pattern, "Microsoft.ManagedIdentity/userAssignedIdentities/write")).toBe(false);
  });
});
