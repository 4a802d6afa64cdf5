import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { load } from "js-yaml";
import { type AzureMocks, PROJECT, attachMocks, settle } from "./azureMocks";

/** The project root: where Pulumi.yaml, package.json and tsconfig.json live. */
export const ROOT = join(__dirname, "..");

/** Reads a stack file (`Pulumi.<stack>.yaml`) into the flat string config the engine hands a program. */
export function readStackConfig(stack: string): Record<string, string> {
  const file = load(readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
  return Object.fromEntries(
    Object.entries(file.config ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
}

/** What the Node language host does with Pulumi.yaml's `runtime.options`. */
export interface RuntimeOptions {
  /** `typescript` (default true): the host sets `PULUMI_NODEJS_TYPESCRIPT=true` and `run()` registers ts-node. */
  readonly typescript: boolean;
  /** `nodeargs`, split on white space: the host puts them on node's command line before `run`. */
  readonly nodeargs: readonly string[];
}

/** Reads Pulumi.yaml's `runtime.options` the way the Node language host parses them. */
export function readRuntimeOptions(): RuntimeOptions {
  const project = load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
    runtime: string | { options?: { typescript?: boolean; nodeargs?: string } };
  };
  const options = typeof project.runtime === "object" ? (project.runtime.options ?? {}) : {};
  return { typescript: options.typescript ?? true, nodeargs: (options.nodeargs ?? "").split(/\s+/).filter(Boolean) };
}

/**
 * Makes this process what `node <nodeargs> …/cmd/run` would be. A preload (`--import X`, `--require X`) this process
 * was not started with is loaded now, as node would before `run`; any other flag must already be on this process's
 * command line, since it changes node itself.
 */
async function applyNodeArgs(nodeargs: readonly string[], req: NodeJS.Require): Promise<void> {
  const started = preloads(process.execArgv, req);
  for (let i = 0; i < nodeargs.length; i++) {
    const flag = nodeargs[i]!;
    if (flag === "--import" || flag === "--require") {
      const spec = nodeargs[++i];
      if (!spec) throw new Error(`Pulumi.yaml runtime.options.nodeargs: ${flag} needs a module`);
      const file = req.resolve(spec);
      if (started.has(file)) continue;
      if (flag === "--require") req(file);
      else await import(pathToFileURL(file).href);
    } else if (!process.execArgv.includes(flag)) {
      throw new Error(`Pulumi.yaml runtime.options.nodeargs: start this process with ${flag}, as the language host would`);
    }
  }
}

/** The files this process preloaded with `--import`/`--require` (in either `--flag value` or `--flag=value` form). */
function preloads(execArgv: readonly string[], req: NodeJS.Require): Set<string> {
  const files = new Set<string>();
  for (let i = 0; i < execArgv.length; i++) {
    const match = /^(--import|--require|-r)(?:=(.*))?$/.exec(execArgv[i]!);
    if (!match) continue;
    const spec = match[2] ?? execArgv[++i] ?? "";
    try {
      files.add(spec.startsWith("file:") ? fileURLToPath(spec) : isAbsolute(spec) ? spec : req.resolve(spec.startsWith(".") ? resolve(spec) : spec));
    } catch {
      // a preload this project cannot resolve is not one of its nodeargs
    }
  }
  return files;
}

/** What one evaluation through the language host produced. */
export interface HostRun {
  mocks: AzureMocks;
  /** The stack outputs, as `run()` returned them. */
  outputs: Record<string, unknown> | undefined;
  /** Errors the host reported the way the CLI would print them. */
  reported: unknown[];
}

/**
 * Evaluates the program exactly as `pulumi up` would load it: through `@pulumi/pulumi/cmd/run/run.js`'s `run()`, the
 * function the Node language host calls (entry-point resolution from Pulumi.yaml/package.json), with Pulumi.yaml's
 * `runtime.options` applied as the host applies them (`typescript: false` and `nodeargs: --require
 * ./scripts/pulumi-loader.cjs`, which compiles the program without type-checking it; `npm test` type-checks), but
 * with the mocks standing in for the engine and the providers. `runtime` overrides the options and `programDir` the program's folder (the benchmark
 * measures Pulumi's default path and a rewritten copy with them). See notes/pulumi-azure.md §4.
 *
 * `cmd/run/index.js` parses the CLI's arguments as soon as it loads, so a stand-in for it goes into the module cache
 * first. Run this once per process: Node caches the program module, and `run()` installs process-wide handlers.
 */
export async function runThroughLanguageHost(
  config: Record<string, string>,
  stack = "dev",
  { runtime = readRuntimeOptions(), programDir = ROOT }: { runtime?: RuntimeOptions; programDir?: string } = {},
): Promise<HostRun> {
  const req = createRequire(join(ROOT, "package.json"));
  const indexPath = req.resolve("@pulumi/pulumi/cmd/run/index.js");
  req.cache[indexPath] = {
    id: indexPath,
    filename: indexPath,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 },
  } as NodeJS.Module;

  const mocks = await attachMocks(config, stack);
  await applyNodeArgs(runtime.nodeargs, req);
  // What the host sets for `runtime.options.typescript: true`, and leaves unset for false.
  if (runtime.typescript) process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
  else delete process.env.PULUMI_NODEJS_TYPESCRIPT;
  const previousCwd = process.cwd();
  process.chdir(programDir);
  const reported: unknown[] = [];
  try {
    const { run } = req("@pulumi/pulumi/cmd/run/run.js") as {
      run(
        argv: { _: string[] },
        programStarted: () => void,
        reportLoggedError: (err: unknown) => void,
        isErrorReported: (err: unknown) => boolean,
      ): Promise<Record<string, unknown> | undefined>;
    };
    const outputs = await run({ _: ["."] }, () => {}, (err) => reported.push(err), (err) => reported.includes(err));
    await settle();
    return { mocks, outputs, reported };
  } finally {
    process.chdir(previousCwd);
  }
}

