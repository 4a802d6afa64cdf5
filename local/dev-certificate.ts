/**
 * What `npm run dev` keeps between runs so the browser's certificate decision is made once: the emulator's TLS
 * certificate and key, and the port it last listened on, in a git-ignored folder (`.local-dev/` at the repository
 * root). The emulator serves Entra over HTTPS (msal-node refuses http authorities) with a self-signed certificate for
 * localhost; a new certificate on a new port each run made the browser warn on every run. Kept, the exception the
 * user accepted on the first run keeps matching (browsers key it by host, and Firefox by port, and the certificate).
 *
 * The key is a throwaway for localhost, not an app credential: it signs nothing but the local emulator's TLS
 * handshakes. It is written owner-only (0600) all the same, and never leaves the machine.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLocalhostCertificate, type SelfSignedCertificate } from "../emulator/certificate";

/** A year: the certificate outlives any run; a new one (one more browser decision) comes only when it expires. */
const VALID_DAYS = 365;
/** A certificate this close to expiry is replaced before the run rather than failing in the middle of it. */
const RENEW_BEFORE_MS = 24 * 60 * 60 * 1000;

/** Not plain "localhost": another local anchor with the same subject would shadow it (see emulator/certificate.ts). */
const COMMON_NAME = "localhost (npm run dev)";
const CERT_FILE = "emulator-cert.pem";
const KEY_FILE = "emulator-key.pem";
const STATE_FILE = "emulator.json";

export interface DevEmulatorState {
  readonly certificate: SelfSignedCertificate;
  /** The port the emulator used last time (try it first), or undefined on a first run. */
  readonly port: number | undefined;
  /** True when the certificate was made now: the browser will ask about it on this run. */
  readonly newCertificate: boolean;
}

/** Reads the kept certificate and port from `dir`, or makes and keeps a new certificate when there is none usable. */
export async function loadDevEmulatorState(dir: string, now = Date.now()): Promise<DevEmulatorState> {
  const port = await readPort(dir);
  const kept = await readCertificate(dir, now);
  if (kept) return { certificate: kept, port, newCertificate: false };
  const certificate = await createLocalhostCertificate({ validDays: VALID_DAYS, commonName: COMMON_NAME });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, KEY_FILE), certificate.keyPem, { mode: 0o600 });
  await chmod(join(dir, KEY_FILE), 0o600); // an existing file keeps its mode on write
  await writeFile(join(dir, CERT_FILE), certificate.certPem);
  return { certificate, port, newCertificate: true };
}

/** Keeps the port the emulator listened on, to try first next time. */
export async function rememberDevEmulatorPort(dir: string, port: number): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, STATE_FILE), `${JSON.stringify({ port })}\n`);
}

/** The kept certificate when it parses, matches its key and is not about to expire; undefined otherwise. */
async function readCertificate(dir: string, now: number): Promise<SelfSignedCertificate | undefined> {
  try {
    const certPem = await readFile(join(dir, CERT_FILE), "utf8");
    const keyPem = await readFile(join(dir, KEY_FILE), "utf8");
    const x509 = new X509Certificate(certPem);
    if (!x509.checkPrivateKey(createPrivateKey(keyPem))) return undefined;
    if (Date.parse(x509.validTo) - RENEW_BEFORE_MS <= now) return undefined;
    return { certPem, keyPem };
  } catch {
    return undefined; // missing or unreadable: make a new one
  }
}

async function readPort(dir: string): Promise<number | undefined> {
  try {
    const { port } = JSON.parse(await readFile(join(dir, STATE_FILE), "utf8")) as { port?: unknown };
    return Number.isInteger(port) && (port as number) > 0 && (port as number) < 65_536 ? (port as number) : undefined;
  } catch {
    return undefined;
  }
}
