import { X509Certificate } from "node:crypto";
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWK } from "jose";
import { describe, expect, it } from "vitest";
import { useEmulator } from "../support/emulator";

const emulator = useEmulator();

describe("OpenID discovery", () => {
  it("publishes a configuration whose endpoints all live under the tenant", async () => {
    const emu = emulator();
    const res = await fetch(`${emu.authority}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
    const config = (await res.json()) as Record<string, unknown>;
    expect(config).toMatchObject({
      issuer: emu.issuer,
      authorization_endpoint: `${emu.authority}/oauth2/v2.0/authorize`,
      token_endpoint: `${emu.authority}/oauth2/v2.0/token`,
      end_session_endpoint: `${emu.authority}/oauth2/v2.0/logout`,
      jwks_uri: `${emu.authority}/discovery/v2.0/keys`,
      response_modes_supported: ["query", "fragment", "form_post"],
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256", "plain"],
      id_token_signing_alg_values_supported: ["RS256"],
      frontchannel_logout_supported: true,
      frontchannel_logout_session_supported: true,
      grant_types_supported: ["authorization_code", "refresh_token", "client_credentials"],
    });
    expect(config.subject_types_supported).toBeInstanceOf(Array);
    expect(config.scopes_supported).toContain("openid");
    expect(config.claims_supported).toEqual(expect.arrayContaining(["preferred_username", "sid"]));
  });

  it("has an Entra-shaped instance and issuer", () => {
    const emu = emulator();
    expect(emu.instance).toMatch(/^https:\/\/localhost:\d+\/$/);
    expect(emu.authority).toBe(`${emu.instance}${emu.tenantId}`);
    expect(emu.issuer).toBe(`${emu.instance}${emu.tenantId}/v2.0`);
    expect(emu.registration.fic.issuer).toBe(emu.issuer);
  });

  it("serves the same document on the path without v2.0", async () => {
    const emu = emulator();
    const res = await fetch(`${emu.authority}/.well-known/openid-configuration`);
    expect(((await res.json()) as { issuer: string }).issuer).toBe(emu.issuer);
  });

  it("matches the tenant segment case-insensitively, as msal-node lower-cases the authority", async () => {
    const emu = emulator();
    const res = await fetch(`${emu.instance}${emu.tenantId.toUpperCase()}/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(200);
  });

  it("rejects an unknown tenant with AADSTS90002", async () => {
    const emu = emulator();
    const res = await fetch(`${emu.instance}contoso.example/v2.0/.well-known/openid-configuration`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; error_codes: number[] };
    expect(body).toMatchObject({ error: "invalid_tenant", error_codes: [90002] });
  });
});

describe("signing keys", () => {
  it("publishes RS256 keys with a kid and use=sig", async () => {
    const emu = emulator();
    const { keys } = (await (await fetch(`${emu.authority}/discovery/v2.0/keys`)).json()) as { keys: JWK[] };
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys)
      expect(key).toMatchObject({ kty: "RSA", use: "sig", alg: "RS256", kid: expect.any(String) });
  });

  it("signs with a new key after rotation and keeps the previous key published", async () => {
    const emu = emulator();
    const jwks = createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`), {
      cacheMaxAge: 0,
      cooldownDuration: 0,
    });
    const before = await emu.mintManagedIdentityToken();
    await emu.rotateKeys();
    const after = await emu.mintManagedIdentityToken();

    expect(decodeProtectedHeader(after).kid).not.toBe(decodeProtectedHeader(before).kid);
    await expect(jwtVerify(before, jwks)).resolves.toBeDefined();
    await expect(jwtVerify(after, jwks)).resolves.toBeDefined();
  });

  it("drops a key from the JWKS once two newer keys have followed it", async () => {
    const emu = emulator();
    const old = await emu.mintManagedIdentityToken();
    const kidOf = async () =>
      ((await (await fetch(`${emu.authority}/discovery/v2.0/keys`)).json()) as { keys: JWK[] }).keys.map((k) => k.kid);
    await emu.rotateKeys();
    await emu.rotateKeys();
    expect(await kidOf()).toContain(decodeProtectedHeader(old).kid);
    await emu.rotateKeys();
    expect(await kidOf()).not.toContain(decodeProtectedHeader(old).kid);
  });
});

describe("TLS certificate", () => {
  it("is valid for localhost, 127.0.0.1 and ::1, and for nothing else", () => {
    const cert = new X509Certificate(emulator().caCertPem);
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkIP("::1")).toBe("::1");
    expect(cert.checkHost("example.com")).toBeUndefined();
    expect(cert.subjectAltName).toBe("DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
    expect(cert.ca).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true); // self-signed
  });
});
