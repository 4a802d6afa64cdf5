import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createLocalhostCertificate } from "../../emulator/certificate";
import { REPO } from "./repo";

/**
 * What the deploy-script tests share: a scratch folder, a fake `az` first on PATH (what @azure/identity's
 * AzureCliCredential runs), an HTTPS server on 127.0.0.1 with a self-signed certificate, and a runner that spawns a
 * script the way the Pulumi command does, trusting that certificate and allowed to reach loopback only.
 */

const GUARD = pathToFileURL(join(__dirname, "loopback-only.mjs")).href;
export const GUARD_MARKER = "LOOPBACK-GUARD";

/** A scratch folder removed by `dispose()`. */
export function scratch(): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface FakeAz {
  /** Folder to put first on PATH. */
  readonly binDir: string;
  /** The arguments of every call, one line per call. */
  calls(): string[];
}

/**
 * Writes an `az` that answers `account get-access-token` like Azure CLI 2.54+ (accessToken, expiresOn, expires_on,
 * subscription, tenant, tokenType), or, when `token` is undefined, fails the way a logged-out CLI does. `token` may be
 * one token for every resource, or one per `--resource` value (a resource not listed fails as Entra would refuse it).
 */
export function fakeAz(dir: string, token: string | Readonly<Record<string, string>> | undefined): FakeAz {
  const binDir = join(dir, "bin");
  const log = join(dir, "az-calls.log");
  writeFileSync(log, "");
  const answerWith = (accessToken: string): string =>
    `cat <<'JSON'\n${JSON.stringify({
      accessToken,
      expiresOn: "2099-01-01 00:00:00.000000",
      expires_on: 4070908800,
      subscription: "8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e",
      tenant: "00000000-0000-4000-8000-00000000feed",
      tokenType: "Bearer",
    })}\nJSON\nexit 0`;
  const loggedOut = `echo "ERROR: Please run 'az login' to setup account." >&2\nexit 1`;
  const answer =
    token === undefined
      ? loggedOut
      : typeof token === "string"
        ? answerWith(token)
        : `case "$*" in\n${Object.entries(token)
            .map(([resource, t]) => `*"--resource ${resource}") ${answerWith(t)} ;;`)
            .join("\n")}\n*) echo "ERROR: AADSTS500011: The resource principal was not found in the tenant." >&2; ` +
          "exit 1 ;;\nesac";
  mkdirSync(binDir, { recursive: true });
  writeFileSync(join(binDir, "az"), `#!/bin/sh\necho "$*" >> '${log}'\n${answer}\n`);
  chmodSync(join(binDir, "az"), 0o755);
  return { binDir, calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean) };
}

/** One request the fake server received. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Buffer;
}

export interface HttpsFake {
  /** `localhost:<port>`: the certificate is valid for localhost. */
  readonly host: string;
  /** Path of the PEM certificate, for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** An HTTPS server on 127.0.0.1:0 answering with `handler`; it records every request with its body. */
export async function startHttps(
  dir: string,
  handler: (req: Received, res: ServerResponse, host: string) => void,
): Promise<HttpsFake> {
  const { certPem, keyPem } = await createLocalhostCertificate();
  const caPath = join(dir, "ca.pem");
  writeFileSync(caPath, certPem);
  const received: Received[] = [];
  let host = "";
  const server = createServer({ cert: certPem, key: keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      received.push(r);
      handler(r, res, host);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  host = `localhost:${(server.address() as AddressInfo).port}`;
  return {
    host,
    caPath,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `deploy/<script>` as the Pulumi command would (`node --import tsx deploy/<script>` in the repository root),
 * with an environment cleared of every Azure identity variable, the credential chain restricted to the Azure CLI
 * (so ManagedIdentityCredential never probes IMDS), the fake `az` first on PATH and the test certificate trusted.
 */
export function runScript(script: string, args: string[], env: Record<string, string>): Promise<RunResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) =>
        !/^(AZURE_|IDENTITY_|MSI_|DEPLOY_|READY_|ARM_|ACTIONS_ID_TOKEN_|NODE_OPTIONS$|NODE_EXTRA_CA_CERTS$)/.test(k),
    ),
  ) as Record<string, string>;
  const child = spawn(process.execPath, ["--import", "tsx", "--import", GUARD, `deploy/${script}`, ...args], {
    cwd: REPO,
    env: { ...base, AZURE_TOKEN_CREDENTIALS: "AzureCliCredential", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((done, fail) => {
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}
