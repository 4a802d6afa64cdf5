import { randomUUID } from "node:crypto";
import { rootCertificates, setDefaultCACertificates } from "node:tls";
import { ClientAssertionCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  GITHUB_TOKEN_EXCHANGE_AUDIENCE,
  fetchGitHubIdToken,
  gitHubActionsCredential,
  gitHubActionsCredentialFromEnv,
} from "../../deploy/github-actions-credential";
import { type HttpsFake, type Received, json, scratch, startHttps } from "../support/deploy-harness";

/**
 * The deploy step's CI credential against two fakes on one loopback HTTPS server: GitHub's Actions token endpoint,
 * issuing short-lived OIDC tokens (5 minutes, as GitHub's do), and an Entra token endpoint that checks each client
 * assertion the way Entra does for a GitHub FIC (audience, expiry, one use) on a virtual clock that moves 4 minutes
 * with every token request, as if each came later in a long run. No real time passes.
 */

const TENANT = "00000000-0000-4000-8000-00000000feed";
const CLIENT_ID = "4f1c2d3e-5a6b-4c7d-8e9f-0a1b2c3d4e5f";
const REQUEST_TOKEN = `actions-request-${randomUUID()}`;
const GITHUB_LIFETIME_S = 300;
const STEP_S = 4 * 60;

let work: ReturnType<typeof scratch>;
let server: HttpsFake;
/** Virtual seconds since the start of the run. */
let clock = 0;
let issued: { jti: string; exp: number; token: string }[] = [];
const used = new Set<string>();

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString("base64url");
const claimsOf = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[1] ?? "", "base64url").toString()) as Record<string, unknown>;

function handle(req: Received, res: import("node:http").ServerResponse, host: string): void {
  const url = new URL(req.url, `https://${host}`);
  if (req.method === "GET" && url.pathname === "/_apis/token") {
    if (req.headers.authorization !== `Bearer ${REQUEST_TOKEN}`) {
      return json(res, 401, { message: "bad request token" });
    }
    const jti = randomUUID();
    const claims = {
      iss: "https://token.actions.githubusercontent.com",
      aud: url.searchParams.get("audience"),
      sub: "repo:contoso/signin:environment:production",
      iat: clock,
      nbf: clock,
      exp: clock + GITHUB_LIFETIME_S,
      jti,
    };
    const token = `${b64({ alg: "RS256", typ: "JWT" })}.${b64(claims)}.sig`;
    issued.push({ jti, exp: claims.exp, token });
    return json(res, 200, { count: 1, value: token });
  }
  if (req.method === "GET" && url.pathname === `/${TENANT}/v2.0/.well-known/openid-configuration`) {
    const base = `https://${host}/${TENANT}`;
    return json(res, 200, {
      issuer: `${base}/v2.0`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ["code"],
    });
  }
  if (req.method === "POST" && url.pathname === `/${TENANT}/oauth2/v2.0/token`) {
    clock += STEP_S;
    const form = new URLSearchParams(req.body.toString());
    const assertion = form.get("client_assertion") ?? "";
    const claims = claimsOf(assertion);
    const refuse = (code: string, text: string) =>
      json(res, 400, { error: "invalid_client", error_description: `${code}: ${text}` });
    if (form.get("client_id") !== CLIENT_ID) return refuse("AADSTS700016", "unknown client");
    if (form.get("client_assertion_type") !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") {
      return refuse("AADSTS7000215", "bad assertion type");
    }
    if (claims.aud !== GITHUB_TOKEN_EXCHANGE_AUDIENCE) {
      return refuse("AADSTS700212", "no matching federated identity record for audience");
    }
    if (typeof claims.exp !== "number" || claims.exp <= clock) {
      return refuse("AADSTS700024", "Client assertion is not within its valid time range.");
    }
    if (used.has(String(claims.jti))) return refuse("AADSTS700023", "assertion replayed");
    used.add(String(claims.jti));
    // Shorter than MSAL's 5-minute refresh margin, so every getToken reaches this endpoint (the case under test).
    return json(res, 200, {
      token_type: "Bearer",
      expires_in: 60,
      ext_expires_in: 60,
      access_token: `access-${randomUUID()}`,
    });
  }
  json(res, 404, { error: "not_found" });
}

beforeAll(async () => {
  work = scratch();
  server = await startHttps(work.dir, handle);
  const { readFileSync } = await import("node:fs");
  setDefaultCACertificates([...rootCertificates, readFileSync(server.caPath, "utf8")]);
});

