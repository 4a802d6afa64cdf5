import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  entraError,
  miToken,
  REDIRECT_URI,
  signIn,
  signInAndRedeem,
  tokenRequest,
  useEmulator,
} from "../support/emulator";

const emulator = useEmulator();

afterEach(() => {
  vi.useRealTimers();
});

interface TokenBody {
  token_type: string;
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token: string;
  client_info?: string;
}

describe("authorization code redemption", () => {
  it("issues tokens for a code + PKCE verifier + managed-identity token as client assertion", async () => {
    const emu = emulator();
    const res = await signInAndRedeem(emu);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as TokenBody;
    expect(body).toMatchObject({
      token_type: "Bearer",
      scope: "openid profile User.Read email", // the access token's scopes: Graph's, with the default permission
      expires_in: expect.any(Number),
      ext_expires_in: expect.any(Number),
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
    });
    const { user } = emu.registration;
    expect(JSON.parse(Buffer.from(body.client_info!, "base64url").toString())).toEqual({
      uid: user.oid,
      utid: emu.tenantId,
    });

    const { payload } = await jwtVerify(
      body.id_token,
      createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)),
      {
        issuer: emu.issuer,
        audience: emu.registration.clientId,
        algorithms: ["RS256"],
      },
    );
    expect(payload).toMatchObject({
      nonce: "nonce-456",
      oid: user.oid,
      tid: emu.tenantId,
      name: "Ada Lovelace",
      preferred_username: "ada@contoso.example",
      ver: "2.0",
      sub: expect.any(String),
      iat: expect.any(Number),
      nbf: expect.any(Number),
    });
    expect(payload.sub).not.toBe(user.oid); // pairwise, as in Entra
  });

  it("returns no refresh token without offline_access and no client_info unless asked", async () => {
    const body = (await (
      await signInAndRedeem(emulator(), { scope: "openid profile", client_info: undefined })
    ).json()) as TokenBody;
    expect(body.refresh_token).toBeUndefined();
    expect(body.client_info).toBeUndefined();
    expect(body.id_token).toBeTruthy();
  });

  it("accepts a plain code challenge", async () => {
    const emu = emulator();
    const verifier = "p".repeat(43);
    const { code } = await signIn(emu, { code_challenge: verifier, code_challenge_method: "plain" });
    const res = await tokenRequest(emu, { code, code_verifier: verifier, client_assertion: await miToken(emu) });
    expect(res.status).toBe(200);
  });

  it("redeems a code only once (AADSTS54005 on replay)", async () => {
    const emu = emulator();
    const { code, verifier } = await signIn(emu);
    const form = { code, code_verifier: verifier, client_assertion: await miToken(emu) };
    expect((await tokenRequest(emu, form)).status).toBe(200);
    expect(await entraError(await tokenRequest(emu, form))).toMatchObject({
      status: 400,
      error: "invalid_grant",
      code: 54005,
    });
  });

  it("rejects a code older than ten minutes (AADSTS70008)", async () => {
    const emu = emulator();
    const { code, verifier } = await signIn(emu);
    const assertion = await miToken(emu);
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 11 * 60 * 1000);
    const res = await tokenRequest(emu, { code, code_verifier: verifier, client_assertion: assertion });
    expect(await entraError(res)).toMatchObject({ error: "invalid_grant", code: 70008 });
  });

  it.each([
    [
      "a verifier that does not match the code challenge",
      { code_verifier: "x".repeat(43) },
      400,
      "invalid_grant",
      501481,
    ],
    [
      "a missing verifier when the code was bound to a challenge",
      { code_verifier: undefined },
      400,
      "invalid_grant",
      501481,
    ],
    ["an unknown code", { code: "1.made-up" }, 400, "invalid_grant", 70008],
    ["a missing code", { code: undefined }, 400, "invalid_request", 900144],
    [
      "a redirect URI other than the one the code was issued for",
      { redirect_uri: `${REDIRECT_URI}/other` },
      400,
      "invalid_grant",
      500112,
    ],
    ["an unknown client id", { client_id: "00000000-0000-0000-0000-000000000000" }, 400, "unauthorized_client", 700016],
    ["an unsupported grant", { grant_type: "password" }, 400, "unsupported_grant_type", 70003],
  ])("rejects %s (%s %s AADSTS%s)", async (_case, form: Record<string, string | undefined>, status, error, code) => {
    expect(await entraError(await signInAndRedeem(emulator(), form))).toMatchObject({ status, error, code });
  });

  it("answers errors in Entra's shape, echoing client-request-id as the correlation id", async () => {
    const emu = emulator();
    const { body } = await entraError(
      await tokenRequest(emu, { code: "1.made-up", client_assertion: await miToken(emu) }),
    );
    expect(body).toEqual({
      error: "invalid_grant",
      error_description: expect.stringMatching(
        new RegExp(
          String.raw`^AADSTS70008: .+\r\nTrace ID: [0-9a-f-]{36}\r\n` +
            String.raw`Correlation ID: 7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b\r\n` +
            String.raw`Timestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`,
          "s",
        ),
      ),
      error_codes: [70008],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      trace_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      correlation_id: "7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b",
      error_uri: `${emu.instance}error?code=70008`,
    });
  });
});

