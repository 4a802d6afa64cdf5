/**
 * What /signin and the other auth routes accept, through Fastify's inject (no sockets): only top-level navigations
 * start a sign-in when the browser sends Fetch Metadata; the rate limit keys IPv6 clients by their /64 on an injected
 * clock; and each route's JSON schema turns malformed input into the route's own page.
 */
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../app/app";
import type { AssertionProvider } from "../../app/auth/managed-identity";
import { rateLimitKey } from "../../app/sign-in-rate-limit";
import { offlineConfig } from "../support/offline-app";

const WINDOW_MS = 60_000;
let now = 1_700_000_000_000;
let app: FastifyInstance;

beforeAll(async () => {
  const assertion: AssertionProvider = { getAssertion: async () => "stub-assertion", lastAssertionInfo: () => null };
  app = createApp(offlineConfig(), {
    assertion,
    logger: false,
    signInRateLimit: { max: 2, timeWindowMs: WINDOW_MS, now: () => now },
  });
  await app.ready();
});
afterAll(async () => {
  await app.close();
});

/** Fresh addresses for each test, so the tests do not share rate-limit budgets. */
let next = 1;
const freshV4 = (): string => `198.51.100.${next++}`;

const title = (body: string): string => /<h1 id="problem-title">([^<]*)<\/h1>/.exec(body)?.[1] ?? "";

function signIn(headers: Record<string, string> = {}, remoteAddress = freshV4(), query = "") {
  return app.inject({ method: "GET", url: `/signin${query}`, headers, remoteAddress });
}

const NAVIGATION = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "none" };

