/**
 * Every absolute URL the app builds comes from configuration (WEBSITE_HOSTNAME, AllowedHosts, PUBLIC_BASE_URL), never
 * from a request header: raw requests with forged Host, X-Forwarded-Host, X-Forwarded-Proto and X-Forwarded-For
 * against the app listening on loopback, as App Service runs it and as a local run does.
 */
import { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../app/app";
import { ConfigError, type Env } from "../../app/app-config";
import { offlineConfig } from "../support/offline-app";
import { rawRequest, setCookies, type RawResponse } from "../support/raw-http";

const APP_SERVICE_HOST = "app-x1.azurewebsites.net";
const CUSTOM_DOMAIN = "www.contoso.example";

/** The app on 127.0.0.1:0 with these settings (over the offline ones), its JSON log lines captured. */
function listening(env: Env): { readonly url: string; readonly logs: string[] } {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  let app: FastifyInstance | undefined;
  beforeAll(async () => {
    const config = offlineConfig({ PUBLIC_BASE_URL: undefined, ...env });
    app = createApp(config, {
      logStream,
      assertion: { getAssertion: async () => "stub", lastAssertionInfo: () => null },
    });
    await app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await app?.close();
  });
  return {
    get url() {
      return `http://127.0.0.1:${(app!.server.address() as AddressInfo).port}`;
    },
    logs,
  };
}

const redirectUri = (res: RawResponse): string | null =>
  new URL(String(res.headers.location)).searchParams.get("redirect_uri");
const title = (res: RawResponse): string | undefined => /<h1 id="problem-title">([^<]*)<\/h1>/.exec(res.body)?.[1];

describe("on App Service (WEBSITE_HOSTNAME set by the platform, a custom domain in AllowedHosts)", () => {
  const app = listening({ WEBSITE_HOSTNAME: APP_SERVICE_HOST, AllowedHosts: CUSTOM_DOMAIN });

  it.each<[string, Record<string, string>]>([
    ["a foreign Host", { host: "evil.example" }],
    ["a foreign X-Forwarded-Host", { host: APP_SERVICE_HOST, "x-forwarded-host": "evil.example" }],
    [
      "a foreign X-Forwarded-Host after a listed one",
      { host: APP_SERVICE_HOST, "x-forwarded-host": `${APP_SERVICE_HOST}, evil.example` },
    ],
    ["the right host on another port", { host: `${APP_SERVICE_HOST}:8443` }],
    ["a suffix of the right host", { host: `evil.${APP_SERVICE_HOST}` }],
    ["a malformed Host", { host: "evil.example/<x>" }],
  ])("refuses /signin with %s: 400 page, no redirect", async (_case, headers) => {
    const res = await rawRequest(app.url, "/signin", { headers });
    expect(res.status).toBe(400);
    expect(title(res)).toBe("Unknown host");
    expect(res.headers.location).toBeUndefined();
    expect(res.body).not.toContain("evil");
  });

  it.each<[string, Record<string, string>, string]>([
    [
      "X-Forwarded-Proto: javascript",
      { host: APP_SERVICE_HOST, "x-forwarded-proto": "javascript" },
      `https://${APP_SERVICE_HOST}/signin-oidc`,
    ],
    [
      "X-Forwarded-Proto: http",
      { host: APP_SERVICE_HOST, "x-forwarded-proto": "http" },
      `https://${APP_SERVICE_HOST}/signin-oidc`,
    ],
    ["no X-Forwarded-Proto at all", { host: APP_SERVICE_HOST }, `https://${APP_SERVICE_HOST}/signin-oidc`],
    [
      "the host in another letter case",
      { host: APP_SERVICE_HOST.toUpperCase() },
      `https://${APP_SERVICE_HOST}/signin-oidc`,
    ],
    [
      "the custom domain from AllowedHosts",
      { host: CUSTOM_DOMAIN, "x-forwarded-proto": "http" },
      `https://${CUSTOM_DOMAIN}/signin-oidc`,
    ],
  ])("builds an https redirect URI from configuration with %s", async (_case, headers, expected) => {
    const res = await rawRequest(app.url, "/signin", { headers });
    expect(res.status).toBe(302);
    expect(redirectUri(res)).toBe(expected);
  });

  it("sets __Host- Secure cookies whatever X-Forwarded-Proto says", async () => {
    const res = await rawRequest(app.url, "/signin", {
      headers: { host: APP_SERVICE_HOST, "x-forwarded-proto": "http" },
    });
    const [cookie] = setCookies(res);
    expect(cookie?.name).toBe("__Host-signin");
    expect(cookie?.attributes.has("secure")).toBe(true);
  });

  it("logs the address the front end saw, not a client-chosen X-Forwarded-For entry", async () => {
    await rawRequest(app.url, "/?probe=xff", {
      headers: { host: APP_SERVICE_HOST, "x-forwarded-for": "6.6.6.6, 203.0.113.9:50123" },
    });
    const line = app.logs
      .map((l) => JSON.parse(l) as { req?: { url: string; remoteAddress: string } })
      .find((l) => l.req?.url === "/?probe=xff");
    expect(line?.req?.remoteAddress).toBe("203.0.113.9:50123");
    expect(app.logs.join("\n")).not.toContain("6.6.6.6");
  });

  it("answers the health check whatever host the platform's probe sends", async () => {
    expect((await rawRequest(app.url, "/healthz", { headers: { host: "10.0.0.5:8080" } })).status).toBe(200);
  });
});

describe("on Azure Container Apps (CONTAINER_APP_NAME, PUBLIC_BASE_URL)", () => {
  const ACA_ORIGIN = "https://signin.kindwave-1a2b3c4d.westeurope.azurecontainerapps.io";
  const app = listening({ PUBLIC_BASE_URL: ACA_ORIGIN, CONTAINER_APP_NAME: "signin" });

  it("takes the client's address from the ingress's right-most X-Forwarded-For entry, not a client's", async () => {
    await rawRequest(app.url, "/?probe=aca-xff", {
      headers: { host: new URL(ACA_ORIGIN).host, "x-forwarded-for": "6.6.6.6, 198.51.100.7" },
    });
    const line = app.logs
      .map((l) => JSON.parse(l) as { req?: { url: string; remoteAddress: string } })
      .find((l) => l.req?.url === "/?probe=aca-xff");
    expect(line?.req?.remoteAddress).toBe("198.51.100.7");
    expect(app.logs.join("\n")).not.toContain("6.6.6.6");
  });

  it("builds the redirect URI from PUBLIC_BASE_URL, whatever X-Forwarded-Proto says", async () => {
    const res = await rawRequest(app.url, "/signin", {
      headers: { host: new URL(ACA_ORIGIN).host, "x-forwarded-proto": "http" },
    });
    expect(res.status).toBe(302);
    expect(redirectUri(res)).toBe(`${ACA_ORIGIN}/signin-oidc`);
  });

  it("refuses a foreign X-Forwarded-Host with the 400 page, as on App Service", async () => {
    const res = await rawRequest(app.url, "/signin", {
      headers: { host: new URL(ACA_ORIGIN).host, "x-forwarded-host": "evil.example" },
    });
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).not.toContain("evil");
  });
});

