import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

/**
 * `npm run pulumi -- …` (scripts/pulumi.sh) and `npm run up` run the Pulumi CLI on the same state and passphrase, in
 * any shell: a fake `pulumi` first on PATH prints what it was given.
 */

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "pulumi-wrapper-"));
  mkdirSync(join(dir, "bin"));
  writeFileSync(
    join(dir, "bin", "pulumi"),
    '#!/bin/sh\necho "args=$*"\necho "backend=$PULUMI_BACKEND_URL"\n' +
      'echo "passphrase=${PULUMI_CONFIG_PASSPHRASE-unset}"\n',
  );
  chmodSync(join(dir, "bin", "pulumi"), 0o755);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string> = {}) {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("PULUMI_"))) as Record<
    string,
    string
  >;
  return spawnSync("bash", ["scripts/pulumi.sh", ...args], {
    cwd: REPO,
    env: { ...base, PATH: `${join(dir, "bin")}:${process.env.PATH}`, ...env },
    encoding: "utf8",
  });
}

describe("npm run pulumi", () => {
  it("runs pulumi on the local state folder npm run up uses, with the empty passphrase, from a fresh shell", () => {
    const result = run(["config", "set", "location", "westeurope"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("args=config set location westeurope");
    expect(result.stdout).toContain(`backend=file://${REPO}/.pulumi-state`);
    expect(result.stdout).toContain("passphrase=\n");
  });

  it("keeps a backend and passphrase the caller set (CI, a team backend)", () => {
    const result = run(["stack", "output"], { PULUMI_BACKEND_URL: "azblob://state", PULUMI_CONFIG_PASSPHRASE: "x" });
    expect(result.stdout).toContain("backend=azblob://state");
    expect(result.stdout).toContain("passphrase=x");
  });

  it("says how to install the Pulumi CLI when it is missing", () => {
    const env = { PATH: "/usr/bin:/bin" };
    const result = spawnSync("bash", ["scripts/pulumi.sh", "stack", "ls"], { cwd: REPO, env, encoding: "utf8" });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("The Pulumi CLI is missing: install it");
  });
});
