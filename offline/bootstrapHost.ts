import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { load } from "js-yaml";
import { type AzureMocks, settle } from "./azureMocks";
import { BOOTSTRAP_DIR, attachBootstrapMocks } from "./bootstrapMocks";

/** What one evaluation of the bootstrap through the language host produced. */
export interface BootstrapHostRun {
  mocks: AzureMocks;
  outputs: Record<string, unknown> | undefined;
  /** Errors the host reported the way the CLI would print them. */
  reported: unknown[];
  /** The entry point the host was given, as the CLI derives it from bootstrap/Pulumi.yaml. */
  entry: string;
}

/**
 * Evaluates bootstrap/ the way `pulumi -C bootstrap up` would load it: `@pulumi/pulumi/cmd/run/run.js`'s `run()` from
 * the bootstrap directory, given Pulumi.yaml's `main` and `runtime.options.tsconfig` as the Node language host passes
 * them, with the offline mocks as engine and providers (notes/pulumi-azure.md §4). Once per process.
 */
export async function runBootstrapThroughLanguageHost(config: Record<string, string>, stack: string): Promise<BootstrapHostRun> {
  const project = load(readFileSync(join(BOOTSTRAP_DIR, "Pulumi.yaml"), "utf8")) as {
    main?: string;
    runtime: { options?: { typescript?: boolean; tsconfig?: string } };
  };
  const req = createRequire(join(BOOTSTRAP_DIR, "index.ts"));
  const indexPath = req.resolve("@pulumi/pulumi/cmd/run/index.js");
  // cmd/run/index.js parses the CLI's arguments as soon as it loads; stand in for it first.
  req.cache[indexPath] = {
    id: indexPath,
    filename: indexPath,
    loaded: true,
    exports: { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 },
  } as NodeJS.Module;

  const mocks = await attachBootstrapMocks(config, stack);
  process.env.PULUMI_NODEJS_TYPESCRIPT = String(project.runtime.options?.typescript ?? true);
  if (project.runtime.options?.tsconfig) process.env.PULUMI_NODEJS_TSCONFIG_PATH = project.runtime.options.tsconfig;
  const entry = project.main ?? ".";
  const previousCwd = process.cwd();
  process.chdir(BOOTSTRAP_DIR);
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
    const outputs = await run({ _: [entry] }, () => {}, (err) => reported.push(err), (err) => reported.includes(err));
    await settle();
    return { mocks, outputs, reported, entry };
  } finally {
    process.chdir(previousCwd);
  }
}