describe("outside App Service (PUBLIC_BASE_URL)", () => {
  const app = listening({ PUBLIC_BASE_URL: "http://localhost:3000" });

  it("builds the redirect URI from PUBLIC_BASE_URL and ignores X-Forwarded-* from a direct client", async () => {
    const res = await rawRequest(app.url, "/signin", {
      headers: {
        host: "localhost:3000",
        "x-forwarded-host": "evil.example",
        "x-forwarded-proto": "https",
        "x-forwarded-for": "6.6.6.6",
      },
    });
    expect(res.status).toBe(302);
    expect(redirectUri(res)).toBe("http://localhost:3000/signin-oidc");
    expect(setCookies(res)[0]?.name).toBe("signin");
    expect(app.logs.join("\n")).not.toContain("6.6.6.6");
  });

  it("refuses any other host with a page that names the URL to open", async () => {
    const evil = await rawRequest(app.url, "/signin", { headers: { host: "evil.example" } });
    expect(evil.status).toBe(400);
    expect(evil.body).toContain('<a id="app-url" href="http://localhost:3000/">http://localhost:3000/</a>');
    expect(evil.body).not.toContain('href="/">Home</a>'); // a Home link would loop back to the refused host
    expect((await rawRequest(app.url, "/", { headers: { host: "127.0.0.1:4000" } })).status).toBe(400);
    expect(
      (await rawRequest(app.url, "/signout", { method: "POST", headers: { host: "127.0.0.1:3000" } })).status,
    ).toBe(400);
  });

  it("serves the stylesheet for any host, so the Unknown host page is styled", async () => {
    const css = await rawRequest(app.url, "/public/app.css", { headers: { host: "evil.example" } });
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
  });

  it(
    "sends another loopback name of a local run's own port to " + "the configured origin, path and query kept",
    async () => {
      for (const host of ["127.0.0.1:3000", "[::1]:3000", "127.0.0.2:3000"]) {
        const res = await rawRequest(app.url, "/signin?returnUrl=/me", { headers: { host } });
        expect([res.status, res.headers.location]).toEqual([307, "http://localhost:3000/signin?returnUrl=/me"]);
      }
    },
  );
});

