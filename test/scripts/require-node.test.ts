import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createRequire } from "node:module";
import { join } from "node:path";
import { satisfies } from "semver";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

const SCRIPT = join(REPO, "scripts", "require-node.cjs");
const preflight = createRequire(__filename)(SCRIPT) as {
  RANGE: string;
  isSupported(version: string): boolean;
  tooOldMessage(version: string): string;
  missingDependencies(root: string): string | undefined;
  portProblem(env: Record<string, string | undefined>): string | undefined;
};
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  engines: { node: string };
  scripts: Record<string, string>;
};

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

  it("names the version found, the version needed and how to get it", () => {
    const message = preflight.tooOldMessage("v20.19.2");
    expect(message).toContain("this is Node v20.19.2");
    expect(message).toContain("needs Node.js ^22.19.0 || ^24.5.0 || >=26.0.0");
    expect(message).toMatch(/nvm install 22/);
    expect(message).toContain("https://nodejs.org/en/download");
  });
});

describe("the preflight's other checks, for a new user", () => {
  it("names npm ci when the dependencies are not installed, and is silent when they are", () => {
    const empty = mkdtempSync(join(tmpdir(), "no-deps-"));
    try {
      const message = preflight.missingDependencies(empty);
      expect(message).toMatch(
        /dependencies are not installed \(missing node_modules\/esbuild\/package\.json, node_modules\/\.bin\/tsx/,
      );
      expect(message).toContain("Run `npm ci`");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    expect(preflight.missingDependencies(REPO)).toBeUndefined();
  });

  it.each(["abc", "0", "65536", "3000.5", "-1", " 80"])("names PORT=%j and the fix", (port) => {
    expect(preflight.portProblem({ PORT: port })).toMatch(
      /^PORT=".*" is not a TCP port: set PORT to a whole number from 1 to 65535/,
    );
  });

  it.each([undefined, "", "3000", "65535"])("accepts PORT=%j", (port) => {
    expect(preflight.portProblem({ PORT: port })).toBeUndefined();
  });
});
