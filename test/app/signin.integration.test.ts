/**
 * The sign-in over real HTTP: the app (createApp, listening on loopback) against the Entra + managed-identity
 * emulator, both in this process, driven by a scripted cookie-jar user agent.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { IdTokenMode } from "../../emulator";
import { signedInAgent, useStack } from "./support/stack";
import { cookieAttributes, parseFormPost, UserAgent, type FormPost, type Page } from "./support/user-agent";

const stack = useStack();
/** Every code, state and cookie value the tests saw, to prove none of them reaches the logs. */
const secrets = new Set<string>();

afterEach(() => {
  // Faults are live switches: reset them so one test cannot break the next.
  stack.emu.idTokenMode = "valid";
  Object.assign(stack.emu.faults, { mi: null, miDown: false, ficNotPropagated: false, tokenEndpointDown: false, authorizeError: null });
});

const url = (path: string): string => `${stack.baseUrl}${path}`;

/** Starts a sign-in and stops at Entra's form_post page, returning what it would post. */
async function formPostFor(ua: UserAgent, path = "/signin"): Promise<FormPost> {
  const page = await ua.navigate(url(path), { stopAtFormPost: true });
  const form = parseFormPost(page.body);
  if (!form) throw new Error(`expected Entra's form_post page, got HTTP ${page.status}: ${page.body.slice(0, 300)}`);
  if (form.fields.code) secrets.add(form.fields.code);
  if (form.fields.state) secrets.add(form.fields.state);
  return form;
}

async function submit(ua: UserAgent, form: FormPost, fields: Record<string, string> = form.fields): Promise<Page> {
  return ua.navigate(form.action, { method: "POST", form: fields });
}

function sessionCookie(ua: UserAgent): string | undefined {
  const value = ua.cookie(stack.baseUrl, "session");
  if (value) secrets.add(value);
  return value;
}

async function me(ua: UserAgent): Promise<{ status: number; body: Record<string, unknown> }> {
  const page = await ua.request(url("/me"));
  return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown> };
}

function title(page: Page): string {
  return /<h1 id="problem-title">([^<]*)<\/h1>/.exec(page.body)?.[1] ?? "";
}

function fix(page: Page): string {
  return /<p[^>]* id="problem-fix">([\s\S]*?)<\/p>/.exec(page.body)?.[1] ?? "";
}