describe("starting a sign-in", () => {
  it("starts one for a top-level navigation the browser labels as such", async () => {
    const res = await signIn(NAVIGATION);
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toMatch(/^https:\/\/login\.microsoftonline\.com\//);
    expect(String(res.headers["set-cookie"])).toMatch(/^signin=/);
  });

  it("starts one for a client that sends no Sec-Fetch-Dest (older browsers, curl, Node's fetch)", async () => {
    expect((await signIn()).statusCode).toBe(302);
    expect((await signIn({ "sec-fetch-mode": "cors" })).statusCode).toBe(302);
  });

  it.each([
    [
      "an <img> on another site",
      { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "image", "sec-fetch-site": "cross-site" },
    ],
    ["a script's fetch", { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty", "sec-fetch-site": "cross-site" }],
    ["a frame", { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe", "sec-fetch-site": "cross-site" }],
    ["a document request that is not a navigation", { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "document" }],
  ])("refuses %s with a 403 page, no cookie and no attempt", async (_what, headers) => {
    const res = await signIn(headers);
    expect(res.statusCode).toBe(403);
    expect(title(res.body)).toBe("Sign-in not started");
    expect(res.body).toContain('<a class="button" id="page-action" href="/signin">Sign in</a>');
    expect(res.headers["set-cookie"]).toBeUndefined();
    expect(res.headers.location).toBeUndefined();
  });

  it("spends no rate-limit budget on refused requests", async () => {
    const address = freshV4();
    for (let i = 0; i < 5; i++) expect((await signIn({ "sec-fetch-dest": "image" }, address)).statusCode).toBe(403);
    expect((await signIn(NAVIGATION, address)).statusCode).toBe(302);
  });
});

describe("the /signin rate limit", () => {
  it("gives one IPv6 /64 one budget, however many addresses it uses", async () => {
    expect((await signIn({}, "2001:db8:aa:1::1")).statusCode).toBe(302);
    expect((await signIn({}, "2001:db8:aa:1:ffff:ffff:ffff:fffe")).statusCode).toBe(302);
    const third = await signIn({}, "2001:db8:aa:1:1234::7");
    expect(third.statusCode).toBe(429);
    expect(title(third.body)).toBe("Too many sign-in attempts");
    expect((await signIn({}, "2001:db8:aa:2::1")).statusCode).toBe(302); // the next /64 has its own
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", async () => {
    expect((await signIn({}, "203.0.113.77")).statusCode).toBe(302);
    expect((await signIn({}, "::ffff:203.0.113.77")).statusCode).toBe(302);
    expect((await signIn({}, "::ffff:cb00:714d")).statusCode).toBe(429);
  });

  it("opens a new window when the injected clock passes the old one's end", async () => {
    const address = freshV4();
    await signIn({}, address);
    await signIn({}, address);
    const limited = await signIn({}, address);
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers["retry-after"])).toBe(WINDOW_MS / 1000);
    now += WINDOW_MS - 1;
    expect((await signIn({}, address)).statusCode).toBe(429);
    now += 1;
    expect((await signIn({}, address)).statusCode).toBe(302);
  });
});

describe("rateLimitKey", () => {
  it.each([
    ["192.0.2.1", "192.0.2.1"],
    ["192.0.2.1:51234", "192.0.2.1"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["[2001:DB8:0:0:1::5]:443", "2001:db8:0:0::/64"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::ffff:192.0.2.1", "192.0.2.1"],
    ["[::ffff:192.0.2.1]:8080", "192.0.2.1"],
    ["2001:db8:1:2::192.0.2.1", "2001:db8:1:2::/64"],
    ["not-an-address", "not-an-address"],
  ])("keys %s as %s", (ip, key) => {
    expect(rateLimitKey(ip)).toBe(key);
  });
});

describe("input schemas", () => {
  it("answers a returnUrl given twice with the Return URL refused page", async () => {
    const res = await signIn({}, freshV4(), "?returnUrl=/a&returnUrl=/b");
    expect(res.statusCode).toBe(400);
    expect(title(res.body)).toBe("Return URL refused");
  });

  it("answers a callback whose state is given twice with its own 400 page", async () => {
    const res = await app.inject({ method: "GET", url: "/signin-oidc?state=a&state=b&code=c" });
    expect(res.statusCode).toBe(400);
    expect(title(res.body)).toBe("Sign-in response malformed");
    const posted = await app.inject({
      method: "POST",
      url: "/signin-oidc",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "state=a&code=c&code=d",
    });
    expect(posted.statusCode).toBe(400);
    expect(title(posted.body)).toBe("Sign-in response malformed");
  });

  it("keeps today's pages for a callback without state and for a state from no known browser", async () => {
    const without = await app.inject({ method: "GET", url: "/signin-oidc?code=c" });
    expect([without.statusCode, title(without.body)]).toEqual([400, "Sign-in response without state"]);
    const unknown = await app.inject({ method: "GET", url: "/signin-oidc?state=nope&code=c" });
    expect([unknown.statusCode, title(unknown.body)]).toEqual([400, "Sign-in started in another browser"]); // no cookie
  });

  it("answers access_denied for an unknown state with its own page, not 'unknown or already used'", async () => {
    const res = await app.inject({
      method: "GET",
      url: "/signin-oidc?state=gone&error=access_denied&error_description=x",
    });
    expect(res.statusCode).toBe(403);
    expect(title(res.body)).toBe("Sign-in was not completed");
    expect(res.body).toContain('href="/signin">Sign in again</a>');
  });

  it("gives front-channel logout with a repeated field the same harmless 200 page", async () => {
    const res = await app.inject({ method: "GET", url: "/signout-oidc?iss=a&iss=b&sid=s" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("<h1>Signed out</h1>");
    expect(res.body).toContain('href="/">Home</a>');
  });

  it("refuses a sign-out without a session by going home, whatever its body", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/signout",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: "csrf=a&csrf=b",
    });
    expect([res.statusCode, res.headers.location]).toEqual([303, "/"]);
  });

  it("answers an asset name outside its schema with the not-found page", async () => {
    const res = await app.inject({ method: "GET", url: "/public/..%2Fapp.ts" });
    expect(res.statusCode).toBe(404);
    expect(title(res.body)).toBe("Page not found");
    expect((await app.inject({ method: "GET", url: "/public/app.css" })).statusCode).toBe(200);
  });
});
