import { get } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AzureAdSetting } from "../../contract/settings";
import { GRAPH_BASE_URL_SETTING, startEmulator, type RunningEmulator } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";

// This file deliberately does not use useEmulator(): the first test needs an untrusted emulator.
let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

describe("trusting the emulator's certificate", () => {
  it("global fetch rejects it until trustEmulatorCertificate is called, then accepts it", async () => {
    const url = `${emu.authority}/discovery/v2.0/keys`;
    await expect(fetch(url)).rejects.toMatchObject({ cause: { code: "DEPTH_ZERO_SELF_SIGNED_CERT" } });
    trustEmulatorCertificate(emu);
    expect((await fetch(url)).status).toBe(200);
    // Still trusts the public CAs it trusted before (the list is extended, not replaced).
    expect((await import("node:tls")).getCACertificates("default").length).toBeGreaterThan(1);
  });

  it("https.get trusts it too once trusted in-process", async () => {
    trustEmulatorCertificate(emu);
    const status = await new Promise<number | undefined>((resolve, reject) =>
      get(`${emu.authority}/discovery/v2.0/keys`, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on("error", reject),
    );
    expect(status).toBe(200);
  });
});

describe("appEnv", () => {
  it("names the settings of the shared contract and points at this emulator", () => {
    const env = emu.appEnv({ callbackPath: "/auth/callback" });
    expect(env).toEqual({
      [AzureAdSetting.Instance]: emu.instance,
      [AzureAdSetting.TenantId]: emu.tenantId,
      [AzureAdSetting.ClientId]: emu.registration.clientId,
      [AzureAdSetting.CallbackPath]: "/auth/callback",
      [AzureAdSetting.SourceType]: "SignedAssertionFromManagedIdentity",
      [AzureAdSetting.ManagedIdentityClientId]: emu.registration.uami.clientId,
      [AzureAdSetting.TokenExchangeUrl]: "api://AzureADTokenExchange",
      [GRAPH_BASE_URL_SETTING]: emu.graphBaseUrl,
      IDENTITY_ENDPOINT: emu.identityEndpoint,
      IDENTITY_HEADER: emu.identityHeader,
      NODE_EXTRA_CA_CERTS: emu.caCertPath,
    });
    expect(emu.appEnv()[AzureAdSetting.CallbackPath]).toBe("/signin-oidc");
  });
});
