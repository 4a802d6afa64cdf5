import { spawn } from "node:child_process";
import { createServer, type AddressInfo, type Server } from "node:net";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { freePort } from "../../local/child-app";
import { REPO } from "../support/repo";

const TSX = join(REPO, "node_modules/tsx/dist/cli.mjs");
const STATE_DIR = mkdtempSync(join(tmpdir(), "dev-state-"));

/** `npm run dev` on `port`; resolves once `until` matches its stdout (or it exits), and stops it afterwards. */
function dev(port: number, stateDir = STATE_DIR) {
  const child = spawn(process.execPath, [TSX, "scripts/dev.ts"], {
    cwd: REPO,
    // The emulator's kept certificate goes to a temporary folder, not the repository's .local-dev/.
    env: { PATH: process.env.PATH ?? "", PORT: String(port), LOG_LEVEL: "warn", LOCAL_DEV_DIR: stateDir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    output: () => ({ stdout, stderr }),
    exited,
    /** Resolves with stdout once it matches `pattern`, or undefined when the process exits first. */
    async waitFor(pattern: RegExp): Promise<string | undefined> {
      while (child.exitCode === null && !pattern.test(stdout)) await new Promise((r) => setTimeout(r, 50));
      return pattern.test(stdout) ? stdout : undefined;
    },
    async stop(): Promise<void> {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

describe("npm run dev", () => {
  it("says the port is taken and how to pick another, when something already listens on it", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const { port } = blocker.address() as AddressInfo;
    const run = dev(port);
    try {
      expect(await run.exited).toBe(1);
      expect(run.output().stderr).toContain(`Port ${port} is already in use`);
      expect(run.output().stderr).toContain(`PORT=${port + 1} npm run dev`);
      expect(run.output().stdout).not.toMatch(/Open http/);
    } finally {
      await run.stop();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("prints the sign-in banner only when the app already answers", async () => {
    const port = await freePort();
    const run = dev(port);
    try {
      const stdout = await run.waitFor(/Open (http:\/\/localhost:\d+)\/ and sign in/);
      expect(stdout, run.output().stderr).toBeDefined();
      const url = /Open (http:\/\/localhost:\d+)\//.exec(stdout!)![1]!;
      expect(url).toBe(`http://localhost:${port}`);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(stdout).toMatch(/^Entra emulator {3}https:\/\/localhost:\d+/m);
    } finally {
      await run.stop();
    }
  });

  it(
    "keeps the emulator's certificate and port for the next run, so " + "only the first run has a warning to accept",
    async () => {
      const dir = mkdtempSync(join(tmpdir(), "dev-state-twice-"));
      const banner = /Open (http:\/\/localhost:\d+)\/ and sign in/;
      const firstRun = dev(await freePort(), dir);
      let first: string | undefined;
      try {
        first = await firstRun.waitFor(banner);
        expect(first, firstRun.output().stderr).toBeDefined();
        expect(first).toContain("The browser will warn once about https://localhost:");
      } finally {
        await firstRun.stop();
      }
      const port = await freePort();
      const secondRun = dev(port, dir);
      try {
        const second = await secondRun.waitFor(banner);
        expect(second, secondRun.output().stderr).toBeDefined();
        const emulator = (out: string) => /^Entra emulator {3}(https:\/\/localhost:\d+)/m.exec(out)![1];
        expect(emulator(second!)).toBe(emulator(first!));
        expect(second).not.toContain("The browser will warn");
        expect(readFileSync(join(dir, "emulator-cert.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
        expect(statSync(join(dir, "emulator-key.pem")).mode & 0o077).toBe(0);
        // 127.0.0.1 is the same app: it leads to the configured http://localhost origin instead of an error page.
        const viaIp = await fetch(`http://127.0.0.1:${port}/me?x=1`, { redirect: "manual" });
        expect(viaIp.status).toBe(307);
        expect(viaIp.headers.get("location")).toBe(`http://localhost:${port}/me?x=1`);
      } finally {
        await secondRun.stop();
      }
    },
  );
});
