/**
 * The Microsoft Graph stand-in: `GET {graphBaseUrl}/me` checks the access token as Graph does and returns the test
 * user; faults make it fail or vanish.
 */
import { SignJWT, UnsecuredJWT, generateKeyPair } from "jose";
import { describe, expect, it } from "vitest";
import { GRAPH_RESOURCE, type RunningEmulator } from "../../emulator";
import { GRAPH_SIGN_IN_SCOPE, signInAndRedeem, useEmulator } from "../support/emulator";

const emulator = useEmulator();

function me(emu: RunningEmulator, token: string | undefined, query = ""): Promise<Response> {
  return fetch(`${emu.graphBaseUrl}/me${query}`, {
    headers: {
      ...(token !== undefined && { Authorization: `Bearer ${token}` }),
      "client-request-id": "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",
    },
  });
}

async function graphError(res: Response): Promise<{ status: number; code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string; innerError: Record<string, string> } };
  expect(body.error.innerError).toMatchObject({
    "client-request-id": "0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e",
    "request-id": expect.any(String),
  });
  return { status: res.status, code: body.error.code, message: body.error.message };
}

describe("Graph /v1.0/me", () => {
  it("returns the signed-in user's profile for the access token of a sign-in", async () => {
    const emu = emulator();
    const { access_token } = (await (await signInAndRedeem(emu, { scope: GRAPH_SIGN_IN_SCOPE })).json()) as {
      access_token: string;
    };
    const res = await me(emu, access_token);
    expect(res.status).toBe(200);
    expect(res.headers.get("client-request-id")).toBe("0f1e2d3c-4b5a-4968-8778-695a4b3c2d1e");
    expect(await res.json()).toEqual({
      "@odata.context": `${GRAPH_RESOURCE}/v1.0/$metadata#users/$entity`,
      businessPhones: [],
      displayName: "Ada Lovelace",
      givenName: "Ada",
      jobTitle: "Mathematician",
      mail: "ada@contoso.example",
      mobilePhone: null,
      officeLocation: null,
      preferredLanguage: null,
      surname: "Lovelace",
      userPrincipalName: "ada@contoso.example",
      id: emu.registration.user.oid,
    });
  });

  it("returns only the $select-ed properties, the registration's live values, and rejects unknown ones", async () => {
    const emu = emulator();
    emu.registration.user.mail = null;
    emu.registration.user.jobTitle = "Analyst";
    const token = await emu.mintGraphAccessToken();
    const res = await me(emu, token, "?$select=displayName,mail,jobTitle");
    expect(await res.json()).toEqual({
      "@odata.context": `${GRAPH_RESOURCE}/v1.0/$metadata#users(displayName,mail,jobTitle)/$entity`,
      displayName: "Ada Lovelace",
      mail: null,
      jobTitle: "Analyst",
    });
    expect(await graphError(await me(emu, token, "?$select=password"))).toMatchObject({
      status: 400,
      code: "BadRequest",
    });
  });

  it.each<[string, number, string, (emu: RunningEmulator) => Promise<string | undefined>, RegExp]>([
    ["no token", 401, "InvalidAuthenticationToken", async () => undefined, /^Access token is empty\.$/],
    [
      "a token that is not a JWT",
      401,
      "InvalidAuthenticationToken",
      async () => "opaque-token",
      /^IDX14100: JWT is not well formed/,
    ],
    [
      "an expired token",
      401,
      "InvalidAuthenticationToken",
      (emu) => emu.mintGraphAccessToken({ issuedAtOffsetSeconds: -7200, lifetimeSeconds: 3600 }),
      /the token is expired/,
    ],
    [
      "a token not valid yet",
      401,
      "InvalidAuthenticationToken",
      (emu) => emu.mintGraphAccessToken({ issuedAtOffsetSeconds: 3600 }),
      /not yet valid/,
    ],
    [
      "a token for another audience (the app's own)",
      401,
      "InvalidAuthenticationToken",
      (emu) => emu.mintGraphAccessToken({ audience: emu.registration.clientId }),
      /Invalid audience\.$/,
    ],
    [
      "a token from another issuer (the v2.0 one)",
      401,
      "InvalidAuthenticationToken",
      (emu) => emu.mintGraphAccessToken({ claims: { iss: emu.issuer } }),
      /Invalid issuer\.$/,
    ],
    [
      "a token signed by a stranger's key",
      401,
      "InvalidAuthenticationToken",
      strangerSigned,
      /^Access token validation failure\.$/,
    ],
    ["a tampered token", 401, "InvalidAuthenticationToken", tampered, /^Access token validation failure\.$/],
    [
      "an unsigned token",
      401,
      "InvalidAuthenticationToken",
      (emu) =>
        Promise.resolve(
          new UnsecuredJWT({ aud: GRAPH_RESOURCE, iss: `https://sts.windows.net/${emu.tenantId}/` }).encode(),
        ),
      /validation failure/,
    ],
    [
      "a token without a permission to read the user",
      403,
      "Authorization_RequestDenied",
      (emu) => emu.mintGraphAccessToken({ scp: "openid profile email Mail.Read" }),
      /^Insufficient privileges/,
    ],
    ["an app-only token", 400, "BadRequest", appOnlyToken, /only valid with delegated authentication flow/],
  ])("rejects %s (%s %s)", async (_case, status, code, token, message) => {
    const emu = emulator();
    const res = await me(emu, await token(emu));
    expect(await graphError(res)).toMatchObject({ status, code, message: expect.stringMatching(message) });
    if (status === 401) {
      expect(res.headers.get("www-authenticate")).toBe(
        `Bearer realm="", authorization_uri="${emu.authority}/oauth2/v2.0/authorize", ` +
          `client_id="00000003-0000-0000-c000-000000000000"`,
      );
    } else expect(res.headers.get("www-authenticate")).toBeNull();
  });

  it("accepts a token for Graph's URI audience and any permission that reads the user", async () => {
    const emu = emulator();
    const token = await emu.mintGraphAccessToken({ audience: GRAPH_RESOURCE, scp: "User.ReadBasic.All" });
    expect((await me(emu, token)).status).toBe(200);
  });

  it("answers paths other than /v1.0/me and other methods as Graph does", async () => {
    const emu = emulator();
    const token = await emu.mintGraphAccessToken();
    const headers = { Authorization: `Bearer ${token}` };
    expect((await fetch(`${emu.graphBaseUrl}/users`, { headers })).status).toBe(400);
    expect((await fetch(`${emu.graphBaseUrl.replace("v1.0", "v9")}/me`, { headers })).status).toBe(400);
    expect((await fetch(`${emu.graphBaseUrl}/me`, { method: "PATCH", headers })).status).toBe(405);
  });
});

