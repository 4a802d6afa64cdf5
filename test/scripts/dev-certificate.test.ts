/** What `npm run dev` keeps between runs: the emulator's certificate and key (owner-only) and its last port. */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDevEmulatorState, rememberDevEmulatorPort } from "../../local/dev-certificate";

const fresh = (): string => mkdtempSync(join(tmpdir(), "dev-cert-"));
const DAY_MS = 24 * 60 * 60 * 1000;

describe("the dev emulator's kept certificate", () => {
  it("is made on the first run, owner-only, valid for localhost for a year, and reused afterwards", async () => {
    const dir = fresh();
    const first = await loadDevEmulatorState(dir);
    expect(first).toMatchObject({ newCertificate: true, port: undefined });
    expect(statSync(join(dir, "emulator-key.pem")).mode & 0o777).toBe(0o600);
    const x509 = new X509Certificate(first.certificate.certPem);
    expect(x509.subjectAltName).toContain("DNS:localhost");
    expect(Date.parse(x509.validTo) - Date.now()).toBeGreaterThan(360 * DAY_MS);

    await rememberDevEmulatorPort(dir, 44_321);
    const second = await loadDevEmulatorState(dir);
    expect(second).toEqual({ certificate: first.certificate, port: 44_321, newCertificate: false });
  });

  it("is replaced when it is about to expire, or when its key does not match it", async () => {
    const dir = fresh();
    const first = await loadDevEmulatorState(dir);
    const nearExpiry = Date.parse(new X509Certificate(first.certificate.certPem).validTo) - DAY_MS / 2;
    const renewed = await loadDevEmulatorState(dir, nearExpiry);
    expect(renewed.newCertificate).toBe(true);
    expect(renewed.certificate.certPem).not.toBe(first.certificate.certPem);

    writeFileSync(join(dir, "emulator-key.pem"), first.certificate.keyPem); // the old key beside the new certificate
    const mismatched = await loadDevEmulatorState(dir);
    expect(mismatched.newCertificate).toBe(true);
  });

  it("ignores a kept port that is not a port", async () => {
    const dir = fresh();
    writeFileSync(join(dir, "emulator.json"), JSON.stringify({ port: 70_000 }));
    expect((await loadDevEmulatorState(dir)).port).toBeUndefined();
  });
});
