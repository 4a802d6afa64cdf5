/**
 * Two app instances on one Redis behind a front end without ARR affinity: whichever instance a request reaches, the
 * user's session and sign-in attempts are the same, and sign-out anywhere is seen everywhere at once.
 */
import { createHash } from "node:crypto";
import { expect, it } from "vitest";
import { describeWithRedis, useRedisStack } from "../support/redis-stack";
import { UserAgent } from "../../local/user-agent";

const stack = useRedisStack({ instances: 2 });
const url = (path: string): string => `${stack.baseUrl}${path}`;

async function me(ua: UserAgent): Promise<number> {
  return (await ua.request(url("/me"))).status;
}

/** The CSRF token of the sign-out form on the home page. */
async function csrfOf(ua: UserAgent): Promise<string> {
  const home = await ua.request(url("/"));
  return /name="csrf" value="([^"]+)"/.exec(home.body)?.[1] ?? "";
}

/**
 * Starts a sign-in on the current instance and returns Entra's form_post, to be posted wherever the test routes next.
 */
async function startSignIn(ua: UserAgent): Promise<{ action: string; fields: Record<string, string> }> {
  const page = await ua.navigate(url("/signin"), { stopAtFormPost: true });
  const form = /<form method="POST" name="hiddenform" action="([^"]*)">/.exec(page.body);
  const fields = Object.fromEntries(
    [...page.body.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!]),
  );
  if (!form) throw new Error(`expected Entra's form_post, got ${page.status}`);
  return { action: form[1]!.replaceAll("&amp;", "&"), fields };
}

