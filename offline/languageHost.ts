import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
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
 * function the Node language host calls (entry-point resolution from Pulumi.yaml/package.json, this project's
 * tsconfig, TypeScript 6 with the host's ts-node, type-checked), but with the mocks standing in for the engine and the
 * providers. See notes/pulumi-azure.md §4.
 *
 * `cmd/run/index.js` parses the CLI's arguments as soon as it loads, so a stand-in for it goes into the module cache
 * first. Run this once per process: Node caches the program module, and `run()` installs process-wide handlers.
 */
export async function runThroughLanguageHost(config: Record<string, string>, stack = "dev"): Promise<HostRun> {
  const req = createRequire(join(ROOT, "package.json"));
  const indexPath = req.resolve("@pulumi/pulumi/cmd/run/index.js");
  req.cache[indexPath] = {
    id: indexPath,
    filename: indexPath,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 },
  } as NodeJS.Module;

  const mocks = await attachMocks(config, stack);
  process.env.PULUMI_NODEJS_TYPESCRIPT = "true"; // what the host sets for `runtime.options.typescript: true`
  const previousCwd = process.cwd();
  process.chdir(ROOT);
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