describe("signing in", () => {
  it("should sign in with auth code + PKCE and form_post, then show the user's name, claims and trust chain", async () => {
    const { ua, page } = await signedInAgent(stack);

    const authorize = new URL(ua.history[1]!.slice(4));
    expect(authorize.origin + authorize.pathname).toBe(`${stack.emu.authority}/oauth2/v2.0/authorize`);
    expect(authorize.searchParams.get("response_mode")).toBe("form_post");
    expect(authorize.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorize.searchParams.get("nonce")).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get("state")).toMatch(/^[\w-]{43}$/);
    expect(authorize.searchParams.get("redirect_uri")).toBe(url("/signin-oidc"));
    expect(ua.history.slice(2)).toEqual([`POST ${url("/signin-oidc")}`, `GET ${url("/")}`]);

    expect(page.status).toBe(200);
    expect(page.body).toContain('<span id="user-name">Ada Lovelace</span>');
    expect(page.body).toContain('<dd id="user-username">ada@contoso.example</dd>');
    expect(page.body).toContain(`<dd id="user-tenant">${stack.emu.tenantId}</dd>`);
    expect(page.body).toMatch(/<th scope="row">oid<\/th><td>e4d3c2b1-a0f9-4e8d-b7c6-5a4b3c2d1e0f<\/td>/);
    // The trust chain names the managed identity (client and principal id), the FIC issuer and audience.
    const svg = /<svg id="trust-chain"[\s\S]*?<\/svg>/.exec(page.body)?.[0] ?? "";
    expect(svg).toContain(stack.emu.registration.uami.clientId);
    expect(svg).toContain(`subject ${stack.emu.registration.uami.principalId}`);
    expect(svg).toContain(`issuer ${stack.emu.issuer}`);
    expect(svg).toContain("api://AzureADTokenExchange");
    // Never a token on the page.
    expect(page.body).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    sessionCookie(ua);
  });

  it("should return the ID-token claims at /me, and 401 JSON when signed out", async () => {
    const { ua } = await signedInAgent(stack);
    const signedIn = await me(ua);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ name: "Ada Lovelace", tid: stack.emu.tenantId, aud: stack.emu.registration.clientId, iss: stack.emu.issuer });

    const anonymous = await me(new UserAgent());
    expect(anonymous).toEqual({ status: 401, body: { error: "not_signed_in", message: "Sign in at /signin first." } });
  });

  it("should return to a same-origin returnUrl after signing in", async () => {
    const { ua, page } = await signedInAgent(stack, "/signin?returnUrl=%2Fme%3Fview%3Dall");
    expect(ua.history.at(-1)).toBe(`GET ${url("/me?view=all")}`);
    expect(JSON.parse(page.body)).toMatchObject({ name: "Ada Lovelace" });
  });

  it("should accept the response at the callback by GET too (response_mode=query)", async () => {
    const ua = new UserAgent();
    const start = await ua.request(url("/signin"));
    const authorize = new URL(start.headers.get("location")!);
    authorize.searchParams.set("response_mode", "query");
    const page = await ua.navigate(authorize.href);
    expect(ua.history.at(-2)).toMatch(new RegExp(`^GET ${url("/signin-oidc")}\\?code=`));
    expect(page.body).toContain("Ada Lovelace");
  });

  it("should set a new session id on each sign-in and ignore a planted one (no session fixation)", async () => {
    const ua = new UserAgent();
    const planted = "A".repeat(43);
    ua.setCookie(stack.baseUrl, "session", planted);
    await ua.navigate(url("/signin"));
    const first = sessionCookie(ua);
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(first).not.toBe(planted);

    await ua.navigate(url("/signin"));
    const second = sessionCookie(ua);
    expect(second).not.toBe(first);

    const replayer = new UserAgent();
    replayer.setCookie(stack.baseUrl, "session", first!);
    expect((await me(replayer)).status).toBe(401);
  });

  it("should keep the session in an HttpOnly SameSite=Lax cookie and the sign-in in an HttpOnly SameSite=None; Secure cookie", async () => {
    const ua = new UserAgent();
    await ua.request(url("/signin"));
    const transaction = cookieAttributes(ua.lastSetCookies.find((c) => c.startsWith("signin="))!);
    expect([...transaction.attributes.keys()]).toEqual(expect.arrayContaining(["httponly", "secure", "samesite", "path", "max-age"]));
    expect(transaction.attributes.get("samesite")).toBe("None");
    expect(transaction.attributes.get("max-age")).toBe("900");

    const form = await formPostFor(ua);
    await ua.request(form.action, { method: "POST", form: form.fields });
    const session = cookieAttributes(ua.lastSetCookies.find((c) => c.startsWith("session="))!);
    expect(session.attributes.has("httponly")).toBe(true);
    expect(session.attributes.get("samesite")).toBe("Lax");
    expect(session.attributes.get("path")).toBe("/");
    expect(session.attributes.has("secure")).toBe(false); // plain http here; see the X-Forwarded-Proto test
    expect(session.value).toMatch(/^[\w-]{43}$/); // 256 random bits, nothing else
  });

  it("should use an https redirect URI and __Host- Secure cookies behind App Service's TLS front end (X-Forwarded-Proto)", async () => {
    const ua = new UserAgent();
    const page = await ua.request(url("/signin"), { headers: { "x-forwarded-proto": "https" } });
    const authorize = new URL(page.headers.get("location")!);
    expect(authorize.searchParams.get("redirect_uri")).toBe(`https://${new URL(stack.baseUrl).host}/signin-oidc`);
    const cookie = cookieAttributes(ua.lastSetCookies[0]!);
    expect(cookie.name).toBe("__Host-signin");
    expect(cookie.attributes.has("secure")).toBe(true);
    expect(cookie.attributes.has("domain")).toBe(false);
  });

  it("should keep working after the authority rotates its signing keys", async () => {
    await signedInAgent(stack);
    await stack.emu.rotateKeys();
    const { page } = await signedInAgent(stack);
    expect(page.body).toContain("Ada Lovelace");
  });
});