describe("public origin settings", () => {
  const base = { PUBLIC_BASE_URL: undefined };

  it.each<[string, Env, string[]]>([
    ["App Service's host name, https implied", { WEBSITE_HOSTNAME: APP_SERVICE_HOST }, [`https://${APP_SERVICE_HOST}`]],
    [
      "custom domains from AllowedHosts, ';'-separated, any key case",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, allowedhosts: ` ${CUSTOM_DOMAIN};; api.contoso.example ` },
      [`https://${APP_SERVICE_HOST}`, `https://${CUSTOM_DOMAIN}`, "https://api.contoso.example"],
    ],
    ["a local run's base URL", { PUBLIC_BASE_URL: "http://localhost:3000/" }, ["http://localhost:3000"]],
    [
      "loopback aliases of a local run",
      { PUBLIC_BASE_URL: "http://localhost:3000", AllowedHosts: "127.0.0.1;[::1]" },
      ["http://localhost:3000", "http://127.0.0.1:3000", "http://[::1]:3000"],
    ],
    ["an https base URL anywhere", { PUBLIC_BASE_URL: "https://app.contoso.example" }, ["https://app.contoso.example"]],
  ])("accepts %s", (_case, env, origins) => {
    expect(offlineConfig({ ...base, ...env }).publicOrigins).toEqual(origins);
  });

  it.each<[string, Env, RegExp]>([
    [
      "no public origin at all",
      {},
      new RegExp(
        String.raw`PUBLIC_BASE_URL is missing: set it to the URL browsers open, e\.g\. http:\/\/localhost:3000 \(on ` +
          "App Service the platform sets WEBSITE_HOSTNAME",
      ),
    ],
    [
      "http to a host that is not loopback",
      { PUBLIC_BASE_URL: "http://app.contoso.example" },
      /PUBLIC_BASE_URL "http:\/\/app\.contoso\.example" uses http on a host that is not loopback/,
    ],
    [
      "a base URL with a path",
      { PUBLIC_BASE_URL: "http://localhost:3000/app" },
      /PUBLIC_BASE_URL .* must be just an origin/,
    ],
    [
      "a base URL that is not a URL",
      { PUBLIC_BASE_URL: "localhost:3000" },
      /PUBLIC_BASE_URL .* must be an http or https URL|PUBLIC_BASE_URL .* is not a URL/,
    ],
    [
      "PUBLIC_BASE_URL on App Service",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, PUBLIC_BASE_URL: "https://x.example" },
      /PUBLIC_BASE_URL is set on App Service .*remove it.*AllowedHosts/,
    ],
    [
      "AllowedHosts '*' (ASP.NET's template default)",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, AllowedHosts: "*" },
      /AllowedHosts "\*" is a wildcard; list each host name/,
    ],
    [
      "a wildcard subdomain",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, AllowedHosts: "*.contoso.example" },
      /AllowedHosts .* is a wildcard/,
    ],
    [
      "a URL in AllowedHosts",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, AllowedHosts: "https://www.contoso.example" },
      /AllowedHosts "https:\/\/www\.contoso\.example" is not a host name; use just the name/,
    ],
    [
      "a port in AllowedHosts",
      { WEBSITE_HOSTNAME: APP_SERVICE_HOST, AllowedHosts: "www.contoso.example:444" },
      /is not a host name/,
    ],
    [
      "a non-loopback AllowedHosts entry beside an http base URL",
      { PUBLIC_BASE_URL: "http://localhost:3000", AllowedHosts: CUSTOM_DOMAIN },
      /AllowedHosts entry "www\.contoso\.example" would be served over http/,
    ],
    [
      "a malformed WEBSITE_HOSTNAME",
      { WEBSITE_HOSTNAME: "https://x.azurewebsites.net" },
      /WEBSITE_HOSTNAME .* is not a host name/,
    ],
  ])("refuses %s, naming the setting and the fix", (_case, env, message) => {
    let error: unknown;
    try {
      offlineConfig({ ...base, ...env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.join("\n")).toMatch(message);
  });
});
