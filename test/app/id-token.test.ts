import { beforeAll, describe, expect, it } from "vitest";
import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type CryptoKey,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import { IdTokenError, validateIdToken, type IdTokenExpectations } from "../../app/auth/id-token";

const TENANT = "00000000-0000-4000-8000-00000000feed";
const CLIENT = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`;
const NOW = Math.floor(Date.now() / 1000);

const expected: IdTokenExpectations = { issuer: ISSUER, audience: CLIENT, tenantId: TENANT, nonce: "nonce-1" };

let signingKey: CryptoKey;
let otherKey: CryptoKey;
let jwks: JWTVerifyGetKey;

/** Claims of a v2.0 Entra ID token for this app and tenant. */
function claims(overrides: JWTPayload = {}): JWTPayload {
  return {
    iss: ISSUER,
    aud: CLIENT,
    sub: "user-sub",
    oid: "00000000-0000-4000-8000-000000000001",
    tid: TENANT,
    nonce: "nonce-1",
    iat: NOW - 10,
    nbf: NOW - 10,
    exp: NOW + 3600,
    ver: "2.0",
    name: "Ada Lovelace",
    ...overrides,
  };
}

function sign(payload: JWTPayload, key: CryptoKey = signingKey, kid = "key-1"): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", kid, typ: "JWT" }).sign(key);
}

/** An unsecured JWT ("alg": "none"), which jose will not produce itself. */
function unsecured(payload: JWTPayload): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`;
}

async function rejection(token: string, overrides: Partial<IdTokenExpectations> = {}): Promise<IdTokenError> {
  const error = await validateIdToken(token, jwks, { ...expected, ...overrides }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(IdTokenError);
  return error as IdTokenError;
}

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  signingKey = pair.privateKey;
  jwks = createLocalJWKSet({
    keys: [{ ...(await exportJWK(pair.publicKey)), kid: "key-1", alg: "RS256", use: "sig" }],
  });
  ({ privateKey: otherKey } = await generateKeyPair("RS256"));
});

describe("validateIdToken", () => {
  it("accepts a valid token and returns its claims", async () => {
    const payload = await validateIdToken(await sign(claims()), jwks, expected);
    expect(payload).toMatchObject({ name: "Ada Lovelace", tid: TENANT, aud: CLIENT });
  });

  it("accepts a token within the clock tolerance", async () => {
    await expect(validateIdToken(await sign(claims({ exp: NOW - 30 })), jwks, expected)).resolves.toBeTruthy();
  });

  it("rejects a bad signature", async () => {
    const error = await rejection(await sign(claims(), otherKey));
    expect(error.reason).toMatch(/signature does not verify/);
  });

  it("rejects a tampered payload", async () => {
    const [header, , signature] = (await sign(claims())).split(".");
    const forged = Buffer.from(JSON.stringify(claims({ name: "Mallory" }))).toString("base64url");
    expect((await rejection(`${header}.${forged}.${signature}`)).reason).toMatch(/signature does not verify/);
  });

  it("rejects alg none", async () => {
    expect((await rejection(unsecured(claims()))).reason).toMatch(/algorithm "none"; only RS256/);
  });

  it("rejects other algorithms such as HS256", async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: "HS256" })
      .sign(new TextEncoder().encode("x".repeat(32)));
    expect((await rejection(token)).reason).toMatch(/algorithm "HS256"/);
  });

  it("rejects the wrong issuer", async () => {
    const error = await rejection(await sign(claims({ iss: "https://login.microsoftonline.com/other/v2.0" })));
    expect(error.reason).toMatch(/issuer is not/);
  });

  it("rejects the v1 issuer of the same tenant", async () => {
    expect((await rejection(await sign(claims({ iss: `https://sts.windows.net/${TENANT}/` })))).reason).toMatch(
      /issuer is not/,
    );
  });

  it("rejects the wrong audience", async () => {
    const error = await rejection(await sign(claims({ aud: "11111111-1111-4111-8111-111111111111" })));
    expect(error.reason).toMatch(/audience is not this app's client ID/);
  });

  it("rejects the wrong tenant", async () => {
    const error = await rejection(await sign(claims({ tid: "11111111-1111-4111-8111-111111111111" })));
    expect(error.reason).toMatch(/tenant \(tid "11111111/);
  });

  it("rejects a token without tid", async () => {
    expect((await rejection(await sign(claims({ tid: undefined })))).reason).toMatch(/tenant \(tid "undefined"\)/);
  });

  it("rejects an expired token", async () => {
    expect((await rejection(await sign(claims({ iat: NOW - 7200, nbf: NOW - 7200, exp: NOW - 3600 })))).reason).toMatch(
      /expired/,
    );
  });

  it("rejects a token whose nbf is in the future", async () => {
    expect((await rejection(await sign(claims({ nbf: NOW + 3600 })))).reason).toMatch(/not valid yet/);
  });

  it("rejects a nonce mismatch", async () => {
    expect((await rejection(await sign(claims({ nonce: "someone-elses" })))).reason).toMatch(/nonce does not match/);
  });

  it("rejects a token without nonce", async () => {
    expect((await rejection(await sign(claims({ nonce: undefined })))).reason).toMatch(/nonce does not match/);
  });

  it("rejects an unknown kid", async () => {
    expect((await rejection(await sign(claims(), otherKey, "rotated-away"))).reason).toMatch(
      /key \(kid\) the authority does not publish/,
    );
  });

  it("rejects a token without sub", async () => {
    expect((await rejection(await sign(claims({ sub: undefined })))).reason).toMatch(/claim "sub"/);
  });

  it("rejects a v1.0 token", async () => {
    expect((await rejection(await sign(claims({ ver: "1.0" })))).reason).toMatch(/v1.0 token/);
  });

  it("rejects something that is not a JWT", async () => {
    expect((await rejection("not-a-jwt")).reason).toMatch(/not a well-formed JWT/);
  });

  it("never puts the token in the error", async () => {
    const token = await sign(claims(), otherKey);
    const error = await rejection(token);
    expect(`${error.message} ${error.reason} ${error.stack}`).not.toContain(token.split(".")[1]);
  });
});
