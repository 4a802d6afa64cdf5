import { describe, expect, it } from "vitest";
import { checks, table, type Figures } from "../../bench/report";

const figures: Figures = {
  requireFloorMs: 400,
  requireFloorRssMb: 110,
  programEvalMs: 500,
  programEvalRssMb: 150,
  programEvalDefaultPathMs: null,
  programEvalRootImportMs: 700,
  tscMs: null,
  tscRssMb: null,
  unitSuiteMs: null,
  fullSuiteMs: null,
  bundleBytes: 1_000_000,
  zipBytes: 300_000,
  coldStartMs: 200,
  coldStartUnbundledMs: 300,
  signinP50Ms: 15,
  signinP99Ms: 20,
  pageRps: 6_000,
  pageRpsRedis: 2_500,
  pageRpsTelemetry: 5_100,
  helloRps: 40_000,
  dagDepth: 6,
};

const row = (text: string, name: string): string | undefined =>
  text.split("\n").find((line) => line.startsWith(`| ${name} `));

describe("the bench table's Redis-store page figure", () => {
  it("shows the Redis store's req/s beside the memory store's, as context the target does not use", () => {
    const line = row(table(figures), "pageRpsRedis");
    expect(line).toMatch(/\|\s+2,500 req\/s \| \(context: Redis store; target compares memory\) \|$/);
    expect(checks(figures).some((c) => c.figure === "pageRpsRedis")).toBe(false);
  });

  it("says why it is missing when no redis-server is installed", () => {
    expect(row(table({ ...figures, pageRpsRedis: null }), "pageRpsRedis")).toMatch(
      /not measured \(no redis-server\) \|/,
    );
  });
});

describe("the bench table's telemetry page figure", () => {
  it("shows the telemetry-on req/s in req/s against 0.8 × the telemetry-off page of the same run", () => {
    expect(row(table(figures), "pageRpsTelemetry")).toMatch(/\|\s+5,100 req\/s \| ✓ ≥ 0\.8 × pageRps \|$/);
    expect(row(table({ ...figures, pageRpsTelemetry: 4_000 }), "pageRpsTelemetry")).toMatch(/✗ ≥ 0\.8 × pageRps/);
  });
});
