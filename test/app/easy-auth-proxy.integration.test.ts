/**
 * Easy Auth mode end to end on loopback, without a browser: the app (in this process, Easy Auth mode) behind the local
 * Easy Auth stand-in, which signs in with the Entra emulator presenting the managed identity's token as the client
 * assertion, then injects the platform's headers. Redirects are followed by hand, as a browser would.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EasyAuthHeader } from "../../contract/easy-auth";
import { startEasyAuthProxy, type EasyAuthProxy } from "../../local/easy-auth-proxy";
import { inProcessApp, startLocalStack, type InProcessApp, type LocalStack } from "../../local/stack";

let stack: LocalStack<InProcessApp>;
let proxy: EasyAuthProxy;

beforeAll(async () => {
  stack = await startLocalStack(
    inProcessApp({ logger: false }, { SignIn__AuthMode: "easyAuth", EASY_AUTH_LOCAL_STAND_IN: "true" }),
  );
  proxy = await startEasyAuthProxy({ emu: stack.emu, upstream: stack.app.url });
  // As the stack registers it for a deployed app in Easy Auth mode: Easy Auth's callback is the only redirect URI.
  stack.emu.setRedirectUris([proxy.redirectUri]);
}, 30_000);
afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

/** Follows redirects like a browser, keeping the stand-in origin's cookies; returns the last response and the hops. */
async function browse(path: string, init: { cookie?: string; headers?: Record<string, string> } = {}) {
  let url = new URL(path, proxy.url).href;
  const jar = new Map<string, string>(
    (init.cookie ?? "")
      .split("; ")
      .filter(Boolean)
      .map((c) => c.split("=", 2) as [string, string]),
  );
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const hops: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await fetch(url, {
      redirect: "manual",
      headers: { ...init.headers, ...(jar.size && url.startsWith(proxy.url) ? { cookie: cookie() } : {}) },
    });
    if (url.startsWith(proxy.url)) {
      for (const set of res.headers.getSetCookie()) {
        const [pair] = set.split(";");
        const [name, value] = pair!.split("=", 2) as [string, string];
        if (/Max-Age=0/.test(set) || value === "") jar.delete(name);
        else jar.set(name, value);
      }
    }
    const location = res.headers.get("location");
    if (res.status < 300 || res.status >= 400 || !location)
      return { res, body: await res.text(), cookie: cookie(), jar, hops };
    url = new URL(location, url).href;
    hops.push(url);
  }
  throw new Error(`too many redirects: ${hops.join(" -> ")}`);
}

describe("the app behind the Easy Auth stand-in", () => {
  it(
    "sends an unauthenticated visitor through Easy Auth's sign-in and back " +
      "to the signed-in page with their Graph profile",
    async () => {
      const { res, body, hops, cookie } = await browse("/");
      expect(hops[0]).toBe(`${proxy.url}/.auth/login/aad?post_login_redirect_uri=%2F`);
      expect(hops[1]).toMatch(new RegExp(`^${stack.emu.authority}/oauth2/v2\\.0/authorize\\?`));
      expect(new URL(hops[1]!).searchParams.get("redirect_uri")).toBe(`${proxy.url}/.auth/login/aad/callback`);
      expect(hops[2]).toMatch(new RegExp(`^${proxy.url}/\\.auth/login/aad/callback\\?code=`));
      expect(res.status).toBe(200);
      expect(cookie).toMatch(/AppServiceAuthSession=[\w-]{43}/);
      const user = stack.emu.registration.user;
      expect(body).toContain(`<dd id="user-username">${user.preferredUsername}</dd>`);
      expect(body).toContain('id="graph-name"');
      // The code was redeemed with the managed identity's token as client assertion (the emulator's FIC check).
      expect(stack.emu.stats.miRequests).toBeGreaterThan(0);
    },
  );

  it(
    "answers /me with the user's claims and /me/graph with Graph's " + "profile, read with the token store's token",
    async () => {
      const { cookie } = await browse("/");
      const me = await browse("/me", { cookie });
      expect(JSON.parse(me.body)).toMatchObject({ oid: stack.emu.registration.user.oid, tid: stack.emu.tenantId });
      const graph = await browse("/me/graph", { cookie });
      expect(graph.res.status).toBe(200);
      expect(JSON.parse(graph.body)).toHaveProperty("displayName");
    },
  );

  it(
    "replaces a client's forged identity headers with the signed-in " +
      "user's, and never forwards them without a session",
    async () => {
      const forged = Buffer.from(
        JSON.stringify({
          auth_typ: "aad",
          claims: [
            { typ: "oid", val: "attacker" },
            { typ: "name", val: "Mallory" },
          ],
        }),
      ).toString("base64");
      const spoof = {
        [EasyAuthHeader.Principal]: forged,
        [EasyAuthHeader.PrincipalId]: "attacker",
        [EasyAuthHeader.PrincipalIdp]: "aad",
      };
      const anonymous = await fetch(`${proxy.url}/me`, { redirect: "manual", headers: spoof });
      expect(anonymous.status).toBe(302);
      expect(anonymous.headers.get("location")).toBe("/.auth/login/aad?post_login_redirect_uri=%2Fme");
      const { cookie } = await browse("/");
      const me = await browse("/me", { cookie, headers: spoof });
      expect(JSON.parse(me.body).oid).toBe(stack.emu.registration.user.oid);
      expect(me.body).not.toContain("Mallory");
    },
  );

  it("leaves the health paths open without a session", async () => {
    expect((await fetch(`${proxy.url}/healthz`, { redirect: "manual" })).status).toBe(200);
    expect((await fetch(`${proxy.url}/readyz`, { redirect: "manual" })).status).toBe(200);
  });

  it("signs out through the app's form and Easy Auth's logout, ending the stand-in's session", async () => {
    const { cookie, body, jar } = await browse("/");
    const csrf = /name="csrf" value="([^"]+)"/.exec(body)?.[1];
    expect(csrf).toBeDefined();
    expect(jar.get("easy_auth_csrf")).toBe(csrf);
    const out = await fetch(`${proxy.url}/signout`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: `csrf=${encodeURIComponent(csrf!)}`,
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("location")).toBe("/.auth/logout?post_logout_redirect_uri=%2F");
    const logout = await fetch(`${proxy.url}/.auth/logout?post_logout_redirect_uri=%2F`, {
      redirect: "manual",
      headers: { cookie },
    });
    expect(logout.status).toBe(302);
    expect(logout.headers.get("location")).toBe("/");
    expect((await fetch(`${proxy.url}/me`, { redirect: "manual", headers: { cookie } })).status).toBe(302);
  });
});
