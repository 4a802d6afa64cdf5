/**
 * The harness of the integration tests: for the file, the app from createApp on 127.0.0.1:0 against the emulator,
 * both in this process (local/stack.ts wires them), with the app's JSON log lines captured.
 *
 * msal-node picks its managed-identity source and keeps its MI token cache once per process; vitest runs each test
 * file in its own process, so each file gets a fresh one.
 */
import { Writable } from "node:stream";
import { afterAll, beforeAll } from "vitest";
import type { EmulatorOptions, RunningEmulator } from "../../../emulator";
import type { AppDeps } from "../../../app/app";
import { inProcessApp, startLocalStack, type InProcessApp, type LocalStack } from "../../../local/stack";
import { UserAgent, type Page } from "./user-agent";

export interface Stack {
  readonly emu: RunningEmulator;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
}

/** Starts the emulator and the app before the file's first test and stops both after its last. */
export function useStack(options: { emulator?: EmulatorOptions; deps?: AppDeps } = {}): Stack {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  let running: LocalStack<InProcessApp> | undefined;
  const started = (): LocalStack<InProcessApp> => {
    if (!running) throw new Error("the stack is not running: use it inside a test");
    return running;
  };
  beforeAll(async () => {
    // jwksCooldownMs 0: the key-rotation test must see new keys at once.
    running = await startLocalStack(inProcessApp({ logStream, jwksCooldownMs: 0, ...options.deps }), options.emulator);
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

/** Signs a fresh user agent in and returns it with the page it ended on. */
export async function signedInAgent(stack: Stack, path = "/signin"): Promise<{ ua: UserAgent; page: Page }> {
  const ua = new UserAgent();
  const page = await ua.navigate(`${stack.baseUrl}${path}`);
  return { ua, page };
}
