/**
 * Easy Auth mode in the app, through Fastify's inject (no sockets) with fetch stubbed for Microsoft Graph: when the
 * app trusts the platform's identity headers (only in Easy Auth mode, vouched for by App Service's
 * WEBSITE_AUTH_ENABLED or the local stand-in), what it does with them, and that in the default mode a spoofed header
 * does nothing.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import Fastify from "fastify";
import { easyAuthUser, platformIdentityHeaders } from "../../app/auth/easy-auth";
import { ConfigError } from "../../app/app-config";
import { EasyAuthHeader } from "../../contract/easy-auth";
import { offlineConfig, useOfflineApp } from "../support/offline-app";

const OID = "7d1a0c3e-5b2f-4e8a-9c6d-0f1e2a3b4c5d";
const TID = "00000000-0000-4000-8000-00000000feed";

/** What App Service injects for a signed-in user (claims as its claim mapping names them). */
function platformHeaders(
  o: {
    accessToken?: string;
    expiresOn?: string;
    claims?: { typ: string; val: string }[];
    id?: string;
    idp?: string;
  } = {},
) {
  const principal = {
    auth_typ: "aad",
    claims: o.claims ?? [
      { typ: "name", val: "Adele <Vance>" },
      { typ: "preferred_username", val: "adele@contoso.example" },
      { typ: "http://schemas.microsoft.com/identity/claims/objectidentifier", val: OID },
      { typ: "http://schemas.microsoft.com/identity/claims/tenantid", val: TID },
      { typ: "iss", val: `https://login.microsoftonline.com/${TID}/v2.0` },
    ],
    name_typ: "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
    role_typ: "http://schemas.microsoft.com/ws/2008/06/identity/claims/role",
  };
  return {
    [EasyAuthHeader.Principal]: Buffer.from(JSON.stringify(principal)).toString("base64"),
    [EasyAuthHeader.PrincipalId]: o.id ?? OID,
    [EasyAuthHeader.PrincipalName]: "adele@contoso.example",
    [EasyAuthHeader.PrincipalIdp]: o.idp ?? "aad",
    [EasyAuthHeader.IdToken]: "header.payload.signature",
    ...(o.accessToken ? { [EasyAuthHeader.AccessToken]: o.accessToken } : {}),
    ...(o.expiresOn ? { [EasyAuthHeader.ExpiresOn]: o.expiresOn } : {}),
  };
}

