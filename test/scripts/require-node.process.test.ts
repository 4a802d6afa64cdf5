import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

const SCRIPT = join(REPO, "scripts", "require-node.cjs");
const preflight = createRequire(__filename)(SCRIPT) as {
  isSupported(version: string): boolean;
};
const run = promisify(execFile);

/** The exit code and output of the preflight under `node`, from the repository root. */
async function preflightUnder(node: string, ...args: string[]): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(node, [SCRIPT, ...args], { cwd: REPO });
    return { code: 0, stderr };
  } catch (error) {
    const e = error as { code: number; stderr: string };
    return { code: e.code, stderr: e.stderr };
  }
}

describe("the Node preflight (scripts/require-node.cjs)", () => {
  it("passes silently on this Node", async () => {
    expect(await preflightUnder(process.execPath)).toEqual({ code: 0, stderr: "" });
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
