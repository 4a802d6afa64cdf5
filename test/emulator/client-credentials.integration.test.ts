import { createRemoteJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  clientCredentialsRequest,
  entraError,
  GRAPH_DEFAULT_SCOPE,
  signInAndRedeem,
  useEmulator,
} from "../support/emulator";

const emulator = useEmulator();

describe("client credentials grant", () => {
  it("issues an app-only token for the resource: the service principal, no roles, no user", async () => {
    const emu = emulator();
    const res = await clientCredentialsRequest(emu);
    expect(res.status).toBe(200);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const body = (await res.json()) as Record<string, unknown>;
    // No refresh token, ID token or scope: there is no user and nothing to refresh.
    expect(body).toEqual({
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: expect.any(String),
    });

    const { payload } = await jwtVerify(
      body.access_token as string,
      createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)),
      { issuer: emu.issuer, audience: "https://graph.microsoft.com", algorithms: ["RS256"] },
    );
    const { clientId, servicePrincipalId } = emu.registration;
    expect(payload).toMatchObject({
      idtyp: "app",
      azp: clientId,
      appid: clientId,
      tid: emu.tenantId,
      oid: servicePrincipalId,
      sub: servicePrincipalId,
      ver: "2.0",
    });
    expect(payload.roles).toBeUndefined();
    expect(payload.scp).toBeUndefined();
    expect(payload.exp! - payload.iat!).toBe(3599);
  });

  it.each(["https://graph.microsoft.us/.default", "api://3a8c9d1e-5b2f-4c6d-8e7f-9a0b1c2d3e4f/.default"])(
    "uses the resource of %s as the audience",
    async (scope) => {
      const body = (await (await clientCredentialsRequest(emulator(), { scope })).json()) as { access_token: string };
      const { aud } = JSON.parse(Buffer.from(body.access_token.split(".")[1]!, "base64url").toString()) as {
        aud: string;
      };
      expect(aud).toBe(scope.slice(0, -"/.default".length));
    },
  );

  it.each([
    "https://graph.microsoft.com/User.Read",
    "https://graph.microsoft.com",
    "openid profile",
    `${GRAPH_DEFAULT_SCOPE} openid`,
    "/.default",
  ])("refuses the scope '%s' with invalid_scope AADSTS1002012, as Entra does", async (scope) => {
    const { status, error, code, body } = await entraError(await clientCredentialsRequest(emulator(), { scope }));
    expect({ status, error, code }).toEqual({ status: 400, error: "invalid_scope", code: 1002012 });
    expect(body.error_description).toContain("must have a scope value with /.default suffixed");
  });

  it("requires a scope (AADSTS900144)", async () => {
    const res = await clientCredentialsRequest(emulator(), { scope: undefined });
    expect(await entraError(res)).toMatchObject({ status: 400, error: "invalid_request", code: 900144 });
  });

  it("rejects an unknown client id (AADSTS700016)", async () => {
    const res = await clientCredentialsRequest(emulator(), { client_id: "00000000-0000-0000-0000-000000000000" });
    expect(await entraError(res)).toMatchObject({ error: "unauthorized_client", code: 700016 });
  });

  it("counts client-credentials requests, failed and dropped ones included, and no others", async () => {
    const emu = emulator();
    const before = emu.stats.clientCredentialsRequests;
    await clientCredentialsRequest(emu);
    await clientCredentialsRequest(emu, { scope: "openid" });
    await signInAndRedeem(emu);
    emu.faults.tokenEndpointDown = true;
    await expect(clientCredentialsRequest(emu)).rejects.toThrow(/fetch failed/);
    expect(emu.stats.clientCredentialsRequests).toBe(before + 3);
  });
});
