/**
 * Calling Microsoft Graph as the signed-in user, over real HTTP against the emulator's Entra and Graph stand-in: the
 * profile on the home page and at /me/graph, silent refresh with the managed identity's token as the assertion, and
 * a clear answer for every way it fails. No token ever reaches a page, a JSON body, a cookie or the log.
 */
import { describe, expect, it } from "vitest";
import type { Page } from "../../local/user-agent";
import { UserAgent } from "../../local/user-agent";
import { problemCode, problemTitle, signedInAgent, useStack } from "../support/app-stack";

const stack = useStack();
const url = (path: string): string => `${stack.baseUrl}${path}`;

/** Entra-issued JWTs (ID and access tokens) and the emulator's refresh tokens (`1.<64 base64url>`). */
const TOKEN = /eyJ[\w-]+\.[\w-]+|\b1\.[\w-]{60,}/;
/** Every response body and Set-Cookie header the tests saw, checked for tokens at the end. */
const seen: string[] = [];
const keep = (page: Page, ua: UserAgent): Page => {
  seen.push(page.body, ...ua.lastSetCookies);
  return page;
};

async function home(ua: UserAgent): Promise<Page> {
  return keep(await ua.request(url("/")), ua);
}

async function graphJson(ua: UserAgent): Promise<{ status: number; body: Record<string, unknown> }> {
  const page = keep(await ua.request(url("/me/graph")), ua);
  expect(page.headers.get("cache-control")).toBe("no-store");
  return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown> };
}

async function signIn(): Promise<{ ua: UserAgent; page: Page }> {
  const { ua, page } = await signedInAgent(stack);
  seen.push(page.body);
  return { ua, page };
}

const field = (page: Page, id: string): string | undefined =>
  new RegExp(`id="${id}"[^>]*>([^<]*)<`).exec(page.body)?.[1];
const consentUrl = (): string =>
  `${stack.emu.instance}${stack.emu.tenantId}/adminconsent?client_id=${stack.emu.registration.clientId}`;

