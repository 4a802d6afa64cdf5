/**
 * Starts the emulator and the app in this process for integration tests: the app from createApp on 127.0.0.1:0,
 * the emulator's certificate trusted in-process, and its redirect URI registered once the app's port is known.
 *
 * msal-node picks its managed-identity source once per process from IDENTITY_ENDPOINT/IDENTITY_HEADER, so they are
 * set here before the app makes its first MI call; vitest runs each test file in its own process.
 */
import { Writable } from "node:stream";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { startEmulator, type EmulatorOptions, type RunningEmulator } from "../../../emulator";
import { trustEmulatorCertificate } from "../../../emulator/testing";
import { createApp, type AppDeps } from "../../../app/app";
import { loadConfig, type AppConfig } from "../../../app/config";
import { UserAgent, type Page } from "./user-agent";

export interface Stack {
  readonly emu: RunningEmulator;
  readonly app: FastifyInstance;
  readonly config: AppConfig;
  /** http://127.0.0.1:<port> */
  readonly baseUrl: string;
  /** Every JSON log line the app wrote. */
  readonly logs: string[];
  close(): Promise<void>;
}

export async function startStack(options: { emulator?: EmulatorOptions; deps?: AppDeps } = {}): Promise<Stack> {
  const emu = await startEmulator(options.emulator);
  trustEmulatorCertificate(emu);
  const env = emu.appEnv();
  process.env.IDENTITY_ENDPOINT = env.IDENTITY_ENDPOINT;
  process.env.IDENTITY_HEADER = env.IDENTITY_HEADER;

  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  const config = loadConfig(env);
  // jwksCooldownMs 0: the key-rotation test must see new keys at once.
  const app = createApp(config, { logStream, jwksCooldownMs: 0, ...options.deps });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  emu.setRedirectUris([`${baseUrl}${config.callbackPath}`]);

  return {
    emu,
    app,
    config,
    baseUrl,
    logs,
    async close() {
      await app.close();
      await emu.close();
    },
  };
}

/** Signs a fresh user agent in and returns it with the page it ended on. */
export async function signedInAgent(stack: Stack, path = "/signin"): Promise<{ ua: UserAgent; page: Page }> {
  const ua = new UserAgent();
  const page = await ua.navigate(`${stack.baseUrl}${path}`);
  return { ua, page };
}
