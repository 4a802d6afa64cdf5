/**
 * Shared wiring for the browser tests: the built app (dist/app/server.js) in a child process against the emulator,
 * and headless Debian Chromium driven by playwright-core.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { appRegistrationFor, startEmulator, type RunningEmulator } from "../../emulator";
import { buildApp } from "../../scripts/build-app";

/** One timeout for every browser step. */
export const E2E_TIMEOUT = 20_000;

export const CHROMIUM_PATH = "/usr/bin/chromium";

/** A free loopback port (the app's redirect URI must be registered before it starts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface RunningStack {
  readonly emu: RunningEmulator;
  /** http://localhost:<port>, the URL a developer opens. */
  readonly appUrl: string;
  /** Everything the app wrote to stdout/stderr. */
  readonly appOutput: string[];
  close(): Promise<void>;
}

/** Builds the bundle, starts the emulator and `node dist/app/server.js` with the emulator's settings. */
export async function startBuiltStack(): Promise<RunningStack> {
  const server = await buildApp();
  const port = await freePort();
  const appUrl = `http://localhost:${port}`;
  const emu = await startEmulator({
    registration: appRegistrationFor(appUrl),
  });
  const appOutput: string[] = [];
  // NODE_EXTRA_CA_CERTS (from appEnv) makes the child trust the emulator's self-signed certificate.
  const child = spawn(process.execPath, [server], {
    env: { PATH: process.env.PATH ?? "", ...emu.appEnv(), PORT: String(port), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout!.on("data", (chunk: Buffer) => appOutput.push(chunk.toString("utf8")));
  child.stderr!.on("data", (chunk: Buffer) => appOutput.push(chunk.toString("utf8")));
  await waitUntilHealthy(`${appUrl}/healthz`, child, appOutput);
  return {
    emu,
    appUrl,
    appOutput,
    async close() {
      await stopChild(child);
      await emu.close();
    },
  };
}

async function waitUntilHealthy(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + E2E_TIMEOUT;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}:\n${output.join("")}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app did not become healthy at ${url}:\n${output.join("")}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM"); // the app's graceful shutdown
  await exited;
}

export interface BrowserSession {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Console errors and page errors seen so far (CSP violations show up here). */
  readonly errors: string[];
  /** Every URL the page requested, frames included. */
  readonly requests: string[];
}

/**
 * Launches Chromium once for the file and opens a fresh context and page. Fails, not skips, when Chromium is missing.
 * The emulator's certificate is self-signed: the context ignores HTTPS errors (test wiring only; the app itself
 * trusts the certificate through NODE_EXTRA_CA_CERTS).
 */
export function setupBrowser(): BrowserSession {
  let browser: Browser | undefined;
  const session = { errors: [] as string[], requests: [] as string[] } as { page: Page; context: BrowserContext; errors: string[]; requests: string[] };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) to run the browser tests.`);
    }
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    session.context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 900 } });
    session.context.setDefaultTimeout(E2E_TIMEOUT);
    session.page = await session.context.newPage();
    session.page.on("console", (message) => {
      if (message.type() === "error") session.errors.push(`${message.location().url}: ${message.text()}`);
    });
    session.page.on("pageerror", (error) => session.errors.push(error.message));
    session.page.on("request", (request) => session.requests.push(`${request.method()} ${request.url()}`));
  }, E2E_TIMEOUT * 2);

  afterAll(async () => {
    await browser?.close();
  });

  return session;
}