describe("the Microsoft Graph profile", () => {
  it("shows the user's Graph profile next to the ID-token claims after sign-in, and as JSON at /me/graph", async () => {
    const before = stack.emu.stats.graphRequests;
    const { ua, page } = await signIn();
    expect(page.status).toBe(200);
    expect(field(page, "graph-name")).toBe("Ada Lovelace");
    expect(field(page, "graph-mail")).toBe("ada@contoso.example");
    expect(field(page, "graph-job-title")).toBe("Mathematician");
    expect(page.body).toContain('<table id="claims">');
    expect(await graphJson(ua)).toEqual({
      status: 200,
      body: { displayName: "Ada Lovelace", mail: "ada@contoso.example", jobTitle: "Mathematician" },
    });
    expect(stack.emu.stats.graphRequests).toBe(before + 2);
  });

  it("asks for User.Read and offline_access besides the OpenID scopes at sign-in", async () => {
    const ua = new UserAgent();
    const start = await ua.request(url("/signin"));
    const scopes = new URL(start.headers.get("location")!).searchParams.get("scope")!.split(" ");
    expect(scopes).toEqual(expect.arrayContaining(["openid", "profile", "offline_access", "User.Read"]));
  });

  it("reuses the session's access token while it is valid: no token request for a second page", async () => {
    const { ua } = await signIn();
    const tokens = stack.emu.stats.tokenRequests;
    expect(field(await home(ua), "graph-name")).toBe("Ada Lovelace");
    expect((await graphJson(ua)).status).toBe(200);
    expect(stack.emu.stats.tokenRequests).toBe(tokens);
  });

  it(
    "refreshes an expired access token silently, presenting the " + "managed identity's cached token as the assertion",
    async () => {
      // Below msal-node's five-minute margin: every silent call must refresh.
      stack.emu.accessTokenLifetimeSeconds = 60;
      const { ua } = await signIn();
      const { refreshTokenRequests, miRequests } = stack.emu.stats;
      expect(field(await home(ua), "graph-name")).toBe("Ada Lovelace");
      expect(stack.emu.stats.refreshTokenRequests).toBe(refreshTokenRequests + 1);
      expect((await graphJson(ua)).body).toMatchObject({ displayName: "Ada Lovelace" });
      expect(stack.emu.stats.refreshTokenRequests).toBe(refreshTokenRequests + 2);
      // The refreshed tokens went back into the session: once a refresh brings a long-lived token, it is reused.
      stack.emu.accessTokenLifetimeSeconds = 3599;
      await graphJson(ua);
      expect((await graphJson(ua)).body).toMatchObject({ displayName: "Ada Lovelace" });
      expect(stack.emu.stats.refreshTokenRequests).toBe(refreshTokenRequests + 3);
      // The assertion came from msal-node's managed-identity cache: no new request to the MI endpoint.
      expect(stack.emu.stats.miRequests).toBe(miRequests);
    },
  );

  it(
    "presents the assertion on a refresh too: Entra's FIC check " + "refusing it shows a notice, not the profile",
    async () => {
      stack.emu.accessTokenLifetimeSeconds = 60;
      const { ua } = await signIn();
      stack.emu.faults.ficNotPropagated = true;
      const page = await home(ua);
      expect(page.status).toBe(200);
      expect(field(page, "graph-notice-code")).toBe("AADSTS70021");
      expect(field(page, "graph-name")).toBeUndefined();
      expect(page.body).toContain('<span id="user-name">Ada Lovelace</span>');
    },
  );

  it("shares one refresh between concurrent requests of one session", async () => {
    stack.emu.accessTokenLifetimeSeconds = 60;
    const { ua } = await signIn();
    const before = stack.emu.stats.refreshTokenRequests;
    const answers = await Promise.all([graphJson(ua), graphJson(ua), graphJson(ua)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(stack.emu.stats.refreshTokenRequests).toBe(before + 1);
  });
});

describe("the tokens go with the session", () => {
  it(
    "forgets the user's tokens at sign-out: the old session id reads " +
      "no profile and costs no token or Graph request",
    async () => {
      const { ua, page } = await signIn();
      const session = ua.cookie(stack.baseUrl, "session")!;
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
      keep(await ua.request(url("/signout"), { method: "POST", form: { csrf } }), ua);
      const replayer = new UserAgent();
      replayer.setCookie(stack.baseUrl, "session", session);
      const { tokenRequests, graphRequests } = stack.emu.stats;
      expect(await graphJson(replayer)).toEqual({
        status: 401,
        body: { error: "not_signed_in", message: "Sign in at /signin first." },
      });
      expect([stack.emu.stats.tokenRequests, stack.emu.stats.graphRequests]).toEqual([tokenRequests, graphRequests]);
    },
  );
});

describe("when Graph cannot be called", () => {
  it("ends the session and asks to sign in again when the refresh token was revoked (AADSTS50173)", async () => {
    stack.emu.accessTokenLifetimeSeconds = 60;
    const { ua } = await signIn();
    expect(stack.emu.revokeRefreshTokens()).toBeGreaterThan(0);
    const page = await home(ua);
    expect(page.status).toBe(401);
    expect(problemTitle(page)).toBe("Your sign-in has expired or was revoked.");
    expect(problemCode(page)).toBe("AADSTS50173");
    expect(page.body).toContain('href="/signin"');
    // The session ended with its tokens: the cookie is cleared and the app no longer knows the user.
    expect(ua.lastSetCookies.some((c) => /^session=;/.test(c))).toBe(true);
    expect((await graphJson(ua)).body).toEqual({ error: "not_signed_in", message: "Sign in at /signin first." });
    // Signing in again works.
    expect(field((await signIn()).page, "graph-name")).toBe("Ada Lovelace");
  });

  it("answers /me/graph with 401 sign_in_required after a revocation", async () => {
    stack.emu.accessTokenLifetimeSeconds = 60;
    const { ua } = await signIn();
    stack.emu.revokeRefreshTokens();
    expect(await graphJson(ua)).toMatchObject({
      status: 401,
      body: { error: "sign_in_required", code: "AADSTS50173" },
    });
    expect((await home(ua)).body).toContain('id="sign-in"');
  });

  it(
    "shows the consent page with the tenant's admin-consent link " + "when nobody consented (AADSTS65001 at sign-in)",
    async () => {
      stack.emu.faults.consentMissing = true;
      const { page } = await signIn();
      expect(page.status).toBe(403);
      expect(problemCode(page)).toBe("AADSTS65001");
      expect(problemTitle(page)).toBe("Consent has not been granted to this application.");
      expect(page.body).toContain(`<a id="admin-consent-link" href="${consentUrl().replaceAll("&", "&amp;")}">`);
    },
  );

  it(
    "keeps the page and links admin consent when consent goes " + "missing after sign-in (AADSTS65001 on refresh)",
    async () => {
      stack.emu.accessTokenLifetimeSeconds = 60;
      const { ua } = await signIn();
      stack.emu.faults.consentMissing = true;
      const page = await home(ua);
      expect(page.status).toBe(200);
      expect(field(page, "graph-notice-code")).toBe("AADSTS65001");
      expect(page.body).toContain(`<a id="admin-consent-link" href="${consentUrl()}">`);
      expect(await graphJson(ua)).toMatchObject({
        status: 403,
        body: { error: "consent_required", adminConsentUrl: consentUrl() },
      });
    },
  );

  it("still renders the page, with a notice, when Graph is unreachable", async () => {
    const { ua } = await signIn();
    stack.emu.faults.graphDown = true;
    const page = await home(ua);
    expect(page.status).toBe(200);
    expect(field(page, "graph-notice-title")).toBe("Microsoft Graph could not be reached.");
    expect(page.body).toContain('<span id="user-name">Ada Lovelace</span>');
    expect(await graphJson(ua)).toMatchObject({ status: 503, body: { error: "graph_unavailable" } });
  });

  it.each([
    [503, "serviceNotAvailable"],
    [500, "generalException"],
    [429, "TooManyRequests"],
  ])("still renders the page, with a notice, when Graph answers %i", async (status, code) => {
    const { ua } = await signIn();
    stack.emu.faults.graph = { status, retryAfterSeconds: 2 };
    const page = await home(ua);
    expect(page.status).toBe(200);
    expect(field(page, "graph-notice-title")).toBe(`Microsoft Graph is unavailable (HTTP ${status}).`);
    expect(field(page, "graph-notice-fix")).toBe("Wait 2 seconds and reload the page.");
    expect(field(page, "graph-notice-code")).toBe(code);
    expect(await graphJson(ua)).toMatchObject({ status: 503, body: { error: "graph_unavailable", code } });
  });

  it("explains a 401 from Graph (the access token rejected) and keeps the session", async () => {
    const { ua } = await signIn();
    stack.emu.faults.graph = { status: 401 };
    const page = await home(ua);
    expect(page.status).toBe(200);
    expect(field(page, "graph-notice-title")).toBe("Microsoft Graph rejected the app&#39;s access token (HTTP 401).");
    stack.emu.faults.graph = { status: 401 };
    expect(await graphJson(ua)).toMatchObject({ status: 502, body: { error: "graph_rejected_token" } });
    stack.emu.resetFaults();
    expect(field(await home(ua), "graph-name")).toBe("Ada Lovelace");
  });
});

describe("tokens stay on the server", () => {
  it("puts no token in any page, JSON body or cookie, and none in any log line", () => {
    expect(seen.length).toBeGreaterThan(30);
    for (const text of seen) expect(text).not.toMatch(TOKEN);
    expect(stack.logs.length).toBeGreaterThan(20);
    expect(stack.logs.join("\n")).not.toMatch(TOKEN);
    // The failures above were logged, without their tokens.
    expect(stack.logs.some((line) => line.includes("no Microsoft Graph token"))).toBe(true);
  });
});
