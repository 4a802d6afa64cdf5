/**
 * The program's figures: loading @pulumi/pulumi alone (the floor), evaluating the real program through the language
 * host's `run()` under the mocks the way `pulumi up` runs it, on Pulumi's default ts-node path, and with root
 * `@pulumi/azure-native` imports; and the longest chain of dependent creations.
 */
import { cpSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { readRuntimeOptions, type RuntimeOptions } from "../offline/language-host";
import { ROOT, WORK, median, scratch, timedNode, type Timed } from "./measure";

const HOST_CHILD = join(WORK, "host-child.cjs");

/** Bundles the mocks' glue (bench/host-child.ts) so that the timed process compiles nothing of it. */
export async function buildHostChild(): Promise<void> {
  // Bundled into .bench/, one level under the root, so the glue's `__dirname/..` is still the project root.
  await build({
    entryPoints: [join(__dirname, "host-child.ts")],
    outfile: HOST_CHILD,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node22",
    packages: "external",
    // In one bundle every module's `module` is the bundle's own, so each deploy script's `require.main === module`
    // entry guard would fire and run the script (a build, a push) inside the timed evaluation.
    define: { "require.main": "undefined" },
    logLevel: "warning",
  });
}

interface EvalRun extends Timed {
  readonly resources: number;
  readonly chain: string[];
}

/**
 * One fresh process evaluating the program: `node <nodeargs> host-child.cjs`, as the language host starts
 * `node <nodeargs> …/cmd/run`. Each run gets a fresh TMPDIR (ts-node keeps its compile cache there, so the default
 * path type-checks as on a first run or after any edit); `compileCache` is the folder for Node's compile cache
 * (default: the loader's own, in node_modules/.cache).
 */
async function evaluate(
  runtime: RuntimeOptions,
  opts: { programDir?: string; compileCache?: string } = {},
): Promise<EvalRun> {
  const env: NodeJS.ProcessEnv = {
    TMPDIR: scratch("tmp"),
    PULUMI_NODEJS_TRANSPILE_ONLY: undefined,
    PULUMI_NODEJS_TYPESCRIPT: undefined,
  };
  if (opts.compileCache) env.NODE_COMPILE_CACHE = opts.compileCache;
  const run = await timedNode([...runtime.nodeargs, HOST_CHILD, JSON.stringify(runtime), opts.programDir ?? ""], env);
  const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
    resources: number;
    reported: number;
    chain: string[];
  };
  if (result.reported > 0 || result.resources === 0)
    throw new Error(`the program did not evaluate cleanly:\n${run.stdout}`);
  return { ...run, resources: result.resources, chain: result.chain };
}

/**
 * A copy of the sources (no node_modules: it resolves the root's) whose submodule imports of @pulumi/azure-native
 * become root imports: `import * as web from "@pulumi/azure-native/web"` → `import { web } from
 * "@pulumi/azure-native"`.
 */
function rootImportCopy(): string {
  const dir = scratch("root-import");
  const skip = new Set(["node_modules", ".git", ".bench", "dist", "test-results", "bin", "test", "docs"]);
  for (const entry of readdirSync(ROOT))
    if (!skip.has(entry)) cpSync(join(ROOT, entry), join(dir, entry), { recursive: true });
  let rewritten = 0;
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) {
        const source = readFileSync(path, "utf8");
        const next = source.replace(
          /import \* as (\w+) from "@pulumi\/azure-native\/(\w+)";/g,
          (_all, local: string, mod: string) => {
            rewritten++;
            return `import { ${mod} as ${local} } from "@pulumi/azure-native";`;
          },
        );
        if (next !== source) writeFileSync(path, next);
      }
    }
  };
  walk(dir);
  if (rewritten === 0) throw new Error("no @pulumi/azure-native submodule import to rewrite");
  return dir;
}

export interface ProgramFigures {
  requireFloorMs: number;
  requireFloorRssMb: number;
  requireFloorCachedMs: number;
  programEvalMs: number;
  programEvalRssMb: number;
  programEvalColdMs: number;
  programEvalDefaultPathMs: number;
  programEvalDefaultPathRssMb: number;
  programEvalRootImportMs: number;
  resources: number;
  dagDepth: number;
  dagChain: string[];
}

/** Interleaves the variants run by run, so that load on a shared machine hits each alike. */
export async function measureProgram(runs: number, defaultPathRuns: number): Promise<ProgramFigures> {
  await buildHostChild();
  const ours = readRuntimeOptions();
  const defaultPath: RuntimeOptions = { typescript: true, nodeargs: [] };
  const rootCopy = rootImportCopy();
  const floor = (): Promise<Timed> => timedNode(["-e", 'require("@pulumi/pulumi")']);
  const floorCache = scratch("floor-compile-cache");
  // Warm-ups: Node's compile cache for our path and for the root-import copy, as after one earlier `pulumi up`.
  await evaluate(ours);
  await evaluate(ours, { programDir: rootCopy });
  await timedNode(["-e", 'require("@pulumi/pulumi")'], { NODE_COMPILE_CACHE: floorCache });

  const samples: Record<string, Timed[]> = {
    floor: [],
    floorCached: [],
    ours: [],
    cold: [],
    rootImport: [],
    defaultPath: [],
  };
  let last: EvalRun | undefined;
  for (let i = 0; i < runs; i++) {
    samples.floor!.push(await floor());
    samples.floorCached!.push(await timedNode(["-e", 'require("@pulumi/pulumi")'], { NODE_COMPILE_CACHE: floorCache }));
    last = await evaluate(ours);
    samples.ours!.push(last);
    samples.cold!.push(await evaluate(ours, { compileCache: scratch("cold-compile-cache") }));
    samples.rootImport!.push(await evaluate(ours, { programDir: rootCopy }));
    if (i < defaultPathRuns) samples.defaultPath!.push(await evaluate(defaultPath));
  }
  const med = (key: string, field: "ms" | "rssMb" = "ms") => median(samples[key]!.map((s) => s[field]));
  return {
    requireFloorMs: med("floor"),
    requireFloorRssMb: med("floor", "rssMb"),
    requireFloorCachedMs: med("floorCached"),
    programEvalMs: med("ours"),
    programEvalRssMb: med("ours", "rssMb"),
    programEvalColdMs: med("cold"),
    programEvalDefaultPathMs: med("defaultPath"),
    programEvalDefaultPathRssMb: med("defaultPath", "rssMb"),
    programEvalRootImportMs: med("rootImport"),
    resources: last!.resources,
    dagDepth: last!.chain.length,
    dagChain: last!.chain,
  };
}
