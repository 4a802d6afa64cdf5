/**
 * The sign-in and sign-out over real HTTP: the app (createApp, listening on loopback) against the Entra +
 * managed-identity emulator, both in this process, driven by a scripted cookie-jar user agent. What must be refused
 * is in signin-refused.integration.test.ts.
 */
import { describe, expect, it } from "vitest";
import { expectCleanLogs, formPostFor, me, problemTitle, signedInAgent, useStack } from "../support/app-stack";
import { cookieAttributes, UserAgent } from "../../local/user-agent";

const stack = useStack();
/** Every code, state and cookie value the tests saw, to prove none of them reaches the logs. */
const secrets = new Set<string>();

const url = (path: string): string => `${stack.baseUrl}${path}`;

function sessionCookie(ua: UserAgent): string | undefined {
  const value = ua.cookie(stack.baseUrl, "session");
  if (value) secrets.add(value);
  return value;
}

describe("signing in", () => {
  it("signs in with auth code + PKCE and form_post, then shows the user's name, claims and trust chain", async () => {
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
    // The chain's text, without the markup that sets the values apart.
    const chain = (/<ol id="trust-chain"[\s\S]*?<\/ol>/.exec(page.body)?.[0] ?? "").replace(/<[^>]+>/g, "");
    expect(chain).toContain(stack.emu.registration.uami.clientId);
    expect(chain).toContain(`subject ${stack.emu.registration.uami.principalId}`);
    expect(chain).toContain(`issuer ${stack.emu.issuer}`);
    expect(chain).toContain("api://AzureADTokenExchange");
    // Never a token on the page.
    expect(page.body).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect(page.headers.get("cache-control")).toBe("no-store");
    sessionCookie(ua);
  });

  it("returns the ID-token claims at /me, and 401 JSON when signed out", async () => {
    const { ua } = await signedInAgent(stack);
    const signedIn = await me(stack, ua);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({
      name: "Ada Lovelace",
      tid: stack.emu.tenantId,
      aud: stack.emu.registration.clientId,
      iss: stack.emu.issuer,
    });

    const anonymous = await me(stack, new UserAgent());
    expect(anonymous).toEqual({ status: 401, body: { error: "not_signed_in", message: "Sign in at /signin first." } });
  });

  it("returns to a same-origin returnUrl after signing in", async () => {
    const { ua, page } = await signedInAgent(stack, "/signin?returnUrl=%2Fme%3Fview%3Dall");
    expect(ua.history.at(-1)).toBe(`GET ${url("/me?view=all")}`);
    expect(JSON.parse(page.body)).toMatchObject({ name: "Ada Lovelace" });
  });

  it("accepts the response at the callback by GET too (response_mode=query)", async () => {
    const ua = new UserAgent();
    const start = await ua.request(url("/signin"));
    const authorize = new URL(start.headers.get("location")!);
    authorize.searchParams.set("response_mode", "query");
    const page = await ua.navigate(authorize.href);
    expect(ua.history.at(-2)).toMatch(new RegExp(`^GET ${url("/signin-oidc")}\\?code=`));
    expect(page.body).toContain("Ada Lovelace");
  });

  it("sets a new session id on each sign-in and ignores a planted one (no session fixation)", async () => {
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
    expect((await me(stack, replayer)).status).toBe(401);
  });

  it(
    "keeps the session in an HttpOnly SameSite=Lax cookie and the sign-in " +
      "attempt in an HttpOnly SameSite=None; Secure cookie",
    async () => {
      const ua = new UserAgent();
      await ua.request(url("/signin"));
      const attempt = cookieAttributes(ua.lastSetCookies.find((c) => c.startsWith("signin="))!);
      expect([...attempt.attributes.keys()]).toEqual(
        expect.arrayContaining(["httponly", "secure", "samesite", "path", "max-age"]),
      );
      expect(attempt.attributes.get("samesite")).toBe("None");
      expect(attempt.attributes.get("max-age")).toBe("900");

      const form = await formPostFor(stack, ua, secrets);
      await ua.request(form.action, { method: "POST", form: form.fields });
      const session = cookieAttributes(ua.lastSetCookies.find((c) => c.startsWith("session="))!);
      expect(session.attributes.has("httponly")).toBe(true);
      expect(session.attributes.get("samesite")).toBe("Lax");
      expect(session.attributes.get("path")).toBe("/");
      // plain http here; https in public-origin.integration.test.ts
      expect(session.attributes.has("secure")).toBe(false);
      expect(session.value).toMatch(/^[\w-]{43}$/); // 256 random bits, nothing else
    },
  );

  it("keeps working after the authority rotates its signing keys", async () => {
    await signedInAgent(stack);
    await stack.emu.rotateKeys();
    const { page } = await signedInAgent(stack);
    expect(page.body).toContain("Ada Lovelace");
  });
});

describe("signing out", () => {
  it("clears the session and redirects to the end-session endpoint, which returns to the app", async () => {
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
    const frame = new URL(
      /<iframe id="front-channel-logout" src="([^"]+)"/.exec(signedOut.body)?.[1]?.replaceAll("&amp;", "&") ?? "",
    );
    expect(frame.origin + frame.pathname).toBe(url("/signout-oidc"));
    expect(frame.searchParams.get("iss")).toBe(`${stack.emu.authority}/v2.0`);
    expect(frame.searchParams.get("sid")).toMatch(/^[0-9a-f-]{36}$/);
    const onward = /<a id="continue" href="([^"]+)"/.exec(signedOut.body)?.[1];
    expect(onward).toBe(url("/"));
    const landing = await ua.navigate(onward!);
    expect(landing.body).toContain('id="sign-in"');
    expect((await me(stack, ua)).status).toBe(401);
  });

  it("refuses a sign-out without the session's CSRF token and stay signed in", async () => {
    const { ua } = await signedInAgent(stack);
    const forged = await ua.request(url("/signout"), { method: "POST", form: { csrf: "guess" } });
    expect(forged.status).toBe(403);
    expect(problemTitle(forged)).toBe("Sign-out refused");
    const missing = await ua.request(url("/signout"), { method: "POST", form: {} });
    expect(missing.status).toBe(403);
    expect((await me(stack, ua)).status).toBe(200);
  });

  it("redirects home when signing out without a session", async () => {
    const page = await new UserAgent().request(url("/signout"), { method: "POST", form: { csrf: "x" } });
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/");
  });

  it("clears the session on front-channel logout, framed by the authority only", async () => {
    const { ua } = await signedInAgent(stack);
    const { iss, sid } = (await me(stack, ua)).body as { iss: string; sid: string };
    const page = await ua.request(url(`/signout-oidc?iss=${encodeURIComponent(iss)}&sid=${sid}`));
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain(
      `frame-ancestors ${new URL(stack.emu.instance).origin}`,
    );
    expect(page.headers.get("x-frame-options")).toBeNull();
    expect((await me(stack, ua)).status).toBe(401);
  });
});

describe("logs", () => {
  it("is JSON lines that never contain a token, code, state, CSRF token or session id", () => {
    expectCleanLogs(stack, secrets);
    // the query-mode callback, logged without its code
    expect(stack.logs.join("\n")).toContain("/signin-oidc?code=%5Bredacted%5D");
  });
});
