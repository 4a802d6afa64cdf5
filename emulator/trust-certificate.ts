/**
 * Helpers for tests that run the emulator in the same process as the code under test.
 */
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import type { RunningEmulator } from "./types";

/**
 * Makes this process trust the emulator's self-signed certificate, for every TLS client that uses Node's default CA
 * list: global `fetch` (undici) — and therefore msal-node, whose HTTP client is `fetch` — as well as `https.get`.
 * It adds to the current list (`tls.setDefaultCACertificates`, Node ≥ 22.19), so the system CAs and any earlier
 * emulator stay trusted. Connections opened before the call keep their old trust.
 *
 * A child process cannot inherit this: give it `NODE_EXTRA_CA_CERTS=emu.caCertPath` (`emu.appEnv()` does).
 */
export function trustEmulatorCertificate(emu: Pick<RunningEmulator, "caCertPem">): void {
  const current = getCACertificates("default");
  if (!current.includes(emu.caCertPem)) setDefaultCACertificates([...current, emu.caCertPem]);
}