describe("Graph faults", () => {
  it.each([500, 503, 429])(
    "answers %s with Graph's error body and Retry-After while faults.graph is set, then recovers",
    async (status) => {
      const emu = emulator();
      const token = await emu.mintGraphAccessToken();
      emu.faults.graph = { status, retryAfterSeconds: 2, times: 2 };
      for (let i = 0; i < 2; i++) {
        const res = await me(emu, token);
        expect(res.headers.get("retry-after")).toBe("2");
        expect((await graphError(res)).status).toBe(status);
      }
      expect(emu.faults.graph).toBeNull();
      expect((await me(emu, token)).status).toBe(200);
    },
  );

  it("drops requests while graphDown, leaving Entra up, and counts every request", async () => {
    const emu = emulator();
    const token = await emu.mintGraphAccessToken();
    const before = emu.stats.graphRequests;
    emu.faults.graphDown = true;
    await expect(me(emu, token)).rejects.toThrow(/fetch failed/);
    expect((await fetch(`${emu.authority}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
    emu.resetFaults();
    expect((await me(emu, token)).status).toBe(200);
    expect(emu.stats.graphRequests).toBe(before + 2);
  });
});

/** A Graph-shaped token signed by a key the emulator does not publish, under the emulator's current `kid`. */
async function strangerSigned(emu: RunningEmulator): Promise<string> {
  const { kid } = JSON.parse(
    Buffer.from((await emu.mintGraphAccessToken()).split(".")[0]!, "base64url").toString(),
  ) as { kid: string };
  const { privateKey } = await generateKeyPair("RS256");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    aud: GRAPH_RESOURCE,
    iss: `https://sts.windows.net/${emu.tenantId}/`,
    scp: "User.Read",
    oid: emu.registration.user.oid,
    iat: now,
    exp: now + 600,
  })
    .setProtectedHeader({ alg: "RS256", kid })
    .sign(privateKey);
}

/** A valid token whose payload was changed to carry more permissions. */
async function tampered(emu: RunningEmulator): Promise<string> {
  const [header, payload, signature] = (await emu.mintGraphAccessToken({ scp: "openid" })).split(".");
  const claims = { ...JSON.parse(Buffer.from(payload!, "base64url").toString()), scp: "User.Read" };
  return `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}`;
}

/** An app-only Graph token: `idtyp: app`, no `scp`. */
function appOnlyToken(emu: RunningEmulator): Promise<string> {
  return emu.mintGraphAccessToken({ claims: { idtyp: "app", scp: undefined, roles: ["User.Read.All"] } });
}
