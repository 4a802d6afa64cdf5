import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { RunningEmulator } from "../../emulator";
import {
  entraError,
  FIC_GRANTS,
  miToken,
  REDIRECT_URI,
  signIn,
  signInAndRedeem,
  tokenRequest,
  useEmulator,
} from "./helpers";

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
      scope: "openid profile offline_access",
      expires_in: expect.any(Number),
      ext_expires_in: expect.any(Number),
      access_token: expect.any(String),
      refresh_token: expect.any(String),
      id_token: expect.any(String),
    });
    const { user } = emu.registration;
    expect(JSON.parse(Buffer.from(body.client_info!, "base64url").toString())).toEqual({ uid: user.oid, utid: emu.tenantId });

    const { payload } = await jwtVerify(body.id_token, createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)), {
      issuer: emu.issuer,
      audience: emu.registration.clientId,
      algorithms: ["RS256"],
    });
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
    const body = (await (await signInAndRedeem(emulator(), { scope: "openid profile", client_info: undefined })).json()) as TokenBody;
    expect(body.refresh_token).toBeUndefined();
    expect(body.client_info).toBeUndefined();
    expect(body.id_token).toBeTruthy();
  });

  it("rejects a verifier that does not match the code challenge (AADSTS501481)", async () => {
    const res = await signInAndRedeem(emulator(), { code_verifier: "x".repeat(43) });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_grant", code: 501481 });
  });

  it("rejects a missing verifier when the code was bound to a challenge", async () => {
    const res = await signInAndRedeem(emulator(), { code_verifier: undefined });
    expect(await entraError(res)).toMatchObject({ error: "invalid_grant", code: 501481 });
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
    expect(await entraError(await tokenRequest(emu, form))).toMatchObject({ status: 400, error: "invalid_grant", code: 54005 });
  });

  it("rejects an unknown code (AADSTS70008)", async () => {
    const emu = emulator();
    const res = await tokenRequest(emu, { code: "1.made-up", code_verifier: "v".repeat(43), client_assertion: await miToken(emu) });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_grant", code: 70008 });
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

  it("rejects a redirect URI other than the one the code was issued for (AADSTS500112)", async () => {
    const res = await signInAndRedeem(emulator(), { redirect_uri: `${REDIRECT_URI}/other` });
    expect(await entraError(res)).toMatchObject({ error: "invalid_grant", code: 500112 });
  });

  it("rejects an unknown client id (AADSTS700016) and an unsupported grant (AADSTS70003)", async () => {
    const emu = emulator();
    expect(await entraError(await signInAndRedeem(emu, { client_id: "00000000-0000-0000-0000-000000000000" }))).toMatchObject({
      error: "unauthorized_client",
      code: 700016,
    });
    expect(await entraError(await tokenRequest(emu, { grant_type: "password" }))).toMatchObject({
      error: "unsupported_grant_type",
      code: 70003,
    });
  });

  it("answers errors in Entra's shape, echoing client-request-id as the correlation id", async () => {
    const emu = emulator();
    const { body } = await entraError(await tokenRequest(emu, { code: "1.made-up", client_assertion: await miToken(emu) }));
    expect(body).toEqual({
      error: "invalid_grant",
      error_description: expect.stringMatching(
        /^AADSTS70008: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: 7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/s,
      ),
      error_codes: [70008],
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      trace_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      correlation_id: "7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b",
      error_uri: `${emu.instance}error?code=70008`,
    });
  });
});

interface FicCase {
  name: string;
  /** Changes the registration and/or returns the token-request parameters to change. */
  arrange: (emu: RunningEmulator) => Promise<Record<string, string | undefined>> | Record<string, string | undefined>;
  expected: { status: number; error: string; code: number };
  /** What error_description must contain (string) or match (RegExp). */
  description?: (emu: RunningEmulator) => string | RegExp;
}

const invalidClient = (code: number) => ({ status: 401, error: "invalid_client", code });