describe("signing out", () => {
  it("should clear the session and redirect to the end-session endpoint, which returns to the app", async () => {
    const { ua, page } = await signedInAgent(stack);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    secrets.add(csrf);

    const signOut = await ua.request(url("/signout"), { method: "POST", form: { csrf } });
    expect(signOut.status).toBe(303);
    const endSession = new URL(signOut.headers.get("location")!);
    expect(endSession.origin + endSession.pathname).toBe(`${stack.emu.authority}/oauth2/v2.0/logout`);
    expect(endSession.searchParams.get("post_logout_redirect_uri")).toBe(url("/"));
    expect(endSession.searchParams.get("client_id")).toBe(stack.emu.registration.clientId);
    expect(endSession.searchParams.get("logout_hint")).toBeTruthy();
    expect(ua.lastSetCookies.some((c) => /^session=;/.test(c))).toBe(true);

    // The stack registers a front-channel logout URL, so Entra's signed-out page frames it, then continues.
    const signedOut = await ua.navigate(endSession.href);
    expect(/<iframe id="front-channel-logout" src="([^"]+)"/.exec(signedOut.body)?.[1]).toBe(url("/signout-oidc"));
    const onward = /<a id="continue" href="([^"]+)"/.exec(signedOut.body)?.[1];
    expect(onward).toBe(url("/"));
    const landing = await ua.navigate(onward!);
    expect(landing.body).toContain('id="sign-in"');
    expect((await me(ua)).status).toBe(401);
  });

  it("should refuse a sign-out without the session's CSRF token and stay signed in", async () => {
    const { ua } = await signedInAgent(stack);
    const forged = await ua.request(url("/signout"), { method: "POST", form: { csrf: "guess" } });
    expect(forged.status).toBe(403);
    expect(title(forged)).toBe("Sign-out refused");
    const missing = await ua.request(url("/signout"), { method: "POST", form: {} });
    expect(missing.status).toBe(403);
    expect((await me(ua)).status).toBe(200);
  });

  it("should redirect home when signing out without a session", async () => {
    const page = await new UserAgent().request(url("/signout"), { method: "POST", form: { csrf: "x" } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/");
  });

  it("should clear the session on front-channel logout, framed by the authority only", async () => {
    const { ua } = await signedInAgent(stack);
    const page = await ua.request(url("/signout-oidc"));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain(`frame-ancestors ${new URL(stack.emu.instance).origin}`);
    expect(page.headers.get("x-frame-options")).toBeNull();
    expect((await me(ua)).status).toBe(401);
  });
});

