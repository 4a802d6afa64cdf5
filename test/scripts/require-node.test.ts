import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";

const ROOT = join(__dirname, "..", "..");
const SCRIPT = join(ROOT, "scripts", "require-node.cjs");
const preflight = createRequire(__filename)(SCRIPT) as {
  RANGE: string;
  isSupported(version: string): boolean;
  tooOldMessage(version: string): string;
};
const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { engines: { node: string }; scripts: Record<string, string> };
const run = promisify(execFile);

/** The exit code and output of the preflight under `node`, from the repository root. */
async function preflightUnder(node: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(node, [SCRIPT, ...args], { cwd: ROOT });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe("the Node preflight (scripts/require-node.cjs)", () => {
  it("checks the same range package.json's engines declares", () => {
    expect(pkg.engines.node).toBe(preflight.RANGE);
  });

  // tls.setDefaultCACertificates (the emulator's tests) landed in 22.19.0 and 24.5.0; vitest skips 23 and 25.
  it.each([
    ["20.19.2", false],
    ["22.12.0", false],
    ["22.18.1", false],
    ["22.19.0", true],
    ["22.23.3", true],
    ["23.11.0", false],
    ["24.4.1", false],
    ["24.5.0", true],
    ["25.2.0", false],
    ["26.0.0", true],
    ["v27.1.0", true],
  ])("judges Node %s supported: %s, as npm's semver reads the range", (version, supported) => {
    expect(preflight.isSupported(version)).toBe(supported);
    expect(satisfies(version, pkg.engines.node)).toBe(supported);
  });

  it("runs first in every npm script", () => {
    for (const [name, command] of Object.entries(pkg.scripts)) {
      expect(command, `npm run ${name}`).toMatch(/^node scripts\/require-node\.cjs( --built \S+)? && /);
    }
  });

  it("passes silently on this Node", async () => {
    expect(await preflightUnder(process.execPath)).toEqual({ code: 0, stderr: "" });
  });

  it("names the version found, the version needed and how to get it", () => {
    const message = preflight.tooOldMessage("v20.19.2");
    expect(message).toContain("this is Node v20.19.2");
    expect(message).toContain("needs Node.js ^22.19.0 || ^24.5.0 || >=26.0.0");
    expect(message).toMatch(/nvm install 22/);
    expect(message).toContain("https://nodejs.org/en/download");
  });

  // The machine's own Node (20 here) is what a new user often has: the preflight must run, and explain, under it.
  const systemNode = ["/usr/bin/node", "/usr/local/bin/node"].find(existsSync);
  it.runIf(systemNode !== undefined)("stops an older system Node with that message and exit code 1", async () => {
    const { stdout } = await run(systemNode!, ["--version"]);
    if (preflight.isSupported(stdout.trim())) return; // the system Node is new enough: nothing to refuse
    const { code, stderr } = await preflightUnder(systemNode!);
    expect(code).toBe(1);
    expect(stderr).toContain(`this is Node ${stdout.trim()}.`);
    expect(stderr).toMatch(/nvm install 22/);
  });

  it("with --built, says to run npm run app:build when the bundle is missing", async () => {
    const { code, stderr } = await preflightUnder(process.execPath, "--built", "dist/no-such-bundle/server.js");
    expect(code).toBe(1);
    expect(stderr).toContain("dist/no-such-bundle/server.js does not exist yet: run `npm run app:build` first");
  });
});
