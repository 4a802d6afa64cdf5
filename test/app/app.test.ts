/**
 * Route behaviour that needs no identity provider, through Fastify's inject (no sockets), on the offline harness.
 */
import { describe, expect, it } from "vitest";
import { CLIENT, TENANT, useOfflineApp } from "../support/offline-app";

const offline = useOfflineApp();
const { assertion } = offline;

describe("pages", () => {
  it("shows a sign-in button to signed-out visitors", async () => {
    const res = await offline.app.inject("/");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain('<a class="button" id="sign-in" href="/signin">Sign in</a>');
  });

  it("sends the security headers: strict CSP without scripts, HSTS, no framing, no referrer", async () => {
    const res = await offline.app.inject("/");
    const csp = String(res.headers["content-security-policy"]);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("form-action 'self' https://login.microsoftonline.com");
    expect(csp).not.toMatch(/script-src|unsafe-inline/);
    expect(res.headers["strict-transport-security"]).toBe("max-age=31536000; includeSubDomains");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
  });

  it("serves the stylesheet", async () => {
    const res = await offline.app.inject("/public/app.css");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/css; charset=utf-8");
  });

  it("answers unknown paths with a 404 page, or JSON when asked", async () => {
    const html = await offline.app.inject("/nope?x=<script>");
    expect(html.statusCode).toBe(404);
    expect(html.body).toContain("Page not found");
    expect(html.body).not.toContain("<script>");
    const json = await offline.app.inject({ url: "/nope", headers: { accept: "application/json" } });
    expect(json.json()).toEqual({ error: "not_found" });
    expect((await offline.app.inject("/public/../config.ts")).statusCode).toBe(404);
  });
});

describe("sign-in start", () => {
  it("redirects to the authority with PKCE, state, nonce and form_post", async () => {
    const res = await offline.app.inject({ url: "/signin" });
    expect(res.statusCode).toBe(302);
    const location = new URL(String(res.headers.location));
    expect(location.origin + location.pathname).toBe(
      `https://login.microsoftonline.com/${TENANT}/oauth2/v2.0/authorize`,
    );
    expect(Object.fromEntries(location.searchParams)).toMatchObject({
      client_id: CLIENT,
      redirect_uri: "http://localhost/signin-oidc", // PUBLIC_BASE_URL, never the Host header
      response_mode: "form_post",
      response_type: "code",
      code_challenge_method: "S256",
    });
    expect(location.searchParams.get("code_challenge")).toMatch(/^[\w-]{43}$/);
    expect(assertion.calls).toBe(0); // the assertion is only needed to redeem a code
  });

  it("uses a fresh state, nonce and PKCE pair for every attempt", async () => {
    const params = async (): Promise<URLSearchParams> =>
      new URL(String((await offline.app.inject("/signin")).headers.location)).searchParams;
    const [a, b] = [await params(), await params()];
    for (const name of ["state", "nonce", "code_challenge"]) expect(a.get(name)).not.toBe(b.get(name));
  });

  it("refuses a malformed Host header", async () => {
    const res = await offline.app.inject({ url: "/signin", headers: { host: "evil.example/<x>" } });
    expect(res.statusCode).toBe(400);
  });
});

describe("bad requests", () => {
  it("answers a callback POST with the wrong content type with a page, not a stack trace", async () => {
    const res = await offline.app.inject({
      method: "POST",
      url: "/signin-oidc",
      headers: { "content-type": "application/xml" },
      payload: "<code>x</code>",
    });
    expect(res.statusCode).toBe(415);
    expect(res.body).toContain("Bad request");
    expect(res.body).not.toMatch(/at \w+ \(|FST_/);
  });

  it("refuses an oversized form body", async () => {
    const res = await offline.app.inject({
      method: "POST",
      url: "/signin-oidc",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `state=${"x".repeat(70 * 1024)}`,
    });
    expect(res.statusCode).toBe(413);
  });

  it("ignores a malformed session cookie", async () => {
    const res = await offline.app.inject({ url: "/me", headers: { cookie: "session=%%%; other=1" } });
    expect(res.statusCode).toBe(401);
  });

  it("keeps serving after all of the above", async () => {
    expect((await offline.app.inject("/healthz")).json()).toEqual({ status: "ok" });
  });
});

describe("health", () => {
  it("reports liveness without touching the managed identity", async () => {
    const before = assertion.calls;
    expect((await offline.app.inject("/healthz")).statusCode).toBe(200);
    expect(assertion.calls).toBe(before);
  });

  it("reports ready when the trust chain works, and 503 with the contract's reason code when not", async () => {
    const ready = await offline.app.inject("/readyz");
    expect(ready.statusCode).toBe(200);
    expect(ready.headers["cache-control"]).toBe("no-store");
    expect(ready.body).not.toContain("stub-assertion");

    assertion.failing = true;
    const notReady = await offline.app.inject("/readyz");
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json()).toEqual({ status: "not_ready", reason: "mi_unavailable" });
    assertion.failing = false;
    expect((await offline.app.inject("/readyz")).statusCode).toBe(200);
  });
});