describeWithRedis("two app instances on one Redis", () => {
  it(
    "signs in through one instance (the attempt kept by one, " + "redeemed by the other) and serves /me from both",
    async () => {
      const ua = new UserAgent();
      stack.route(0);
      const form = await startSignIn(ua);
      stack.route(1);
      const landed = await ua.navigate(form.action, { method: "POST", form: form.fields });
      expect(landed.status).toBe(200);
      expect(landed.body).toContain('<span id="user-name">Ada Lovelace</span>');
      for (const instance of [0, 1]) {
        stack.route(instance);
        expect(await me(ua)).toBe(200);
      }
    },
  );

  it(
    "a sign-in attempt is redeemed once across instances: replaying " + "the response to the other instance is refused",
    async () => {
      const ua = new UserAgent();
      stack.route(0);
      const form = await startSignIn(ua);
      expect((await ua.navigate(form.action, { method: "POST", form: form.fields })).status).toBe(200);
      stack.route(1);
      const replay = await ua.request(form.action, { method: "POST", form: form.fields });
      expect(replay.status).toBe(400);
      expect(replay.body).toContain("Sign-in attempt unknown or already used");
    },
  );

  it("signs out through the other instance, and the first sees it at once", async () => {
    const ua = new UserAgent();
    stack.route(0);
    await ua.navigate(url("/signin"));
    expect(await me(ua)).toBe(200);
    const cookie = ua.cookie(stack.baseUrl, "session")!;

    stack.route(1);
    const signedOut = await ua.request(url("/signout"), { method: "POST", form: { csrf: await csrfOf(ua) } });
    expect(signedOut.status).toBe(303);

    // The first instance, with the very same cookie replayed: the session is gone from the shared store.
    stack.route(0);
    const replayed = new UserAgent();
    replayed.setCookie(stack.baseUrl, "session", cookie);
    expect(await me(replayed)).toBe(401);
  });

  it("front-channel logout on one instance ends the session on both", async () => {
    const ua = new UserAgent();
    stack.route(1);
    await ua.navigate(url("/signin"));
    const claims = JSON.parse((await ua.request(url("/me"))).body) as { sid: string; iss: string };
    stack.route(0);
    const logout = await new UserAgent().request(
      url(`/signout-oidc?iss=${encodeURIComponent(claims.iss)}&sid=${encodeURIComponent(claims.sid)}`),
    );
    expect(logout.status).toBe(200);
    stack.route(1);
    expect(await me(ua)).toBe(401);
  });

  it(
    "keeps no secret in a key name: session ids and sign-in bindings " +
      "appear only as their sha256, under the namespace",
    async () => {
      const ua = new UserAgent();
      stack.route(0);
      await ua.navigate(url("/signin"));
      const id = ua.cookie(stack.baseUrl, "session")!;
      await startSignIn(ua); // leaves a pending attempt, with its binding cookie
      const binding = ua.cookie(stack.baseUrl, "signin")!;

      const keys = await stack.redis.admin.keys("*");
      expect(keys.length).toBeGreaterThan(2);
      for (const key of keys) {
        expect(key).toMatch(/^secretless:/);
        expect(key).not.toContain(id);
        expect(key).not.toContain(binding);
      }
      const sha = (value: string): string => createHash("sha256").update(value).digest("base64url");
      expect(keys).toContain(`secretless:{s}:s:${sha(id)}`);
      expect(keys).toContain(`secretless:{att}:b:${sha(binding)}`);
    },
  );

  it("writes each session whole, with a TTL no longer than the idle timeout", async () => {
    const ua = new UserAgent();
    await ua.navigate(url("/signin"));
    const sessionId = ua.cookie(stack.baseUrl, "session")!;
    const key = `secretless:{s}:s:${createHash("sha256").update(sessionId).digest("base64url")}`;
    const raw = (await stack.redis.admin.get(key))!;
    // "<createdAt>|<sha256 of the user>|<session JSON>"
    const [, userTag] = raw.split("|", 2);
    expect(userTag).toMatch(/^[\w-]{43}$/);
    const session = JSON.parse(raw.slice(raw.indexOf("|", raw.indexOf("|") + 1) + 1)) as Record<string, unknown>;
    expect(Object.keys(session).sort()).toEqual([
      "claims",
      "csrfToken",
      "homeAccountId",
      "id",
      "loginHint",
      "sid",
      "tokenCache",
      "trust",
    ]);
    // The user's msal-node cache is inside the record, refresh token included: it goes wherever the session goes.
    expect(JSON.parse(session.tokenCache as string)).toMatchObject({
      RefreshToken: expect.any(Object),
      AccessToken: expect.any(Object),
    });
    const ttl = await stack.redis.admin.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60 * 60_000);
  });

  it(
    "the user's Graph tokens follow the session: signed in on one instance, the other calls Graph from the cached " +
      "tokens and refreshes them without a new sign-in, and the first reads the refreshed ones",
    async () => {
      // Below msal-node's five-minute margin: every silent call must refresh with the session's refresh token.
      stack.emu.accessTokenLifetimeSeconds = 60;
      const ua = new UserAgent();
      stack.route(0);
      expect((await ua.navigate(url("/signin"))).body).toContain('id="graph-name">Ada Lovelace<');
      const { authorizeRequests, tokenRequests, refreshTokenRequests } = stack.emu.stats;

      // Instance 1 never saw this sign-in: only the session record in Redis carries the tokens it refreshes with.
      stack.route(1);
      stack.emu.accessTokenLifetimeSeconds = 3599;
      const graph = await ua.request(url("/me/graph"));
      expect(graph.status).toBe(200);
      expect(JSON.parse(graph.body)).toEqual({
        displayName: "Ada Lovelace",
        mail: "ada@contoso.example",
        jobTitle: "Mathematician",
      });
      expect(stack.emu.stats.refreshTokenRequests).toBe(refreshTokenRequests + 1);
      expect(stack.emu.stats.tokenRequests).toBe(tokenRequests + 1);
      expect(stack.emu.stats.authorizeRequests).toBe(authorizeRequests);

      // Instance 1 saved the refreshed, long-lived access token into the session: instance 0 uses it without any
      // request.
      stack.route(0);
      expect((await ua.request(url("/me/graph"))).status).toBe(200);
      expect(stack.emu.stats.tokenRequests).toBe(tokenRequests + 1);
      expect(stack.emu.stats.authorizeRequests).toBe(authorizeRequests);
    },
  );

  it("stopping one instance mid-session: the other carries on with the same session", async () => {
    const ua = new UserAgent();
    stack.route(0);
    await ua.navigate(url("/signin"));
    await stack.stop(0);
    stack.route(1);
    expect(await me(ua)).toBe(200);
    const home = await ua.request(url("/"));
    expect(home.body).toContain('<span id="user-name">Ada Lovelace</span>');
  });
});
