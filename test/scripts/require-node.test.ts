import { readFileSync } from "node:fs";
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
};
const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string }; scripts: Record<string, string> };

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
