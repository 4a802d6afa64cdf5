/** The app as a child process (app/server.ts through tsx, or the built bundle), as App Service runs it. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { HEALTH_CHECK_PATH } from "../contract/routes";
import { HostingSetting } from "../contract/settings";
import type { AppLauncher, LaunchedApp } from "./launched-app";

interface ChildAppOptions {
  /** Node's arguments: flags, then the entry file, e.g. `["--import", "tsx", "app/server.ts"]`. */
  readonly args: readonly string[];
  /** The port the app listens on (it must be known before the app starts: see {@link freePort}). */
  readonly port: number;
  /**
   * The environment to start from; the emulator's settings, PORT, HOST=127.0.0.1 and PUBLIC_BASE_URL
   * (http://localhost:PORT, the URL the app builds its redirect URI from) go on top. Defaults to PATH only.
   */
  readonly env?: NodeJS.ProcessEnv;
  /** Settings that go on top of the emulator's (e.g. a local Redis's, with its token relay as IDENTITY_ENDPOINT). */
  readonly overrides?: (emu: Parameters<AppLauncher<ChildApp>>[0]) => Promise<Record<string, string>>;
  readonly cwd?: string;
  /** Collects the app's stdout and stderr; without it the app writes to this process's. */
  readonly output?: string[];
  /** How long the app may take to answer its health check. Defaults to 20 s. */
  readonly readyTimeoutMs?: number;
}

export interface ChildApp extends LaunchedApp {
  /** Resolves with the exit code (null after a signal) when the app exits. */
  readonly exited: Promise<number | null>;
}

/** Runs the app as a child process with the emulator's settings and waits until its health check answers. */
export function childApp(options: ChildAppOptions): AppLauncher<ChildApp> {
  return async (emu) => {
    const url = `http://localhost:${options.port}`;
    // NODE_EXTRA_CA_CERTS (from appEnv) makes the child trust the emulator's self-signed certificate.
    const child = spawn(process.execPath, [...options.args], {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      env: {
        ...(options.env ?? { PATH: process.env.PATH ?? "" }),
        ...emu.appEnv(),
        ...(options.overrides ? await options.overrides(emu) : {}),
        PORT: String(options.port),
        HOST: "127.0.0.1",
        [HostingSetting.PublicBaseUrl]: url,
      },
      stdio: ["ignore", options.output ? "pipe" : "inherit", options.output ? "pipe" : "inherit"],
    });
    const output = options.output;
    if (output) {
      child.stdout!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
      child.stderr!.on("data", (chunk: Buffer) => output.push(chunk.toString("utf8")));
    }
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      await waitUntilHealthy(`${url}${HEALTH_CHECK_PATH}`, child, options);
    } catch (error) {
      await stop(child, exited);
      throw error;
    }
    return { url, exited, close: () => stop(child, exited) };
  };
}

/** A free loopback port, for an app whose redirect URI depends on its port before it starts. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitUntilHealthy(url: string, child: ChildProcess, options: ChildAppOptions): Promise<void> {
  const output = (): string => (options.output ? `:\n${options.output.join("")}` : "");
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the app exited with ${child.exitCode}${output()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the app did not become healthy at ${url}${output()}`);
}

/** SIGTERM (the app's graceful shutdown), then waits for the exit. */
async function stop(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  await exited;
}
