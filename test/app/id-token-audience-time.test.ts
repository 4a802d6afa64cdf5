/**
 * The ID-token checks OIDC Core 3.1.3.7 asks for beyond `aud` and `exp`: with several audiences the authorized party
 * (`azp`) must be this client, and an issued-at time (`iat`) in the future beyond the clock tolerance is refused.
 */
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { IdTokenError, validateIdToken, type IdTokenExpectations } from "../../app/auth/id-token";

const TENANT = "00000000-0000-4000-8000-00000000feed";
const CLIENT = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const OTHER = "11111111-2222-4333-8444-555555555555";
const NOW = Math.floor(Date.now() / 1000);
const expected: IdTokenExpectations = {
  issuer: `https://login.microsoftonline.com/${TENANT}/v2.0`,
  audience: CLIENT,
  tenantId: TENANT,
  nonce: "n",
};

let key: CryptoKey;
let jwks: JWTVerifyGetKey;

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  key = pair.privateKey;
  jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k", alg: "RS256" }] });
});

function token(overrides: JWTPayload): Promise<string> {
  const payload: JWTPayload = {
    iss: expected.issuer,
    aud: CLIENT,
    sub: "s",
    tid: TENANT,
    nonce: "n",
    iat: NOW - 10,
    exp: NOW + 3600,
    ver: "2.0",
    ...overrides,
  };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete payload[name];
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid: "k" }).sign(key);
}

async function outcome(overrides: JWTPayload): Promise<string> {
  try {
    await validateIdToken(await token(overrides), jwks, expected);
    return "accepted";
  } catch (error) {
    expect(error).toBeInstanceOf(IdTokenError);
    return (error as IdTokenError).reason;
  }
}

describe("validateIdToken: authorized party and issued-at", () => {
  it.each([
    ["one audience, no azp (Entra's usual ID token)", {}, "accepted"],
    ["one audience, azp = this client", { azp: CLIENT }, "accepted"],
    ["several audiences, azp = this client", { aud: [CLIENT, OTHER], azp: CLIENT }, "accepted"],
    ["an audience array of one, azp = this client", { aud: [CLIENT], azp: CLIENT }, "accepted"],
    [
      "several audiences, no azp",
      { aud: [CLIENT, OTHER] },
      "its audience is a list and it names no authorized party (azp)",
    ],
    [
      "an audience array of one, no azp",
      { aud: [CLIENT] },
      "its audience is a list and it names no authorized party (azp)",
    ],
    [
      "several audiences, azp = another client",
      { aud: [CLIENT, OTHER], azp: OTHER },
      `its authorized party (azp "${OTHER}") is not this app's client ID "${CLIENT}"`,
    ],
    [
      "one audience, azp = another client",
      { azp: OTHER },
      `its authorized party (azp "${OTHER}") is not this app's client ID "${CLIENT}"`,
    ],
  ] as const)("judges a token with %s", async (_name, overrides, result) => {
    expect(await outcome(overrides as JWTPayload)).toBe(result);
  });

  it.each([
    ["issued now", NOW, "accepted"],
    ["issued 50 s ahead (within the 60 s tolerance)", NOW + 50, "accepted"],
    ["issued 5 minutes ahead", NOW + 300, "its issued-at time (iat) is in the future"],
    ["issued a day ahead", NOW + 86_400, "its issued-at time (iat) is in the future"],
  ])("judges a token %s", async (_name, iat, result) => {
    expect(await outcome({ iat, nbf: undefined })).toBe(result);
  });
});
