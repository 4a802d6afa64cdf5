/** The benchmark's figures, each against its target (issue 9), as a table and as one JSON line. */

export interface Figures {
  requireFloorMs: number;
  requireFloorRssMb: number;
  programEvalMs: number;
  programEvalRssMb: number;
  programEvalDefaultPathMs: number | null;
  programEvalRootImportMs: number;
  tscMs: number | null;
  tscRssMb: number | null;
  unitSuiteMs: number | null;
  fullSuiteMs: number | null;
  bundleBytes: number;
  zipBytes: number;
  coldStartMs: number;
  coldStartUnbundledMs: number;
  signinP50Ms: number;
  signinP99Ms: number;
  pageRps: number;
  /** The same page with the sessions in a local Redis; null when redis-server is not installed. */
  pageRpsRedis: number | null;
  /** The same page from an instance with telemetry on (exporting to the emulator's ingestion stand-in). */
  pageRpsTelemetry: number;
  helloRps: number;
  dagDepth: number;
}

/** One target: a bound on a figure, possibly relative to a baseline measured in the same run. */
export interface Check {
  readonly figure: keyof Figures;
  readonly target: string;
  /** null when a figure it needs was not measured (quick mode). */
  readonly met: boolean | null;
}

const MB = 1_000_000;

export function checks(f: Figures): Check[] {
  const bound = (
    figure: keyof Figures,
    target: string,
    ok: (v: number) => boolean,
    needs: (number | null)[] = [],
  ): Check => {
    const value = f[figure];
    const measured = value !== null && needs.every((n) => n !== null);
    return { figure, target, met: measured ? ok(value as number) : null };
  };
  return [
    bound("programEvalMs", "≤ 1.3 × requireFloorMs", (v) => v <= 1.3 * f.requireFloorMs),
    bound("programEvalMs", "≤ programEvalDefaultPathMs / 3", (v) => v <= f.programEvalDefaultPathMs! / 3, [
      f.programEvalDefaultPathMs,
    ]),
    bound("programEvalRssMb", "≤ 250", (v) => v <= 250),
    bound("unitSuiteMs", "≤ 10 000", (v) => v <= 10_000),
    bound("fullSuiteMs", "≤ 90 000", (v) => v <= 90_000),
    bound("bundleBytes", "≤ 1.5 MB", (v) => v <= 1.5 * MB),
    bound("coldStartMs", "≤ 300", (v) => v <= 300),
    bound("coldStartMs", "≤ coldStartUnbundledMs / 3", (v) => v <= f.coldStartUnbundledMs / 3),
    bound("signinP50Ms", "≤ 30", (v) => v <= 30),
    bound("pageRps", "≥ 0.5 × helloRps", (v) => v >= 0.5 * f.helloRps),
    bound("pageRpsTelemetry", "≥ 0.8 × pageRps", (v) => v >= 0.8 * f.pageRps),
    bound("dagDepth", "≤ 4", (v) => v <= 4),
  ];
}

/** What the target column says of a figure without a target, and why it can be missing. */
const NOTES: Partial<Record<keyof Figures, { target: string; unmeasured: string }>> = {
  pageRpsRedis: {
    target: "(context: Redis store; target compares memory)",
    unmeasured: "not measured (no redis-server)",
  },
};

const UNITS: [RegExp, string][] = [
  [/Ms$/, "ms"],
  [/Mb$/, "MB"],
  [/Bytes$/, "bytes"],
  [/Rps(Redis|Telemetry)?$/, "req/s"],
];

function show(name: string, value: number | null): string {
  if (value === null) return NOTES[name as keyof Figures]?.unmeasured ?? "not measured";
  const unit = UNITS.find(([re]) => re.test(name))?.[1] ?? "";
  const digits = unit === "MB" ? 1 : 0;
  return (
    `${value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })} ` + `${unit}`
  ).trim();
}

/** The figures as a table: figure, value, and each target with ✓ / ✗ (– when not measured). */
export function table(f: Figures, extra: Record<string, number | null> = {}): string {
  const byFigure = new Map<string, Check[]>();
  for (const c of checks(f)) byFigure.set(c.figure, [...(byFigure.get(c.figure) ?? []), c]);
  const rows: string[][] = [["figure", "value", "target"]];
  for (const [name, value] of Object.entries(f) as [keyof Figures, number | null][]) {
    const mark = (met: boolean | null): string => (met === null ? "–" : met ? "✓" : "✗");
    const targets = (byFigure.get(name) ?? []).map((c) => `${mark(c.met)} ${c.target}`);
    rows.push([name, show(name, value), targets.join("; ") || (NOTES[name]?.target ?? "")]);
  }
  for (const [name, value] of Object.entries(extra)) rows.push([name, show(name, value), "(context)"]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r[0]!.padEnd(widths[0]!)} | ${r[1]!.padStart(widths[1]!)} | ${r[2]} |`;
  return [
    line(rows[0]!),
    `|${"-".repeat(widths[0]! + 2)}|${"-".repeat(widths[1]! + 1)}:|---|`,
    ...rows.slice(1).map(line),
  ].join("\n");
}