const FIC_CASES: FicCase[] = [
  {
    name: "rejects a request without a credential (401 AADSTS7000218)",
    arrange: () => ({ client_assertion: undefined, client_assertion_type: undefined }),
    expected: invalidClient(7000218),
  },
  {
    name: "rejects a client secret: the registration has none (401 AADSTS7000215)",
    arrange: () => ({ client_assertion: undefined, client_secret: "s3cret" }),
    expected: invalidClient(7000215),
  },
  {
    name: "rejects a wrong client_assertion_type (400 AADSTS9002313)",
    arrange: () => ({ client_assertion_type: "urn:example:saml" }),
    expected: { status: 400, error: "invalid_request", code: 9002313 },
  },
  {
    name: "rejects an assertion whose issuer is not the FIC issuer (AADSTS700211)",
    arrange: (emu) => {
      // A FIC written for real Entra while the app talks to the emulator.
      emu.registration.fic.issuer = `https://login.microsoftonline.com/${emu.tenantId}/v2.0`;
      return {};
    },
    expected: invalidClient(700211),
    description: (emu) => `presented assertion issuer '${emu.issuer}'`,
  },
  {
    name: "rejects a FIC whose subject is the UAMI's client id instead of its principal id (AADSTS700213)",
    arrange: (emu) => {
      emu.registration.fic.subject = emu.registration.uami.clientId;
      return {};
    },
    expected: invalidClient(700213),
    description: (emu) => emu.registration.uami.principalId,
  },
  {
    name: "compares the subject case-sensitively (AADSTS7002138 when only the case differs)",
    arrange: (emu) => {
      emu.registration.fic.subject = emu.registration.uami.principalId.toUpperCase();
      return {};
    },
    expected: invalidClient(7002138),
  },
  {
    name: "rejects an MI token requested for another resource (AADSTS700212)",
    arrange: async (emu) => ({ client_assertion: await miToken(emu, "https://management.azure.com/") }),
    expected: invalidClient(700212),
  },
  {
    name: "accepts the GUID aud only through the api://AzureADTokenExchange audience, not on its own (AADSTS700212)",
    arrange: (emu) => {
      emu.registration.fic.audiences = ["api://AzureADTokenExchangeUSGov"];
      return {};
    },
    expected: invalidClient(700212),
  },
  {
    name: "rejects an expired assertion with Entra's time-range message (AADSTS700024)",
    arrange: async (emu) => ({
      client_assertion: await emu.mintManagedIdentityToken({ issuedAtOffsetSeconds: -7200, lifetimeSeconds: 3600 }),
    }),
    expected: invalidClient(700024),
    description: () => /^AADSTS700024: Client assertion is not within its valid time range\. Current time: /,
  },
  {
    name: "rejects an assertion that is not valid yet (AADSTS700024)",
    arrange: async (emu) => ({ client_assertion: await emu.mintManagedIdentityToken({ issuedAtOffsetSeconds: 3600 }) }),
    expected: invalidClient(700024),
  },
  {
    name: "rejects a tampered assertion (AADSTS700027)",
    arrange: async (emu) => {
      const [header, payload, signature] = (await miToken(emu)).split(".");
      const claims = { ...JSON.parse(Buffer.from(payload!, "base64url").toString()), sub: "someone-else" };
      return { client_assertion: `${header}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}.${signature}` };
    },
    expected: invalidClient(700027),
  },
  {
    name: "rejects a malformed assertion (AADSTS50027)",
    arrange: () => ({ client_assertion: "not-a-jwt" }),
    expected: invalidClient(50027),
  },
  {
    name: "rejects a token that is not an app-only managed-identity token (AADSTS700229)",
    arrange: async (emu) => ({ client_assertion: await emu.mintManagedIdentityToken({ claims: { idtyp: "user" } }) }),
    expected: invalidClient(700229),
  },
  {
    name: "answers AADSTS70021 while the FIC has not propagated",
    arrange: (emu) => {
      emu.faults.ficNotPropagated = true;
      return {};
    },
    expected: invalidClient(70021),
    description: () => /No matching federated identity record found for presented assertion\. Assertion Issuer: '/,
  },
];

describe.each(Object.keys(FIC_GRANTS) as Array<keyof typeof FIC_GRANTS>)(
  "the %s grant checks the client assertion as a federated identity credential",
  (grant) => {
    it.each(FIC_CASES)("$name", async ({ arrange, expected, description }) => {
      const emu = emulator();
      const form = await arrange(emu);
      const { status, error, code, body } = await entraError(await FIC_GRANTS[grant](emu, form));
      expect({ status, error, code }).toEqual(expected);
      const wanted = description?.(emu);
      if (typeof wanted === "string") expect(body.error_description).toContain(wanted);
      else if (wanted) expect(body.error_description).toMatch(wanted);
    });

    it("succeeds once the FIC has propagated", async () => {
      const emu = emulator();
      emu.faults.ficNotPropagated = true;
      expect((await FIC_GRANTS[grant](emu)).status).toBe(401);
      emu.faults.ficNotPropagated = false;
      expect((await FIC_GRANTS[grant](emu)).status).toBe(200);
    });
  },
);

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
    const res = await tokenRequest(emu, { grant_type: "refresh_token", refresh_token: first.refresh_token, client_assertion: undefined });
    expect(await entraError(res)).toMatchObject({ status: 401, code: 7000218 });
  });

  it("rejects an unknown refresh token with invalid_grant", async () => {
    const emu = emulator();
    const res = await tokenRequest(emu, { grant_type: "refresh_token", refresh_token: "1.made-up", client_assertion: await miToken(emu) });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_grant" });
  });
});

describe("token endpoint faults", () => {
  it("drops the connection while tokenEndpointDown is true, and serves again afterwards", async () => {
    const emu = emulator();
    const { code, verifier } = await signIn(emu);
    const assertion = await miToken(emu);
    emu.faults.tokenEndpointDown = true;
    await expect(tokenRequest(emu, { code, code_verifier: verifier, client_assertion: assertion })).rejects.toThrow(/fetch failed/);
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