describe("refresh token grant", () => {
  it("issues fresh tokens for a refresh token, with an ID token but no nonce", async () => {
    const emu = emulator();
    const first = (await (await signInAndRedeem(emu)).json()) as TokenBody;
    const res = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      redirect_uri: undefined,
      client_assertion: await miToken(emu),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as TokenBody;
    expect(body.refresh_token).toBeTruthy();
    expect(body.access_token).not.toBe(first.access_token);
    const claims = decodeJwt(body.id_token);
    expect(claims.oid).toBe(emu.registration.user.oid);
    expect(claims.nonce).toBeUndefined();
  });

  it("authenticates the client on refresh too", async () => {
    const emu = emulator();
    const first = (await (await signInAndRedeem(emu)).json()) as TokenBody;
    const res = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: first.refresh_token,
      client_assertion: undefined,
    });
    expect(await entraError(res)).toMatchObject({ status: 401, code: 7000218 });
  });

  it("rejects an unknown refresh token with invalid_grant", async () => {
    const emu = emulator();
    const res = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token: "1.made-up",
      client_assertion: await miToken(emu),
    });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_grant" });
  });
});

describe("token endpoint faults", () => {
  it("drops the connection while tokenEndpointDown is true, and serves again afterwards", async () => {
    const emu = emulator();
    const { code, verifier } = await signIn(emu);
    const assertion = await miToken(emu);
    emu.faults.tokenEndpointDown = true;
    await expect(tokenRequest(emu, { code, code_verifier: verifier, client_assertion: assertion })).rejects.toThrow(
      /fetch failed/,
    );
    // Discovery keeps working: only the token endpoint is down.
    expect((await fetch(`${emu.authority}/v2.0/.well-known/openid-configuration`)).status).toBe(200);
    emu.faults.tokenEndpointDown = false;
    expect((await tokenRequest(emu, { code, code_verifier: verifier, client_assertion: assertion })).status).toBe(200);
  });

  it("answers 503 temporarily_unavailable with Retry-After when tokenEndpointDown is '503'", async () => {
    const emu = emulator();
    emu.faults.tokenEndpointDown = "503";
    const res = await signInAndRedeem(emu);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await entraError(res)).toMatchObject({ status: 503, error: "temporarily_unavailable", code: 90033 });
  });

  it("counts token requests, failed ones included", async () => {
    const emu = emulator();
    const before = emu.stats.tokenRequests;
    await signInAndRedeem(emu);
    await tokenRequest(emu, {});
    expect(emu.stats.tokenRequests).toBe(before + 2);
  });
});
