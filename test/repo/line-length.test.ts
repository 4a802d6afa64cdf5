import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

// Biome formats code to 120 columns but leaves strings, comments, YAML and shell alone: this holds them to it too.
const REPO = join(__dirname, "..", "..");
const LIMIT = 120;
const CHECKED = /\.(ts|mts|cts|js|cjs|mjs|sh|yml|yaml|css)$/;
const SKIPPED = new Set([
  "node_modules",
  ".git",
  "dist",
  "bin",
  "test-results",
  ".tools",
  ".bench",
  ".pulumi-state",
  ".local-dev",
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return CHECKED.test(entry.name) ? [path] : [];
  });
}

describe("line length", () => {
  it(`keeps every line of code, YAML, shell and CSS within ${LIMIT} characters`, () => {
    const long = sourceFiles(REPO).flatMap((file) =>
      readFileSync(file, "utf8")
        .split("\n")
        .flatMap((line, i) => ([...line].length > LIMIT ? [`${relative(REPO, file)}:${i + 1}`] : [])),
    );
    expect(long).toEqual([]);
  });

  it("finds the files it checks (a wrong root would pass vacuously)", () => {
    const files = sourceFiles(REPO).map((file) => relative(REPO, file));
    expect(files).toContain("index.ts");
    expect(files).toContain("Pulumi.yaml");
    expect(files.some((f) => f.startsWith("node_modules"))).toBe(false);
  });
});
