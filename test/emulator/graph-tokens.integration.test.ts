/**
 * Delegated Microsoft Graph tokens from the user grants: their claims, the refresh-token grant, revocation and the
 * consent-missing mode.
 */
import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { GRAPH_APP_ID, GRAPH_RESOURCE } from "../../emulator";
import {
  authorize,
  entraError,
  GRAPH_SIGN_IN_SCOPE,
  miToken,
  redirectParams,
  refreshRequest,
  refreshTokenOf,
  signIn,
  signInAndRedeem,
  tokenRequest,
  useEmulator,
} from "../support/emulator";

const emulator = useEmulator();

interface TokenBody {
  scope: string;
  expires_in: number;
  ext_expires_in: number;
  access_token: string;
  refresh_token?: string;
  id_token?: string;
}

async function tokens(res: Response): Promise<TokenBody> {
  expect(res.status).toBe(200);
  return (await res.json()) as TokenBody;
}

describe("Graph access tokens", () => {
  it.each([
    [
      "a short scope",
      GRAPH_SIGN_IN_SCOPE,
      GRAPH_APP_ID,
      "openid profile User.Read email",
      "openid profile User.Read email",
    ],
    [
      "Graph's URI as prefix",
      `${GRAPH_RESOURCE}/User.Read openid profile offline_access`,
      GRAPH_RESOURCE,
      "openid profile User.Read email",
      `openid profile ${GRAPH_RESOURCE}/User.Read email`,
    ],
    [
      "Graph's app id as prefix",
      `${GRAPH_APP_ID}/User.Read openid profile offline_access`,
      GRAPH_APP_ID,
      "openid profile User.Read email",
      `openid profile ${GRAPH_APP_ID}/User.Read email`,
    ],
    [
      "Graph's .default",
      `${GRAPH_RESOURCE}/.default openid offline_access`,
      GRAPH_RESOURCE,
      "openid profile User.Read email",
      `openid profile ${GRAPH_RESOURCE}/User.Read email`,
    ],
    [
      "only the OpenID scopes (the consented permission comes along)",
      "openid profile offline_access",
      GRAPH_APP_ID,
      "openid profile User.Read email",
      "openid profile User.Read email",
    ],
  ])(
    "for %s, requested as '%s', gives aud %s and Entra's scp and response scope",
    async (_case, scope, aud, scp, responseScope) => {
      const emu = emulator();
      const body = await tokens(await signInAndRedeem(emu, { scope }));
      expect(body.scope).toBe(responseScope);
      const claims = decodeJwt(body.access_token);
      expect({ aud: claims.aud, scp: claims.scp }).toEqual({ aud, scp });
    },
  );

  it("is a v1.0 delegated token for the user, signed by the emulator's key, living expires_in seconds", async () => {
    const emu = emulator();
    const body = await tokens(await signInAndRedeem(emu, { scope: GRAPH_SIGN_IN_SCOPE }));
    const jwks = createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`));
    const { payload } = await jwtVerify(body.access_token, jwks, {
      issuer: `https://sts.windows.net/${emu.tenantId}/`,
      audience: GRAPH_APP_ID,
      algorithms: ["RS256"],
    });
    const { user, clientId } = emu.registration;
    expect(payload).toMatchObject({
      ver: "1.0",
      idtyp: "user",
      tid: emu.tenantId,
      oid: user.oid,
      appid: clientId,
      appidacr: "2",
      upn: user.preferredUsername,
      name: user.name,
      sid: decodeJwt(body.id_token!).sid,
    });
    expect(payload.exp! - payload.iat!).toBe(3599);
    expect(body).toMatchObject({ expires_in: 3599, ext_expires_in: 3599 });
  });

  it("lives accessTokenLifetimeSeconds when that is changed, until resetFaults", async () => {
    const emu = emulator();
    emu.accessTokenLifetimeSeconds = 30;
    const body = await tokens(await signInAndRedeem(emu, { scope: GRAPH_SIGN_IN_SCOPE }));
    const claims = decodeJwt(body.access_token);
    expect(claims.exp! - claims.iat!).toBe(30);
    expect(body.expires_in).toBe(30);
    emu.resetFaults();
    expect(decodeJwt((await tokens(await signInAndRedeem(emu))).access_token).exp).toBeGreaterThan(claims.exp! + 3000);
  });

  it("refuses a scope of a resource the tenant does not have (400 invalid_resource AADSTS500011)", async () => {
    const res = await signInAndRedeem(emulator(), { scope: "api://someone-else/read openid" });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_resource", code: 500011 });
  });
});

