import { describe, expect, it } from "vitest";
import { defaultRegistration, startEmulator } from "../../emulator";

describe("registration", () => {
  it("uses distinct ids everywhere, so a mixed-up id cannot match by luck", () => {
    const r = defaultRegistration();
    const ids = [r.tenantId, r.clientId, r.servicePrincipalId, r.uami.clientId, r.uami.principalId, r.user.oid];
    expect(new Set(ids).size).toBe(ids.length);
    expect(r.fic).toMatchObject({ subject: r.uami.principalId, audiences: ["api://AzureADTokenExchange"] });
    expect(r.user).toMatchObject({ name: "Ada Lovelace", preferredUsername: "ada@contoso.example" });
  });

  it("merges nested overrides with the defaults, and the FIC subject follows the UAMI", () => {
    const r = defaultRegistration({
      uami: { principalId: "0b0e7c1a-2d3f-4e5a-8b6c-7d8e9f0a1b2c" },
      user: { name: "Grace Hopper" },
    });
    expect(r.uami.clientId).toBe(defaultRegistration().uami.clientId);
    expect(r.fic.subject).toBe("0b0e7c1a-2d3f-4e5a-8b6c-7d8e9f0a1b2c");
    expect(r.user).toMatchObject({ name: "Grace Hopper", oid: defaultRegistration().user.oid });
  });

  it("fills the FIC issuer with the emulator's issuer unless one is given", async () => {
    const emu = await startEmulator({ registration: { fic: { audiences: ["api://AzureADTokenExchange"] } } });
    try {
      expect(emu.registration.fic.issuer).toBe(emu.issuer);
    } finally {
      await emu.close();
    }
  });

  it("fails to start on a port in use, and releases what it had opened", async () => {
    const first = await startEmulator();
    try {
      const miPort = Number(new URL(first.identityEndpoint).port);
      await expect(startEmulator({ miPort })).rejects.toMatchObject({ code: "EADDRINUSE" });
    } finally {
      await first.close();
    }
  });

  it(
    "resetFaults turns every fault off in the same live object, the ID token " +
      "mode back to valid and the access-token lifetime back",
    async () => {
      const emu = await startEmulator();
      try {
        const faults = emu.faults;
        const atStart = structuredClone(faults);
        Object.assign(faults, {
          mi: { status: 503 },
          miDown: true,
          ficNotPropagated: true,
          tokenEndpointDown: "503",
          authorizeError: { error: "access_denied", description: "no" },
          graph: { status: 500 },
          graphDown: true,
          consentMissing: true,
        });
        emu.idTokenMode = "expired";
        emu.accessTokenLifetimeSeconds = 5;
        emu.resetFaults();
        expect(emu.faults).toBe(faults);
        expect(faults).toEqual(atStart);
        expect(atStart).toEqual({
          mi: null,
          miDown: false,
          graph: null,
          graphDown: false,
          ficNotPropagated: false,
          tokenEndpointDown: false,
          authorizeError: null,
          consentMissing: false,
        });
        expect(emu.idTokenMode).toBe("valid");
        expect(emu.accessTokenLifetimeSeconds).toBe(3599);
      } finally {
        await emu.close();
      }
    },
  );
});
