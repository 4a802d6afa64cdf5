/**
 * The managed-identity request never leaves IDENTITY_ENDPOINT: App Service's endpoint is local, so a redirect is an
 * attack (or a misconfiguration), and following it would send `X-IDENTITY-HEADER` to the redirect's origin and use
 * that origin's unsigned token as the app's credential. Real loopback servers, msal-node's real
 * ManagedIdentityApplication.
 *
 * msal-node picks its managed-identity source (and the network client in it) once per process: this file has one
 * provider, and the endpoint's answer changes per test.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createManagedIdentityAssertion,
  managedIdentityNetworkClient,
  ManagedIdentityError,
  type AssertionProvider,
} from "../../app/auth/managed-identity";

const IDENTITY_HEADER = "identity-header-that-must-stay-home";
const UAMI = "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d";

interface Recorder {
  server: Server;
  url: string;
  requests: IncomingHttpHeaders[];
}

async function listen(handler: (res: import("node:http").ServerResponse) => void): Promise<Recorder> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    requests.push(req.headers);
    handler(res);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/msi/token`, requests };
}

const token = (value: string) =>
  JSON.stringify({
    access_token: value,
    expires_on: String(Math.floor(Date.now() / 1000) + 3600),
    resource: "api://AzureADTokenExchange",
    token_type: "Bearer",
  });

/** What the endpoint answers next. */
let answer: (res: import("node:http").ServerResponse) => void;
let endpoint: Recorder;
let elsewhere: Recorder;
let provider: AssertionProvider;

beforeAll(async () => {
  elsewhere = await listen((res) =>
    res.writeHead(200, { "content-type": "application/json" }).end(token("token-from-elsewhere")),
  );
  endpoint = await listen((res) => answer(res));
  process.env.IDENTITY_ENDPOINT = endpoint.url;
  process.env.IDENTITY_HEADER = IDENTITY_HEADER;
  provider = createManagedIdentityAssertion({
    managedIdentityClientId: UAMI,
    tokenExchangeUrl: "api://AzureADTokenExchange",
    identityEndpoint: endpoint.url,
  });
});

afterAll(async () => {
  delete process.env.IDENTITY_ENDPOINT;
  delete process.env.IDENTITY_HEADER;
  for (const { server } of [endpoint, elsewhere]) await new Promise((done) => server.close(done));
});

describe("the managed-identity request", () => {
  it.each([301, 302, 307, 308])(
    "does not follow a %i redirect, so the identity header and the token stay at the endpoint",
    async (status) => {
      const before = endpoint.requests.length;
      answer = (res) => res.writeHead(status, { location: elsewhere.url }).end();
      const failure = await provider.getAssertion({ fresh: true }).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(ManagedIdentityError);
      expect((failure as ManagedIdentityError).code).toBe("mi_unavailable");
      expect((failure as ManagedIdentityError).detail).toContain(`redirect (HTTP ${status})`);
      expect(endpoint.requests.length - before).toBe(1); // a refusal is final: no retry, no second hop
      expect(elsewhere.requests).toHaveLength(0);
    },
  );

  it("still takes the endpoint's own token, sending it the identity header", async () => {
    answer = (res) => res.writeHead(200, { "content-type": "application/json" }).end(token("token-from-endpoint"));
    expect(await provider.getAssertion({ fresh: true })).toBe("token-from-endpoint");
    expect(endpoint.requests.at(-1)?.["x-identity-header"]).toBe(IDENTITY_HEADER);
    expect(elsewhere.requests).toHaveLength(0);
  });
});

describe("the managed-identity network client", () => {
  const client = () => managedIdentityNetworkClient("http://127.0.0.1:1/msi/token", 1000);

  it.each([
    ["another origin (IMDS)", "http://169.254.169.254/metadata/identity/oauth2/token?resource=x"],
    ["another path on the endpoint's origin", "http://127.0.0.1:1/other?resource=x"],
    ["the same path over https", "https://127.0.0.1:1/msi/token?resource=x"],
  ])("refuses a GET to %s before sending anything", async (_name, url) => {
    await expect(
      client().sendGetRequestAsync(url, { headers: { "X-IDENTITY-HEADER": IDENTITY_HEADER } }),
    ).rejects.toMatchObject({
      errorCode: "managed_identity_endpoint_refused",
    });
  });

  it("refuses any POST", async () => {
    await expect(client().sendPostRequestAsync("http://127.0.0.1:1/msi/token", {})).rejects.toMatchObject({
      errorCode: "managed_identity_endpoint_refused",
    });
  });
});