describe("refresh-token grant for Graph", () => {
  it(
    "issues a new Graph token and refresh token for a new " + "managed-identity assertion, and counts the request",
    async () => {
      const emu = emulator();
      const refreshToken = await refreshTokenOf(emu);
      const before = emu.stats.refreshTokenRequests;
      const body = await tokens(
        await refreshRequest(emu, refreshToken, { client_assertion: await emu.mintManagedIdentityToken() }),
      );
      expect(decodeJwt(body.access_token)).toMatchObject({ aud: GRAPH_APP_ID, scp: "openid profile User.Read email" });
      expect(body.refresh_token).toMatch(/^1\./);
      expect(body.refresh_token).not.toBe(refreshToken);
      expect(emu.stats.refreshTokenRequests).toBe(before + 1);
    },
  );

  it("answers AADSTS50173 for a revoked refresh token, and works again after a new sign-in", async () => {
    const emu = emulator();
    const refreshToken = await refreshTokenOf(emu);
    expect(emu.revokeRefreshTokens(emu.registration.user.oid.toUpperCase())).toBeGreaterThan(0);
    const { status, error, code, body } = await entraError(await refreshRequest(emu, refreshToken));
    expect({ status, error, code }).toEqual({ status: 400, error: "invalid_grant", code: 50173 });
    expect(body.error_description).toMatch(
      new RegExp(
        "^AADSTS50173: The provided grant has expired due to it being revoked.+" +
          String.raw`issued on '\d{4}-\d\d-\d\dT[\d:.]{16}Z' and the TokensValidFrom date`,
        "s",
      ),
    );
    const fresh = await refreshTokenOf(emu);
    expect((await refreshRequest(emu, fresh)).status).toBe(200);
  });

  it("revokes nothing for another user, and everything without a user", async () => {
    const emu = emulator();
    const refreshToken = await refreshTokenOf(emu);
    expect(emu.revokeRefreshTokens("00000000-0000-0000-0000-000000000000")).toBe(0);
    expect((await refreshRequest(emu, refreshToken)).status).toBe(200);
    expect(emu.revokeRefreshTokens()).toBeGreaterThan(0);
    expect((await refreshRequest(emu, refreshToken)).status).toBe(400);
  });

  it("ends the user's IdP session on revocation, so a silent sign-in needs the user again", async () => {
    const emu = emulator();
    await refreshTokenOf(emu);
    emu.revokeRefreshTokens();
    const res = await authorize(emu, { prompt: "none" });
    expect(redirectParams(res).get("error")).toBe("login_required");
  });
});

describe("consent missing", () => {
  const consentRequired = { status: 400, error: "invalid_grant", code: 65001 };

  it("sends a Graph sign-in back to the app with consent_required AADSTS65001", async () => {
    const emu = emulator();
    emu.faults.consentMissing = true;
    const params = redirectParams(await authorize(emu, { scope: GRAPH_SIGN_IN_SCOPE }));
    expect(params.get("error")).toBe("consent_required");
    expect(params.get("error_description")).toMatch(
      new RegExp(
        `^AADSTS65001: The user or administrator has not consented to use the application with ID ` +
          `'${emu.registration.clientId}' named 'Secretless sample app'\\.`,
      ),
    );
    expect(params.get("state")).toBe("state-123");
  });

  it("answers a Graph code redemption with invalid_grant AADSTS65001, suberror consent_required", async () => {
    const emu = emulator();
    const { code: authCode, verifier } = await signIn(emu, { scope: GRAPH_SIGN_IN_SCOPE });
    emu.faults.consentMissing = true; // consent revoked between sign-in and redemption
    const res = await tokenRequest(emu, {
      code: authCode,
      code_verifier: verifier,
      scope: GRAPH_SIGN_IN_SCOPE,
      client_assertion: await miToken(emu),
    });
    const { status, error, code, body } = await entraError(res);
    expect({ status, error, code }).toEqual(consentRequired);
    expect(body).toMatchObject({ suberror: "consent_required" });
  });

  it("answers a Graph refresh with AADSTS65001 once consent is gone", async () => {
    const emu = emulator();
    const refreshToken = await refreshTokenOf(emu);
    emu.faults.consentMissing = true;
    const { status, error, code } = await entraError(
      await refreshRequest(emu, refreshToken, { client_assertion: await miToken(emu) }),
    );
    expect({ status, error, code }).toEqual(consentRequired);
  });

  it("still signs in with only the OpenID scopes, with a token that carries no Graph permission", async () => {
    const emu = emulator();
    emu.faults.consentMissing = true;
    const body = await tokens(await signInAndRedeem(emu, { scope: "openid profile offline_access" }));
    expect(decodeJwt(body.access_token).scp).toBe("openid profile email");
  });
});
