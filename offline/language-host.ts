import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { load } from "js-yaml";
import { configKeys } from "../components/stack-config";
import { type AzureMocks, PROJECT, attachMocks, settle } from "./azure-mocks";
import { type ConfigSchema, readStackFile } from "./stack-file";

/** The project root: where Pulumi.yaml, package.json and tsconfig.json live. */
export const ROOT = join(__dirname, "..");

/** A Pulumi project the language host can evaluate offline: its folder, what it reads, and its mocks. */
export interface OfflineProject {
  /** The folder holding Pulumi.yaml and the stack files. */
  readonly dir: string;
  readonly schema: ConfigSchema;
  /** Attaches the offline engine for this project with a stack's configuration. */
  attach(config: Record<string, string>, stack: string): Promise<AzureMocks>;
}

/** The settings a provider SDK reads from its config namespace, as its generated `config` module exports them. */
function providerSettings(pkg: string): string[] {
  return Object.keys(createRequire(join(ROOT, "package.json"))(`${pkg}/config`) as object);
}

/**
 * A project in `dir` whose program reads `keys` of its namespace and the azure-native and azuread providers' settings.
 */
export function azureProject(
  dir: string,
  project: string,
  keys: readonly string[],
  attach: OfflineProject["attach"],
): OfflineProject {
  const providers = {
    "azure-native": providerSettings("@pulumi/azure-native"),
    azuread: providerSettings("@pulumi/azuread"),
  };
  return { dir, schema: { project, keys, providers }, attach };
}

/** The app stack at the repository root. */
export const appProject = azureProject(ROOT, PROJECT, configKeys, attachMocks);

/** Reads a stack file (`Pulumi.<stack>.yaml`) into the flat string config the engine hands a program. */
export function readStackConfig(stack: string, project: OfflineProject = appProject): Record<string, string> {
  return readStackFile(project.dir, stack, project.schema).config;
}

/** What the Node language host does with Pulumi.yaml's `main` and `runtime.options`. */
export interface RuntimeOptions {
  /** `main`: the entry point the CLI hands the host (else the folder, resolved through package.json). */
  readonly main?: string;
  /** `tsconfig`: the host passes it as `PULUMI_NODEJS_TSCONFIG_PATH`. */
  readonly tsconfig?: string;
  /** `typescript` (default true): the host sets `PULUMI_NODEJS_TYPESCRIPT=true` and `run()` registers ts-node. */
  readonly typescript: boolean;
  /** `nodeargs`, split on white space: the host puts them on node's command line before `run`. */
  readonly nodeargs: readonly string[];
}

/** Reads Pulumi.yaml's `runtime.options` the way the Node language host parses them. */
export function readRuntimeOptions(dir: string = ROOT): RuntimeOptions {
  const project = load(readFileSync(join(dir, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime: string | { options?: { typescript?: boolean; nodeargs?: string; tsconfig?: string } };
  };
  const options = typeof project.runtime === "object" ? (project.runtime.options ?? {}) : {};
  return {
    ...(project.main ? { main: project.main } : {}),
    ...(options.tsconfig ? { tsconfig: options.tsconfig } : {}),
    typescript: options.typescript ?? true,
    nodeargs: (options.nodeargs ?? "").split(/\s+/).filter(Boolean),
  };
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
      throw new Error(
        `Pulumi.yaml runtime.options.nodeargs: start this process with ${flag}, as the language host would`,
      );
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
      files.add(
        spec.startsWith("file:")
          ? fileURLToPath(spec)
          : isAbsolute(spec)
            ? spec
            : req.resolve(spec.startsWith(".") ? resolve(spec) : spec),
      );
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
  /** The entry point the host was given, as the CLI derives it from Pulumi.yaml (`main`, else the folder). */
  entry: string;
}

/**
/**
 * Evaluates a project exactly as `pulumi up` would load it: through `@pulumi/pulumi/cmd/run/run.js`'s `run()`, the
 * function the Node language host calls, from the project's folder, given Pulumi.yaml's `main` and `runtime.options`
 * applied as the host applies them (for the app stack `typescript: false` and `nodeargs: --require
 * ./scripts/pulumi-loader.cjs`, which compiles the program without type-checking it, since `npm test` type-checks;
 * for the bootstrap `typescript: true` and its `tsconfig`), but with the mocks standing in for the engine and the
 * providers. `runtime` overrides the options and `programDir` the program's folder (the benchmark measures Pulumi's
 * default path and a rewritten copy with them). See notes/pulumi-azure.md §4.
 *
 * `cmd/run/index.js` parses the CLI's arguments as soon as it loads, so a stand-in for it goes into the module cache
 * first. Run this once per process: Node caches the program module, and `run()` installs process-wide handlers.
 *
 * A program that throws rejects with its error, which is also marked reported, so the host's unhandled-rejection
 * handler does not print it a second time (with a stack trace).
 */
export async function runThroughLanguageHost(
  config: Record<string, string>,
  stack = "dev",
  project: OfflineProject = appProject,
  {
    runtime = readRuntimeOptions(project.dir),
    programDir = project.dir,
  }: { runtime?: RuntimeOptions; programDir?: string } = {},
): Promise<HostRun> {
  const req = createRequire(join(project.dir, "Pulumi.yaml"));
  const indexPath = req.resolve("@pulumi/pulumi/cmd/run/index.js");
  req.cache[indexPath] = {
    id: indexPath,
    filename: indexPath,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 },
  } as NodeJS.Module;

  const mocks = await project.attach(config, stack);
  await applyNodeArgs(runtime.nodeargs, req);
  // What the host sets for `runtime.options.typescript` (default true; unset for false) and `runtime.options.tsconfig`.
  if (runtime.typescript) process.env.PULUMI_NODEJS_TYPESCRIPT = "true";
  else delete process.env.PULUMI_NODEJS_TYPESCRIPT;
  if (runtime.tsconfig) process.env.PULUMI_NODEJS_TSCONFIG_PATH = runtime.tsconfig;
  else delete process.env.PULUMI_NODEJS_TSCONFIG_PATH;
  const entry = runtime.main ?? ".";
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
    const outputs = await run(
      { _: [entry] },
      () => {},
      (err) => reported.push(err),
      (err) => reported.includes(err),
    ).catch((err: unknown) => {
      reported.push(err);
      throw err;
    });
    await settle();
    return { mocks, outputs, reported, entry };
  } finally {
    process.chdir(previousCwd);
  }
}
