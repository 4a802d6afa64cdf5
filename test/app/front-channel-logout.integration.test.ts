/**
 * Front-channel logout (OpenID Connect Front-Channel Logout 1.0): GET /signout-oidc ends a session only with the
 * configured issuer's `iss` and that session's `sid`. Anyone can make a browser send this GET cross-site, and the
 * SameSite=Lax session cookie rides along on a top-level navigation: here it always does.
 */
import { describe, expect, it } from "vitest";
import { me, signedInAgent, useStack } from "../support/app-stack";
import { UserAgent } from "../../local/user-agent";

const stack = useStack();

async function signedIn(): Promise<{ ua: UserAgent; iss: string; sid: string }> {
  const { ua } = await signedInAgent(stack);
  const { iss, sid } = (await me(stack, ua)).body as { iss: string; sid: string };
  expect(sid).toMatch(/^[0-9a-f-]{36}$/);
  return { ua, iss, sid };
}

const logout = (ua: UserAgent, query: string) => ua.request(`${stack.baseUrl}/signout-oidc${query}`);
const q = encodeURIComponent;

describe("front-channel logout", () => {
  it.each<[string, (iss: string, sid: string) => string]>([
    ["no iss and no sid", () => ""],
    ["a sid without iss", (_iss, sid) => `?sid=${sid}`],
    ["an iss without sid", (iss) => `?iss=${q(iss)}`],
    ["another issuer with the right sid", (_iss, sid) => `?iss=${q("https://evil.example/tenant/v2.0")}&sid=${sid}`],
    ["an issuer that only starts like ours", (iss, sid) => `?iss=${q(`${iss}x`)}&sid=${sid}`],
    ["the right issuer with another sid", (iss) => `?iss=${q(iss)}&sid=${crypto.randomUUID()}`],
    ["the sid twice", (iss, sid) => `?iss=${q(iss)}&sid=${sid}&sid=${sid}`],
  ])("ends nothing given %s, and still answers 200 with the same page", async (_case, query) => {
    const { ua, iss, sid } = await signedIn();
    const page = await logout(ua, query(iss, sid));
    expect(page.status).toBe(200);
    expect(page.body).toContain("<h1>Signed out</h1>"); // no oracle: the same page whether or not anything ended
    expect(ua.lastSetCookies).toEqual([]);
    expect((await me(stack, ua)).status).toBe(200);
  });

  it("ends the session named by iss and sid, from a request without its cookie (Entra's iframe)", async () => {
    const { ua, iss, sid } = await signedIn();
    const other = await signedIn();
    expect(other.sid).toBe(sid); // the emulator keeps single sign-on: one IdP session, one sid, two app sessions
    const page = await logout(new UserAgent(), `?iss=${q(iss)}&sid=${sid}`);
    expect(page.status).toBe(200);
    expect((await me(stack, ua)).status).toBe(401);
    expect((await me(stack, other.ua)).status).toBe(401);
  });

  it("clears the cookie when the request's own session is the one named", async () => {
    const { ua, iss, sid } = await signedIn();
    await logout(ua, `?iss=${q(iss)}&sid=${sid}`);
    expect(ua.lastSetCookies.some((c) => /^session=;/.test(c))).toBe(true);
    expect((await me(stack, ua)).status).toBe(401);
  });
});