afterAll(async () => {
  setDefaultCACertificates([...rootCertificates]);
  await server.close();
  work.dispose();
});

beforeEach(() => {
  clock = 0;
  issued = [];
  used.clear();
  server.received.length = 0;
});

const requestUrl = (): string => `https://${server.host}/_apis/token?api-version=2.0`;
const authorityHost = (): string => `https://${server.host}`;
/** Eight token requests, 4 virtual minutes apart: the last one at minute 32 of the run. */
const scopes = Array.from({ length: 8 }, (_, i) =>
  i % 2 === 0 ? "https://appservice.azure.com/.default" : "https://management.azure.com/.default",
);

describe("the GitHub Actions deploy credential", () => {
  it("signs in at minute 32 with a fresh GitHub token for every Entra request, none past its expiry", async () => {
    const credential = gitHubActionsCredential({
      requestUrl: requestUrl(),
      requestToken: REQUEST_TOKEN,
      tenantId: TENANT,
      clientId: CLIENT_ID,
      authorityHost: authorityHost(),
    });
    for (const scope of scopes) {
      const token = await credential.getToken(scope);
      expect(token?.token).toMatch(/^access-/);
    }
    expect(clock).toBe(32 * 60);
    const entra = server.received.filter((r) => r.method === "POST");
    const github = server.received.filter((r) => r.url.startsWith("/_apis/token"));
    expect(entra).toHaveLength(scopes.length);
    // @azure/identity may call the callback more than once per request (MSAL builds its client with it, then sends);
    // what matters is that every Entra request carried a token fetched for it: a different, unexpired one each time.
    expect(github.length).toBeGreaterThanOrEqual(scopes.length);
    const assertions = entra.map((r) => new URLSearchParams(r.body.toString()).get("client_assertion") ?? "");
    expect(new Set(assertions).size).toBe(scopes.length);
    expect(assertions.every((a) => issued.some((i) => i.token === a))).toBe(true);
    // The GitHub token is asked for with Entra's token-exchange audience; the request token never goes to Entra.
    const audiences = github.map((r) => new URL(r.url, "https://x").searchParams.get("audience"));
    expect(audiences.every((a) => a === GITHUB_TOKEN_EXCHANGE_AUDIENCE)).toBe(true);
    const carries = (r: Received): boolean =>
      `${r.body.toString()}${JSON.stringify(r.headers)}`.includes(REQUEST_TOKEN);
    const leaked = entra.filter(carries);
    expect(leaked).toEqual([]);
  });

  it("refuses, as Entra does, one GitHub token held past its expiry (what azure/login gives az)", async () => {
    const once = await fetchGitHubIdToken(requestUrl(), REQUEST_TOKEN, GITHUB_TOKEN_EXCHANGE_AUDIENCE);
    const stale = new ClientAssertionCredential(TENANT, CLIENT_ID, async () => once, {
      authorityHost: authorityHost(),
      disableInstanceDiscovery: true,
    });
    await expect(stale.getToken(scopes[0]!)).resolves.toBeTruthy(); // minute 4: within the token's 5 minutes
    await expect(stale.getToken(scopes[1]!)).rejects.toThrow(/AADSTS700024/); // minute 8
  });

  it("reads the job's request URL and token and names the missing identity variables", () => {
    expect(gitHubActionsCredentialFromEnv({})).toBeUndefined();
    expect(gitHubActionsCredentialFromEnv({ ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl() })).toBeUndefined();
    const noIdentity = { ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl(), ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t" };
    expect(() => gitHubActionsCredentialFromEnv(noIdentity)).toThrow(/ARM_CLIENT_ID\/ARM_TENANT_ID names the identity/);
    expect(
      gitHubActionsCredentialFromEnv({
        ACTIONS_ID_TOKEN_REQUEST_URL: requestUrl(),
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t",
        ARM_CLIENT_ID: CLIENT_ID,
        ARM_TENANT_ID: TENANT,
      }),
    ).toBeInstanceOf(ClientAssertionCredential);
  });

  it("says the job lacks id-token: write when the token endpoint refuses the request token", async () => {
    await expect(fetchGitHubIdToken(requestUrl(), "wrong", GITHUB_TOKEN_EXCHANGE_AUDIENCE)).rejects.toThrow(
      /answered 401; the job needs `permissions: id-token: write`/,
    );
  });
});
