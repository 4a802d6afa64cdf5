/**
 * The harness of the integration tests: for the file, the app from createApp on 127.0.0.1:0 against the emulator,
 * both in this process (local/stack.ts wires them), with the app's JSON log lines captured.
 *
 * msal-node picks its managed-identity source and keeps its MI token cache once per process; vitest runs each test
 * file in its own process, so each file gets a fresh one.
 */
import { Writable } from "node:stream";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { EmulatorOptions, RunningEmulator } from "../../emulator";
import type { AppDeps } from "../../app/app";
import { inProcessApp, startLocalStack, type InProcessApp, type LocalStack } from "../../local/stack";
import { parseFormPost, UserAgent, type FormPost, type Page } from "../../local/user-agent";

export interface Stack {
  readonly emu: RunningEmulator;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
}

/**
 * Starts the emulator and the app before the file's first test and stops both after its last. The emulator's faults
 * are live switches: they are reset after each test, so one test cannot break the next.
 */
export function useStack(
  options: { emulator?: EmulatorOptions; deps?: AppDeps; settings?: Record<string, string> } = {},
): Stack {
  const logs: string[] = [];
  const logStream = logLines(logs);
  let running: LocalStack<InProcessApp> | undefined;
  const started = (): LocalStack<InProcessApp> => {
    if (!running) throw new Error("the stack is not running: use it inside a test");
    return running;
  };
  beforeAll(async () => {
    // jwksCooldownMs 0: the key-rotation test must see new keys at once.
    running = await startLocalStack(
      inProcessApp({ logStream, jwksCooldownMs: 0, ...options.deps }, options.settings),
      options.emulator,
    );
  });
  afterEach(() => {
    if (!running) return;
    running.emu.resetFaults();
  });
  afterAll(async () => {
    await running?.close();
  });
  return {
    get emu() {
      return started().emu;
    },
    get baseUrl() {
      return started().app.url;
    },
    logs,
  };
}

/** A stream that appends each log line written to it to `logs`. */
export function logLines(logs: string[]): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
}

/** Signs a fresh user agent in and returns it with the page it ended on. */
export async function signedInAgent(stack: Stack, path = "/signin"): Promise<{ ua: UserAgent; page: Page }> {
  const ua = new UserAgent();
  const page = await ua.navigate(`${stack.baseUrl}${path}`);
  return { ua, page };
}

/**
 * Starts a sign-in and stops at Entra's form_post page, returning what it would post. `seen` collects the code and
 * state (the log tests prove none of them is logged).
 */
export async function formPostFor(stack: Stack, ua: UserAgent, seen?: Set<string>): Promise<FormPost> {
  const page = await ua.navigate(`${stack.baseUrl}/signin`, { stopAtFormPost: true });
  const form = parseFormPost(page.body);
  if (!form) throw new Error(`expected Entra's form_post page, got HTTP ${page.status}: ${page.body.slice(0, 300)}`);
  if (form.fields.code) seen?.add(form.fields.code);
  if (form.fields.state) seen?.add(form.fields.state);
  return form;
}

/** GET /me as this user agent: the status and the JSON body. */
export async function me(stack: Stack, ua: UserAgent): Promise<{ status: number; body: Record<string, unknown> }> {
  const page = await ua.request(`${stack.baseUrl}/me`);
  return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown> };
}

/** The heading of the app's problem or message page. */
export function problemTitle(page: Page): string {
  return /<h1 id="problem-title">([^<]*)<\/h1>/.exec(page.body)?.[1] ?? "";
}

/** The fix the app's problem or message page gives. */
export function problemFix(page: Page): string {
  return /<p[^>]* id="problem-fix">([\s\S]*?)<\/p>/.exec(page.body)?.[1] ?? "";
}

/** The AADSTS code the app's problem page shows, if any. */
export function problemCode(page: Page): string | undefined {
  return /<dd id="problem-code">([^<]*)<\/dd>/.exec(page.body)?.[1];
}

/** Asserts the app's log is JSON lines with no JWT and none of the `seen` codes, states, cookies or CSRF tokens. */
export function expectCleanLogs(stack: Stack, seen: ReadonlySet<string>): void {
  expect(stack.logs.length).toBeGreaterThan(20);
  for (const line of stack.logs) expect(() => JSON.parse(line)).not.toThrow();
  const text = stack.logs.join("\n");
  expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  expect(seen.size).toBeGreaterThan(5);
  for (const secret of seen) expect(text).not.toContain(secret);
}
