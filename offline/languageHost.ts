import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { load } from "js-yaml";
import { configKeys } from "../components/config";
import { type AzureMocks, PROJECT, attachMocks, settle } from "./azureMocks";
import { type ConfigSchema, readStackFile } from "./stackFile";

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

/** A project in `dir` whose program reads `keys` of its namespace and the azure-native and azuread providers' settings. */
export function azureProject(dir: string, project: string, keys: readonly string[], attach: OfflineProject["attach"]): OfflineProject {
  const providers = { "azure-native": providerSettings("@pulumi/azure-native"), azuread: providerSettings("@pulumi/azuread") };
  return { dir, schema: { project, keys, providers }, attach };
}

/** The app stack at the repository root. */
export const appProject = azureProject(ROOT, PROJECT, configKeys, attachMocks);

/** Reads a stack file (`Pulumi.<stack>.yaml`) into the flat string config the engine hands a program. */
export function readStackConfig(stack: string, project: OfflineProject = appProject): Record<string, string> {
  return readStackFile(project.dir, stack, project.schema).config;
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
 * Evaluates a project exactly as `pulumi up` would load it: through `@pulumi/pulumi/cmd/run/run.js`'s `run()`, the
 * function the Node language host calls, from the project's folder, given Pulumi.yaml's `main` and
 * `runtime.options` (`typescript`, `tsconfig`) as the host passes them (entry-point resolution from
 * Pulumi.yaml/package.json, TypeScript with the host's ts-node), but with the mocks standing in for the engine and
 * the providers. See notes/pulumi-azure.md §4.
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
): Promise<HostRun> {
  const pulumiYaml = load(readFileSync(join(project.dir, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime: string | { options?: { typescript?: boolean; tsconfig?: string } };
  };
  const options = typeof pulumiYaml.runtime === "string" ? {} : (pulumiYaml.runtime.options ?? {});
  const req = createRequire(join(project.dir, "Pulumi.yaml"));
  const indexPath = req.resolve("@pulumi/pulumi/cmd/run/index.js");
  req.cache[indexPath] = {
    id: indexPath,
    filename: indexPath,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 },
  } as NodeJS.Module;

  const mocks = await project.attach(config, stack);
  // What the host sets for `runtime.options.typescript` (default true) and `runtime.options.tsconfig`.
  process.env.PULUMI_NODEJS_TYPESCRIPT = String(options.typescript ?? true);
  if (options.tsconfig) process.env.PULUMI_NODEJS_TSCONFIG_PATH = options.tsconfig;
  else delete process.env.PULUMI_NODEJS_TSCONFIG_PATH;
  const entry = pulumiYaml.main ?? ".";
  const previousCwd = process.cwd();
  process.chdir(project.dir);
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
    const outputs = await run({ _: [entry] }, () => {}, (err) => reported.push(err), (err) => reported.includes(err)).catch(
      (err: unknown) => {
        reported.push(err);
        throw err;
      },
    );
    await settle();
    return { mocks, outputs, reported, entry };
  } finally {
    process.chdir(previousCwd);
  }
}
