/**
 * `npm run bench`: measures the program, the developer loop and the deployed app, each against a baseline measured
 * in the same run (the machines are shared: read the ratios), and prints a table of every figure against its target.
 * `npm run bench -- --json` prints the same figures as one JSON object on the last line; `--quick` measures once
 * each and skips the slow figures (Pulumi's default path, tsc, the suites), to try the bench itself.
 *
 * Medians over several runs; ms, MB (2^20 bytes), bytes. Servers listen on 127.0.0.1 only. Scratch files go to
 * .bench/ (git-ignored) and are removed at the end.
 */
import { rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { measureColdStart, measurePackage, measureServing } from "./app";
import { WORK } from "./measure";
import { measureProgram } from "./program";
import { checks, table, type Figures } from "./report";
import { measureFullSuite, measureTsc, measureUnitSuite } from "./suites";

const json = process.argv.includes("--json");
const quick = process.argv.includes("--quick");
// Full runs take 50 timed sign-ins after 3 warm-ups: the app allows 60 /signin requests a minute per client address.
const plan = quick
  ? {
      evals: 1,
      defaultPath: 0,
      packages: 1,
      coldStarts: 1,
      signins: 5,
      rounds: 1,
      seconds: 1,
      tsc: 0,
      unit: 0,
      full: false,
    }
  : {
      evals: 5,
      defaultPath: 3,
      packages: 3,
      coldStarts: 7,
      signins: 50,
      rounds: 2,
      seconds: 5,
      tsc: 2,
      unit: 2,
      full: true,
    };

function progress(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

function rounded(value: number | null, name: string): number | null {
  if (value === null) return null;
  return /Bytes$|Rps(Redis)?$|Depth$/.test(name) ? Math.round(value) : Math.round(value * 10) / 10;
}

async function main(): Promise<void> {
  const started = performance.now();
  const machine =
    `${cpus().length} CPUs (${cpus()[0]?.model ?? "unknown"}), ${(totalmem() / 2 ** 30).toFixed(1)} ` +
    `GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
  progress(`${machine}; ${quick ? "quick" : "full"} run`);
  try {
    progress("program: floor, evaluation (our path warm and cold, root import, Pulumi's default path)");
    const program = await measureProgram(plan.evals, plan.defaultPath);
    progress("package: packageApp() rebuilt and cached");
    const pkg = await measurePackage(plan.packages);
    progress("app: cold starts, packaged and from sources");
    const cold = await measureColdStart(`${pkg.dir}/server.js`, plan.coldStarts);
    progress("app: sign-ins and throughput against the emulator, sessions in memory and in a local Redis");
    const serve = await measureServing(`${pkg.dir}/server.js`, plan.signins, plan.rounds, plan.seconds);
    progress("developer loop: tsc, the unit tier, npm test");
    const tsc = plan.tsc ? await measureTsc(plan.tsc) : { tscMs: null, tscRssMb: null };
    const unitSuiteMs = plan.unit ? await measureUnitSuite(plan.unit) : null;
    const fullSuiteMs = plan.full ? await measureFullSuite() : null;

    const figures: Figures = {
      requireFloorMs: program.requireFloorMs,
      requireFloorRssMb: program.requireFloorRssMb,
      programEvalMs: program.programEvalMs,
      programEvalRssMb: program.programEvalRssMb,
      programEvalDefaultPathMs: plan.defaultPath ? program.programEvalDefaultPathMs : null,
      programEvalRootImportMs: program.programEvalRootImportMs,
      ...tsc,
      unitSuiteMs,
      fullSuiteMs,
      bundleBytes: pkg.bundleBytes,
      zipBytes: pkg.zipBytes,
      coldStartMs: cold.coldStartMs,
      coldStartUnbundledMs: cold.coldStartUnbundledMs,
      signinP50Ms: serve.signinP50Ms,
      signinP99Ms: serve.signinP99Ms,
      pageRps: serve.pageRps,
      pageRpsRedis: serve.pageRpsRedis,
      pageRpsTelemetry: serve.pageRpsTelemetry,
      helloRps: serve.helloRps,
      dagDepth: program.dagDepth,
    };
    const context = {
      requireFloorCachedMs: program.requireFloorCachedMs,
      programEvalColdMs: program.programEvalColdMs,
      programEvalDefaultPathRssMb: plan.defaultPath ? program.programEvalDefaultPathRssMb : null,
      fastifyRps: serve.fastifyRps,
      fastifyHelmetLogsRps: serve.fastifyHelmetLogsRps,
      packageCachedMs: pkg.packageCachedMs,
      packageRebuildMs: pkg.packageRebuildMs,
      resources: program.resources,
    };
    const benchMs = performance.now() - started;
    const out = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, rounded(v, k)])) as Record<
      string,
      number | null
    >;
    const result = {
      ...out,
      context: {
        ...Object.fromEntries(Object.entries(context).map(([k, v]) => [k, rounded(v, k)])),
        dagChain: program.dagChain,
      },
      checks: checks(figures),
      machine,
      mode: quick ? "quick" : "full",
      benchMs: Math.round(benchMs),
    };
    console.log(table(figures, { ...context, benchMs }));
    console.log(`\nLongest creation chain (dagDepth): ${program.dagChain.join(" → ")}`);
    console.log(`${machine}. ${quick ? "Quick" : "Full"} run in ${(benchMs / 1000).toFixed(0)} s.`);
    const missed = result.checks.filter((c) => c.met === false);
    console.log(
      missed.length
        ? `Missed: ${missed.map((c) => `${c.figure} ${c.target}`).join(", ")}`
        : "Every measured target is met.",
    );
    if (json) console.log(JSON.stringify(result));
  } finally {
    rmSync(WORK, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