const refusal = (env: Record<string, string>): string[] => {
  try {
    offlineConfig(env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return [...error.problems];
  }
};

describe("when the app trusts the identity headers", () => {
  it("trusts nobody's headers by default", () => {
    expect(offlineConfig().easyAuth).toBeUndefined();
    expect(offlineConfig({ SignIn__AuthMode: "app" }).easyAuth).toBeUndefined();
  });

  it("trusts App Service's only in Easy Auth mode with the platform's WEBSITE_AUTH_ENABLED=True", () => {
    const onAppService = {
      WEBSITE_HOSTNAME: "contoso.azurewebsites.net",
      PUBLIC_BASE_URL: "",
      SignIn__AuthMode: "easyAuth",
    };
    expect(offlineConfig({ ...onAppService, WEBSITE_AUTH_ENABLED: "True" }).easyAuth).toEqual({
      vouchedBy: "app-service",
    });
    expect(refusal(onAppService)).toEqual([
      expect.stringMatching(
        new RegExp(
          "^SignIn__AuthMode is easyAuth, but App Service authentication is off " +
            String.raw`\(WEBSITE_AUTH_ENABLED is unset\).*set it to app\.$`,
        ),
      ),
    ]);
    expect(refusal({ ...onAppService, WEBSITE_AUTH_ENABLED: "False" })[0]).toMatch(/WEBSITE_AUTH_ENABLED is "False"/);
    // The local stand-in's flag means nothing on App Service.
    expect(refusal({ ...onAppService, EASY_AUTH_LOCAL_STAND_IN: "true" })[0]).toMatch(/authentication is off/);
  });

  it("off App Service, trusts only the local stand-in, and refuses an unknown mode", () => {
    expect(offlineConfig({ SignIn__AuthMode: "easyAuth", EASY_AUTH_LOCAL_STAND_IN: "true" }).easyAuth).toEqual({
      vouchedBy: "local-stand-in",
    });
    expect(refusal({ SignIn__AuthMode: "easyAuth" })[0]).toMatch(
      /not App Service and no Easy Auth stand-in fronts the app.*npm run dev -- --easy-auth/,
    );
    expect(refusal({ SignIn__AuthMode: "platform" })[0]).toMatch(
      /SignIn__AuthMode is "platform"; set it to app .* or easyAuth/,
    );
  });
});

describe("reading the client principal", () => {
  it("maps Easy Auth's claim URIs to the ID token's names and keeps the token store's tokens", () => {
    const user = easyAuthUser(platformHeaders({ accessToken: "graph-token", expiresOn: "2030-01-01T00:00:00Z" }));
    expect(user?.claims).toMatchObject({
      name: "Adele <Vance>",
      preferred_username: "adele@contoso.example",
      oid: OID,
      tid: TID,
    });
    expect(user?.accessToken).toBe("graph-token");
    expect(user?.accessTokenExpiresOn?.toISOString()).toBe("2030-01-01T00:00:00.000Z");
  });

  it("refuses a principal that is malformed, from another provider, or disagrees with X-MS-CLIENT-PRINCIPAL-ID", () => {
    expect(easyAuthUser({})).toBeUndefined();
    expect(easyAuthUser({ ...platformHeaders(), [EasyAuthHeader.Principal]: "not base64 json!" })).toBeUndefined();
    expect(
      easyAuthUser({ ...platformHeaders(), [EasyAuthHeader.Principal]: Buffer.from("{").toString("base64") }),
    ).toBeUndefined();
    expect(easyAuthUser(platformHeaders({ idp: "google" }))).toBeUndefined();
    expect(easyAuthUser(platformHeaders({ id: "someone-else" }))).toBeUndefined();
    expect(easyAuthUser(platformHeaders({ claims: [{ typ: "name", val: "no object id" }] }))).toBeUndefined();
    expect(easyAuthUser({ ...platformHeaders(), [EasyAuthHeader.Principal]: "A".repeat(17 * 1024) })).toBeUndefined();
  });
});

describe("the default mode", () => {
  const offline = useOfflineApp();

  it("ignores a spoofed X-MS-CLIENT-PRINCIPAL: the visitor stays signed out everywhere", async () => {
    const spoofed = platformHeaders({ accessToken: "attacker-token" });
    const home = await offline.app.inject({ url: "/", headers: spoofed });
    expect(home.statusCode).toBe(200);
    expect(home.body).toContain('id="sign-in"');
    expect(home.body).not.toContain("Adele");
    expect((await offline.app.inject({ url: "/me", headers: spoofed })).statusCode).toBe(401);
    expect((await offline.app.inject({ url: "/me/graph", headers: spoofed })).statusCode).toBe(401);
  });

  it("drops the headers before any route sees them", async () => {
    const app = Fastify({ logger: false });
    await app.register(platformIdentityHeaders);
    app.get("/echo", async (req) => Object.keys(req.headers));
    const seen = (
      await app.inject({
        url: "/echo",
        headers: {
          ...platformHeaders({ accessToken: "t" }),
          "X-MS-TOKEN-AAD-REFRESH-TOKEN": "r",
          "x-ms-request-id": "kept",
        },
      })
    ).json() as string[];
    await app.close();
    expect(seen.filter((h) => h.startsWith("x-ms-"))).toEqual(["x-ms-request-id"]);
  });
});

describe("Easy Auth mode", () => {
  const offline = useOfflineApp(offlineConfig({ SignIn__AuthMode: "easyAuth", EASY_AUTH_LOCAL_STAND_IN: "true" }));
  afterEach(() => vi.unstubAllGlobals());

  const stubGraph = (status = 200) => {
    const fetchMock = vi.fn(
      async (_url: string, _init: RequestInit) =>
        new Response(
          JSON.stringify(
            status === 200
              ? { displayName: "Adele Vance", mail: "adele@contoso.example", jobTitle: "Retail Manager" }
              : { error: { code: "InvalidAuthenticationToken" } },
          ),
          {
            status,
            headers: { "content-type": "application/json" },
          },
        ),
    );
    vi.stubGlobal("fetch", fetchMock);
    return fetchMock;
  };

  it(
    "shows the signed-in page for the platform's user and reads " + "Graph with the token store's access token",
    async () => {
      const fetchMock = stubGraph();
      const res = await offline.app.inject({
        url: "/",
        headers: platformHeaders({ accessToken: "graph-token", expiresOn: "2099-01-01T00:00:00Z" }),
      });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<span id="user-name">Adele &lt;Vance&gt;</span>');
      expect(res.body).toContain('<dd id="user-tenant">00000000-0000-4000-8000-00000000feed</dd>');
      expect(res.body).toContain('<dd id="graph-job-title">Retail Manager</dd>');
      expect(fetchMock).toHaveBeenCalledTimes(1);
      const [url, init] = fetchMock.mock.calls[0]!;
      expect(url).toBe("https://graph.microsoft.com/v1.0/me?$select=displayName,mail,jobTitle");
      expect((init.headers as Record<string, string>).authorization).toBe("Bearer graph-token");
      expect(String(res.headers["set-cookie"])).toMatch(
        /^easy_auth_csrf=[\w-]{43}; Path=\/signout; HttpOnly; SameSite=Strict$/,
      );
    },
  );

  it("says why it cannot read Graph when the token store passed no access token, or an expired one", async () => {
    const fetchMock = stubGraph();
    const none = await offline.app.inject({ url: "/", headers: platformHeaders() });
    expect(none.body).toContain(
      "App Service&#39;s token store passed no Microsoft Graph access token for this sign-in.",
    );
    const expired = await offline.app.inject({
      url: "/me/graph",
      headers: platformHeaders({ accessToken: "old", expiresOn: "2001-01-01T00:00:00Z" }),
    });
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ error: "sign_in_required", fix: expect.stringContaining("/.auth/refresh") });
    expect(fetchMock).not.toHaveBeenCalled();
  });

  it("explains Graph's refusal of the token at /me/graph", async () => {
    stubGraph(401);
    const res = await offline.app.inject({ url: "/me/graph", headers: platformHeaders({ accessToken: "bad" }) });
    expect(res.statusCode).toBe(502);
    expect(res.json()).toMatchObject({ error: "graph_rejected_token", code: "InvalidAuthenticationToken" });
  });

  it("answers /me with the claims, and 401 without a principal", async () => {
    expect((await offline.app.inject({ url: "/me", headers: platformHeaders() })).json()).toMatchObject({
      oid: OID,
      tid: TID,
    });
    expect((await offline.app.inject("/me")).statusCode).toBe(401);
    expect((await offline.app.inject({ url: "/me", headers: platformHeaders({ id: "forged" }) })).statusCode).toBe(401);
  });

  it("hands sign-in to Easy Auth", async () => {
    const res = await offline.app.inject("/signin");
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("/.auth/login/aad?post_login_redirect_uri=%2F");
  });

  it("signs out through Easy Auth only with the form's CSRF value matching its cookie", async () => {
    const form = (csrf: string, cookie?: string) =>
      offline.app.inject({
        method: "POST",
        url: "/signout",
        headers: {
          "content-type": "application/x-www-form-urlencoded",
          ...(cookie ? { cookie: `easy_auth_csrf=${cookie}` } : {}),
          ...platformHeaders(),
        },
        payload: `csrf=${csrf}`,
      });
    expect((await form("abc")).statusCode).toBe(403);
    expect((await form("abc", "xyz")).statusCode).toBe(403);
    expect((await form("", "")).statusCode).toBe(403);
    const ok = await form("abc", "abc");
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/.auth/logout?post_logout_redirect_uri=%2F");
  });

  it("keeps the health checks", async () => {
    expect((await offline.app.inject("/healthz")).json()).toEqual({ status: "ok" });
    expect((await offline.app.inject("/readyz")).statusCode).toBe(200);
  });
});
