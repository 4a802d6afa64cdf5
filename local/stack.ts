/**
 * The sample app against the local Entra + managed-identity emulator: one wiring for `npm run dev`
 * (scripts/dev.ts), the browser tests (test/e2e) and the HTTP integration tests (test/app). It uses only the
 * emulator's public API.
 *
 * The app runs either in this process ({@link inProcessApp}) or as a child process ({@link childApp}). Once it
 * listens, the emulator registers its redirect URI and front-channel logout URL, as the stack does for a deployed app.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { appRegistrationFor, startEmulator, type EmulatorOptions, type RunningEmulator } from "../emulator";
import { trustEmulatorCertificate } from "../emulator/trust-certificate";
import { createApp, type AppDeps } from "../app/app";
import { loadConfig } from "../app/app-config";
import { HostingSetting } from "../contract/settings";
import { freePort } from "./child-app";
import type { AppLauncher, LaunchedApp } from "./launched-app";

export type { AppLauncher, LaunchedApp } from "./launched-app";

export interface LocalStack<A extends LaunchedApp> {
  readonly emu: RunningEmulator;
  readonly app: A;
  /** Stops the app, then the emulator. */
  close(): Promise<void>;
}

/** Starts the emulator, then the app with the emulator's settings, then registers the app's URLs with the emulator. */
export async function startLocalStack<A extends LaunchedApp>(
  launch: AppLauncher<A>,
  emulator: EmulatorOptions = {},
): Promise<LocalStack<A>> {
  const emu = await startEmulator(emulator);
  let app: A;
  try {
    app = await launch(emu);
  } catch (error) {
    await emu.close();
    throw error;
  }
  // The registration is live: the emulator accepts the app's redirect URI from now on.
  Object.assign(emu.registration, appRegistrationFor(app.url));
  return {
    emu,
    app,
    async close() {
      await app.close();
      await emu.close();
    },
  };
}

/** The app from createApp in this process, listening on a free 127.0.0.1 port. */
export interface InProcessApp extends LaunchedApp {
  readonly fastify: FastifyInstance;
}

/**
 * Runs the app in this process: trusts the emulator's certificate here and points msal-node at the emulator's
 * managed-identity endpoint. msal-node picks that source once per process, so use one emulator per process.
 * `settings` are app settings that replace or join the emulator's (e.g. another Graph scope).
 */
export function inProcessApp(deps: AppDeps = {}, settings: Record<string, string> = {}): AppLauncher<InProcessApp> {
  return async (emu) => {
    trustEmulatorCertificate(emu);
    const env = { ...emu.appEnv(), ...settings };
    process.env.IDENTITY_ENDPOINT = env.IDENTITY_ENDPOINT;
    process.env.IDENTITY_HEADER = env.IDENTITY_HEADER;
    // The app builds its URLs from PUBLIC_BASE_URL, so the port is chosen before the app starts.
    const url = `http://127.0.0.1:${await freePort()}`;
    const fastify = createApp(loadConfig({ ...env, [HostingSetting.PublicBaseUrl]: url }), deps);
    await fastify.listen({ host: "127.0.0.1", port: Number(new URL(url).port) });
    return {
      fastify,
      url: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`,
      close: () => fastify.close(),
    };
  };
}