describe("rejected ID tokens", () => {
  const modes: Array<[IdTokenMode, RegExp]> = [
    ["bad-signature", /signature does not verify/],
    ["alg-none", /algorithm &quot;none&quot;; only RS256/],
    ["wrong-iss", /its issuer is not/],
    ["wrong-aud", /audience is not this app&#39;s client ID/],
    ["wrong-tid", /its tenant \(tid/],
    ["expired", /it has expired/],
    ["unknown-kid", /key \(kid\) the authority does not publish/],
    ["missing-sub", /claim &quot;sub&quot;/],
  ];

  it.each(modes)("should reject an ID token in mode %s with a clear page and no session", async (mode, reason) => {
    stack.emu.idTokenMode = mode;
    const ua = new UserAgent();
    const page = await ua.navigate(url("/signin"));
    expect(page.status).toBe(401);
    expect(title(page)).toBe("The ID token from Entra was rejected.");
    expect(fix(page)).toMatch(reason);
    expect(page.body).not.toMatch(/eyJ|at \w+ \(/); // no token, no stack trace
    expect((await me(ua)).status).toBe(401);
  });

  it("should reject an ID token whose nonce is not this attempt's", async () => {
    stack.emu.idTokenMode = "nonce-mismatch";
    const ua = new UserAgent();
    const page = await ua.navigate(url("/signin"));
    expect(page.status).toBe(401);
    expect(title(page)).toMatch(/nonce mismatch/);
    expect((await me(ua)).status).toBe(401);
  });

  it("should keep serving after every rejection", async () => {
    expect((await new UserAgent().request(url("/healthz"))).status).toBe(200);
    const { page } = await signedInAgent(stack);
    expect(page.body).toContain("Ada Lovelace");
  });
});

describe("sign-in responses that must be refused", () => {
  it("should refuse a callback without state", async () => {
    const ua = new UserAgent();
    const form = await formPostFor(ua);
    const page = await submit(ua, form, { code: form.fields.code! });
    expect(page.status).toBe(400);
    expect(title(page)).toBe("Sign-in response without state");
  });

  it("should refuse an unknown state", async () => {
    const ua = new UserAgent();
    const form = await formPostFor(ua);
    const page = await submit(ua, form, { ...form.fields, state: "x".repeat(43) });
    expect(page.status).toBe(400);
    expect(title(page)).toBe("Sign-in attempt unknown or already used");
  });

  it("should refuse a replayed response (state is single-use)", async () => {
    const ua = new UserAgent();
    const form = await formPostFor(ua);
    expect((await submit(ua, form)).body).toContain("Ada Lovelace");
    const replay = await submit(ua, form);
    expect(replay.status).toBe(400);
    expect(title(replay)).toBe("Sign-in attempt unknown or already used");
  });

  it("should refuse a replayed code under a fresh state (Entra answers AADSTS54005)", async () => {
    const ua = new UserAgent();
    const used = await formPostFor(ua);
    await submit(ua, used);
    const fresh = await formPostFor(ua);
    const page = await submit(ua, fresh, { ...fresh.fields, code: used.fields.code! });
    expect(page.status).toBe(403);
    expect(page.body).toContain('<dd id="problem-code">AADSTS54005</dd>');
    expect(title(page)).toBe("This sign-in response was already used.");
  });

  it("should refuse a response delivered to another browser (login CSRF)", async () => {
    const attacker = new UserAgent();
    const form = await formPostFor(attacker);
    const victim = new UserAgent();
    const page = await submit(victim, form);
    expect(page.status).toBe(400);
    expect(title(page)).toBe("Sign-in started in another browser");
    expect((await me(victim)).status).toBe(401);
  });

  it("should refuse a response with neither code nor error", async () => {
    const ua = new UserAgent();
    const form = await formPostFor(ua);
    const page = await submit(ua, form, { state: form.fields.state! });
    expect(page.status).toBe(400);
    expect(title(page)).toBe("Sign-in response without code");
  });

  it("should explain an error Entra sends to the callback (AADSTS65004, consent declined)", async () => {
    stack.emu.faults.authorizeError = { error: "access_denied", description: "AADSTS65004: User declined to consent to access the app." };
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(403);
    expect(page.body).toContain('<dd id="problem-code">AADSTS65004</dd>');
    expect(title(page)).toBe("Consent to the application was declined.");
    expect(fix(page)).toMatch(/accept the consent prompt/);
  });

  it("should explain access_denied without an AADSTS code", async () => {
    stack.emu.faults.authorizeError = { error: "access_denied", description: "The user cancelled." };
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(403);
    expect(title(page)).toBe("Sign-in was cancelled or access was denied.");
  });

  it.each([
    ["https://evil.example/"],
    ["//evil.example/"],
    ["/\\evil.example"],
    ["\\\\evil.example"],
    ["/\t/evil.example"],
    ["javascript:alert(1)"],
  ])("should refuse the open redirect returnUrl=%j with a 400 page and never start a sign-in", async (returnUrl) => {
    const before = stack.emu.stats.authorizeRequests;
    const page = await new UserAgent().navigate(url(`/signin?returnUrl=${encodeURIComponent(returnUrl)}`));
    expect(page.status).toBe(400);
    expect(title(page)).toBe("Return URL refused");
    expect(page.headers.get("location")).toBeNull();
    expect(stack.emu.stats.authorizeRequests).toBe(before);
  });
});

describe("Entra-side failures", () => {
  it("should explain a federated credential that has not propagated yet (AADSTS70021), then recover", async () => {
    stack.emu.faults.ficNotPropagated = true;
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(503);
    expect(page.body).toContain('<dd id="problem-code">AADSTS70021</dd>');
    expect(fix(page)).toMatch(/wait a few minutes for it to propagate/);

    stack.emu.faults.ficNotPropagated = false;
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("should explain a FIC whose subject is the identity's client ID (AADSTS700213)", async () => {
    const fic = { ...stack.emu.registration.fic };
    stack.emu.registration.fic.subject = stack.emu.registration.uami.clientId;
    try {
      const page = await new UserAgent().navigate(url("/signin"));
      expect(page.status).toBe(502);
      expect(page.body).toContain('<dd id="problem-code">AADSTS700213</dd>');
      expect(fix(page)).toMatch(/principal \(object\) ID, not its client ID/);
    } finally {
      stack.emu.registration.fic = fic;
    }
  });

  it("should explain a FIC with the wrong issuer (AADSTS700211) or audience (AADSTS700212)", async () => {
    const fic = { ...stack.emu.registration.fic };
    try {
      stack.emu.registration.fic = { ...fic, issuer: `https://sts.windows.net/${stack.emu.tenantId}/` };
      const issuer = await new UserAgent().navigate(url("/signin"));
      expect(issuer.body).toContain('<dd id="problem-code">AADSTS700211</dd>');

      stack.emu.registration.fic = { ...fic, audiences: ["api://AzureADTokenExchangeUSGov"] };
      const audience = await new UserAgent().navigate(url("/signin"));
      expect(audience.body).toContain('<dd id="problem-code">AADSTS700212</dd>');
      expect(fix(audience)).toMatch(/api:\/\/AzureADTokenExchange/);
    } finally {
      stack.emu.registration.fic = fic;
    }
  });

  it("should explain an unreachable token endpoint, then recover", async () => {
    stack.emu.faults.tokenEndpointDown = true;
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(503);
    expect(title(page)).toBe("Entra could not be reached.");

    stack.emu.faults.tokenEndpointDown = false;
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("should explain a token endpoint answering 503, then recover after its Retry-After", async () => {
    stack.emu.faults.tokenEndpointDown = "503";
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(503);
    expect(title(page)).toBe("Entra is temporarily unavailable.");

    stack.emu.faults.tokenEndpointDown = false;
    // msal-node throttles the identical request client-side for Retry-After (1 s).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("should report ready while the managed identity works", async () => {
    const page = await new UserAgent().request(url("/readyz"));
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toEqual({
      status: "ready",
      managedIdentityClientId: stack.emu.registration.uami.clientId,
      audience: "api://AzureADTokenExchange",
    });
  });
});

describe("logs", () => {
  it("should be JSON lines that never contain a token, code, state, CSRF token or session id", () => {
    expect(stack.logs.length).toBeGreaterThan(50);
    const text = stack.logs.join("\n");
    for (const line of stack.logs) expect(() => JSON.parse(line)).not.toThrow();
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect(secrets.size).toBeGreaterThan(10);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).toContain("/signin-oidc?code=%5Bredacted%5D"); // the query-mode callback, logged without its code
  });
});
