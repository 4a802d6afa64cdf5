import { createRemoteJWKSet, errors, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { GRAPH_APP_ID, type IdTokenMode, type RunningEmulator } from "../../emulator";
import { miToken, signInAndRedeem, tokenRequest, useEmulator } from "../support/emulator";

const emulator = useEmulator();

/**
 * The checks an app must make on an ID token (OIDC Core §3.1.3.7 plus Entra's tid), done the way the app does them
 * with jose. Returns the name of the first failing check, or "ok".
 */
async function firstFailingCheck(emu: RunningEmulator, idToken: string, expectedNonce: string): Promise<string> {
  const jwks = createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`));
  try {
    const { payload } = await jwtVerify(idToken, jwks, {
      issuer: emu.issuer,
      audience: emu.registration.clientId,
      algorithms: ["RS256"],
      requiredClaims: ["sub", "iat", "exp"],
    });
    if (payload.tid !== emu.tenantId) return "tid";
    if (payload.nonce !== expectedNonce) return "nonce";
    return "ok";
  } catch (err) {
    if (err instanceof errors.JWSSignatureVerificationFailed) return "signature";
    if (err instanceof errors.JOSEAlgNotAllowed) return "alg";
    if (err instanceof errors.JWKSNoMatchingKey) return "kid";
    if (err instanceof errors.JWTExpired) return "exp";
    if (err instanceof errors.JWTClaimValidationFailed) return err.claim;
    throw err;
  }
}

async function idTokenIn(emu: RunningEmulator, mode: IdTokenMode): Promise<string> {
  emu.idTokenMode = mode;
  const res = await signInAndRedeem(emu);
  expect(res.status).toBe(200);
  return ((await res.json()) as { id_token: string }).id_token;
}

describe("ID token modes", () => {
  it("a 'valid' ID token passes every check", async () => {
    const emu = emulator();
    expect(await firstFailingCheck(emu, await idTokenIn(emu, "valid"), "nonce-456")).toBe("ok");
  });

  const cases: Array<[IdTokenMode, string]> = [
    ["bad-signature", "signature"],
    ["alg-none", "alg"],
    ["unknown-kid", "kid"],
    ["wrong-iss", "iss"],
    ["wrong-aud", "aud"],
    ["wrong-tid", "tid"],
    ["expired", "exp"],
    ["nonce-mismatch", "nonce"],
    ["missing-sub", "sub"],
  ];
  it.each(cases)("'%s' fails exactly the %s check", async (mode, check) => {
    const emu = emulator();
    expect(await firstFailingCheck(emu, await idTokenIn(emu, mode), "nonce-456")).toBe(check);
  });

  it("applies to ID tokens from the refresh-token grant too", async () => {
    const emu = emulator();
    const { refresh_token } = (await (await signInAndRedeem(emu)).json()) as { refresh_token: string };
    emu.idTokenMode = "wrong-aud";
    const res = await tokenRequest(emu, {
      grant_type: "refresh_token",
      refresh_token,
      client_assertion: await miToken(emu),
    });
    const { id_token } = (await res.json()) as { id_token: string };
    expect(await firstFailingCheck(emu, id_token, "")).toBe("aud");
  });

  it("leaves the access token alone", async () => {
    const emu = emulator();
    emu.idTokenMode = "alg-none";
    const { access_token } = (await (await signInAndRedeem(emu)).json()) as { access_token: string };
    const jwks = createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`));
    // A Graph token: v1.0, so its issuer is sts.windows.net's, not the ID token's.
    const issuer = `https://sts.windows.net/${emu.tenantId}/`;
    await expect(jwtVerify(access_token, jwks, { issuer, audience: GRAPH_APP_ID })).resolves.toBeDefined();
  });
});
