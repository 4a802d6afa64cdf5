/**
 * Shared wiring for the browser tests: the built app (dist/app/server.js) in a child process against the emulator,
 * and headless Debian Chromium driven by playwright-core.
 */
import { existsSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { EmulatorOptions, RunningEmulator } from "../../emulator";
import { childApp, freePort, type ChildApp } from "../../local/child-app";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { buildApp } from "../../deploy/build-app";

/** One timeout for every browser step. */
export const E2E_TIMEOUT = 20_000;

const CHROMIUM_PATH = "/usr/bin/chromium";

interface BuiltStack {
  readonly emu: RunningEmulator;
  /** http://localhost:<port>, the URL a developer opens. */
  readonly appUrl: string;
  /** Everything the app wrote to stdout/stderr. */
  readonly appOutput: string[];
}

/**
 * Builds the bundle and, for the file, runs `node dist/app/server.js` against the emulator (local/stack.ts wires
 * them, `emulator` sets the emulator up); stops both after the last test.
 */
export function useBuiltStack(emulator: EmulatorOptions = {}): BuiltStack {
  const appOutput: string[] = [];
  let running: LocalStack<ChildApp> | undefined;
  const started = (): LocalStack<ChildApp> => {
    if (!running) throw new Error("the stack is not running: use it inside a test");
    return running;
  };
  beforeAll(async () => {
    const server = await buildApp();
    // The port must be known before the app starts: its redirect URI names it.
    running = await startLocalStack(
      childApp({ args: [server], port: await freePort(), output: appOutput, readyTimeoutMs: E2E_TIMEOUT }),
      emulator,
    );
  }, E2E_TIMEOUT * 2);
  afterAll(async () => {
    await running?.close();
  });
  return {
    get emu() {
      return started().emu;
    },
    get appUrl() {
      return started().app.url;
    },
    appOutput,
  };
}

interface BrowserSession {
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
  const session = { errors: [] as string[], requests: [] as string[] } as {
    page: Page;
    context: BrowserContext;
    errors: string[];
    requests: string[];
  };

  beforeAll(async () => {
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM_PATH}: install it (apt-get install chromium) to run the browser tests.`,
      );
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
