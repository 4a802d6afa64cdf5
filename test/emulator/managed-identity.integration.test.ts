import { createRemoteJWKSet, decodeJwt, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { startEmulator, TOKEN_EXCHANGE_APP_ID, type EmulatorRegistration } from "../../emulator";
import { miRequest, useEmulator } from "../support/emulator";

const emulator = useEmulator();

describe("managed-identity endpoint", () => {
  it("returns an App Service token body with expires_on as a string", async () => {
    const emu = emulator();
    const res = await miRequest(emu);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      access_token: expect.any(String),
      expires_on: expect.stringMatching(/^\d+$/),
      resource: "api://AzureADTokenExchange",
      token_type: "Bearer",
      client_id: emu.registration.uami.clientId,
    });
  });

  it("issues an app-only v2.0 token for the UAMI, whose aud is the token-exchange GUID", async () => {
    const emu = emulator();
    const { access_token, expires_on } = (await (await miRequest(emu)).json()) as {
      access_token: string;
      expires_on: string;
    };
    const { payload } = await jwtVerify(
      access_token,
      createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)),
      {
        issuer: emu.issuer,
        audience: TOKEN_EXCHANGE_APP_ID,
      },
    );
    const { uami } = emu.registration;
    expect(payload).toMatchObject({
      sub: uami.principalId,
      oid: uami.principalId,
      azp: uami.clientId,
      appid: uami.clientId,
      idtyp: "app",
      tid: emu.tenantId,
      ver: "2.0",
    });
    expect(payload.exp).toBe(Number(expires_on));
    expect(payload.exp! - payload.iat!).toBe(86_400);
  });

  it("strips /.default from the resource, as MSAL-style scopes carry it", async () => {
    const res = await miRequest(emulator(), { resource: "api://AzureADTokenExchange/.default" });
    expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).aud).toBe(TOKEN_EXCHANGE_APP_ID);
  });

  it("uses the resource itself as aud when no GUID alias is known (US Gov, other APIs)", async () => {
    for (const resource of ["api://AzureADTokenExchangeUSGov", "https://management.azure.com/"]) {
      const res = await miRequest(emulator(), { resource });
      expect(decodeJwt(((await res.json()) as { access_token: string }).access_token).aud).toBe(resource);
    }
  });

  it.each<[string, (uami: EmulatorRegistration["uami"]) => Record<string, string | undefined>]>([
    ["client_id (any case)", (uami) => ({ client_id: uami.clientId.toUpperCase() })],
    ["principal_id", (uami) => ({ client_id: undefined, principal_id: uami.principalId })],
    ["object_id", (uami) => ({ client_id: undefined, object_id: uami.principalId })],
    ["mi_res_id", (uami) => ({ client_id: undefined, mi_res_id: uami.resourceId })],
  ])("accepts the identity by %s", async (_param, query) => {
    const emu = emulator();
    expect((await miRequest(emu, query(emu.registration.uami))).status).toBe(200);
  });

  it("answers 'Unable to load the proper Managed Identity.' for an unknown identity or none at all", async () => {
    const emu = emulator();
    // The classic mix-up: the principal id passed as client_id.
    for (const query of [{ client_id: emu.registration.uami.principalId }, { client_id: undefined }]) {
      const res = await miRequest(emu, query);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        statusCode: 400,
        message: "Unable to load the proper Managed Identity.",
        correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
    }
  });

  it("requires X-IDENTITY-HEADER: 400 without it, 401 with a wrong value", async () => {
    const emu = emulator();
    const missing = await miRequest(emu, {}, {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("X-IDENTITY-HEADER"),
    });
    const wrong = await miRequest(emu, {}, { "X-IDENTITY-HEADER": "guess" });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toMatchObject({ statusCode: 401 });
  });

  it.each<[string, (uami: EmulatorRegistration["uami"]) => Record<string, string | undefined>]>([
    ["a missing resource", () => ({ resource: undefined })],
    ["another api-version", () => ({ "api-version": "2017-09-01" })],
    ["two identity parameters", (uami) => ({ principal_id: uami.principalId })],
  ])("rejects %s with 400", async (_case, query) => {
    const emu = emulator();
    expect((await miRequest(emu, query(emu.registration.uami))).status).toBe(400);
  });

  it("counts every request", async () => {
    const emu = emulator();
    const before = emu.stats.miRequests;
    await miRequest(emu);
    await miRequest(emu, {}, {});
    expect(emu.stats.miRequests).toBe(before + 2);
  });

  it("honours tokenLifetimeSeconds", async () => {
    const emu = await startEmulator({ tokenLifetimeSeconds: 600 });
    try {
      const { access_token } = (await (await miRequest(emu)).json()) as { access_token: string };
      const { exp, iat } = decodeJwt(access_token);
      expect(exp! - iat!).toBe(600);
    } finally {
      await emu.close();
    }
  });
});

describe("managed-identity faults", () => {
  it("answers the injected status with Retry-After, then recovers after `times` failures", async () => {
    const emu = emulator();
    emu.faults.mi = { status: 503, retryAfterSeconds: 2, times: 2 };
    for (let i = 0; i < 2; i++) {
      const res = await miRequest(emu);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("2");
      expect(await res.json()).toMatchObject({ statusCode: 503, correlationId: expect.any(String) });
    }
    expect(emu.faults.mi).toBeNull();
    expect((await miRequest(emu)).status).toBe(200);
  });

  it("keeps failing without `times` until the fault is cleared", async () => {
    const emu = emulator();
    emu.faults.mi = { status: 429 };
    for (let i = 0; i < 3; i++) expect((await miRequest(emu)).status).toBe(429);
    emu.faults.mi = null;
    expect((await miRequest(emu)).status).toBe(200);
  });

  it("drops connections while miDown, and serves again once it is cleared", async () => {
    const emu = emulator();
    expect((await miRequest(emu)).status).toBe(200); // leaves a keep-alive connection open
    emu.faults.miDown = true;
    await expect(miRequest(emu)).rejects.toThrow(/fetch failed/);
    await expect(miRequest(emu)).rejects.toThrow(/fetch failed/);
    emu.faults.miDown = false;
    expect((await miRequest(emu)).status).toBe(200);
  });
});
