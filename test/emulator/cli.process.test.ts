/**
 * `npx tsx emulator/cli.ts --app-url …` prints an environment an app can start from as it is: the emulator's
 * settings plus where the app is served (PUBLIC_BASE_URL, PORT, HOST).
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../app/app-config";
import { REPO } from "../support/repo";

const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");

/** Runs the CLI until it prints "Press Ctrl+C" (or exits), then stops it; returns its output and exit code. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const child = spawn(process.execPath, [TSX, "emulator/cli.ts", ...args], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
    if (stdout.includes("Press Ctrl+C")) child.kill("SIGTERM");
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  return { stdout, stderr, code };
}

/** The `export NAME='value'` lines as an environment. */
function exported(stdout: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [, name, value] of stdout.matchAll(/^export ([\w:]+)='((?:[^']|'\\'')*)'$/gm)) {
    env[name!] = value!.replace(/'\\''/g, "'");
  }
  return env;
}

describe("emulator/cli.ts", () => {
  it("prints an app environment with PUBLIC_BASE_URL, PORT and HOST that the app's configuration accepts", async () => {
    const { stdout, stderr } = await cli("--app-url", "http://localhost:4123/");
    const env = exported(stdout);
    expect(env, stderr).toMatchObject({ PUBLIC_BASE_URL: "http://localhost:4123", PORT: "4123", HOST: "127.0.0.1" });
    const config = loadConfig(env);
    expect(config.publicOrigins).toEqual(["http://localhost:4123"]);
    expect(config.port).toBe(4123);
    expect(stdout).toContain("redirect URI      http://localhost:4123/signin-oidc");
  });

  it("refuses an --app-url that is not an origin, naming the option", async () => {
    const { stderr, code } = await cli("--app-url", "localhost:3000/app");
    expect(code).toBe(1);
    expect(stderr).toContain('--app-url "localhost:3000/app" must be an origin such as http://localhost:3000');
  });
});
