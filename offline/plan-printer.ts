import * as pulumi from "@pulumi/pulumi";
import type { AzureMocks, RegisteredResource } from "./azure-mocks";
import type { HostRun } from "./language-host";
import { StackFileError } from "./stack-file";

/**
 * The text both offline plans print (`npm run plan`, `npm run plan:bootstrap`): a header, the resource tree as
 * `pulumi preview` nests it (by each resource's parent), each resource's telling values, an unambiguous count, and
 * the stack outputs.
 */
export interface PlanText {
  /** Lines above the tree: what was evaluated and that nothing was called. */
  readonly header: readonly string[];
  /** The values worth seeing for one resource (indented under it); [] for none. */
  readonly describe: (r: RegisteredResource) => string[];
  /** Types listed before their siblings, in this order (e.g. the resource group, which holds the rest). */
  readonly first?: readonly string[];
  /** The line above the outputs. */
  readonly outputsTitle: string;
}

/** Renders a finished run as the plan's text. */
export function planText(run: Pick<HostRun, "mocks" | "outputs">, text: PlanText): string {
  const { mocks, outputs } = run;
  const lines = [...text.header, ""];
  const rank = (r: RegisteredResource): number => {
    const i = text.first?.indexOf(r.type) ?? -1;
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const children = childrenByParent(mocks);
  const walk = (parent: string, depth: number): void => {
    // stable: registration order otherwise
    const siblings = [...(children.get(parent) ?? [])].sort((a, b) => rank(a) - rank(b));
    for (const r of siblings) {
      const pad = "    ".repeat(depth);
      lines.push(`${pad}+ ${r.type}  ${r.name}`);
      for (const d of text.describe(r)) lines.push(`${pad}      ${d}`);
      walk(r.name, depth + 1);
    }
  };
  walk("", 0);
  const custom = mocks.resources.filter((r) => r.custom);
  const local = custom.filter((r) => r.type.startsWith("command:")).length;
  const cloud = custom.length - local;
  const components = mocks.resources.length - custom.length - 1; // all but the stack
  const steps = local > 0 ? `, ${local} local step${local === 1 ? "" : "s"} (run on this machine)` : "";
  lines.push(
    "",
    `${mocks.resources.length} to create: ${cloud} cloud resources${steps}, plus the stack and ` +
      `${components} component${components === 1 ? "" : "s"} that only group them.`,
    "",
    text.outputsTitle,
  );
  const width = Math.max(0, ...Object.keys(outputs ?? {}).map((k) => k.length)) + 1;
  // Like the CLI, an output whose value is undefined (e.g. redisHostName without scale-out) is not shown.
  for (const [k, v] of Object.entries(outputs ?? {}))
    if (v !== undefined) lines.push(`    ${k.padEnd(width)} ${String(v)}`);
  return lines.join("\n");
}

/** Each resource under its parent's name ("" for the stack), from the parent URN's last segment. */
function childrenByParent(mocks: AzureMocks): Map<string, RegisteredResource[]> {
  const children = new Map<string, RegisteredResource[]>();
  for (const r of mocks.resources) {
    const parentUrn = mocks.options.get(`${r.type}::${r.name}`)?.parentUrn;
    const parent = r.type === "pulumi:pulumi:Stack" ? "" : (parentUrn?.split("::").pop() ?? "");
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  return children;
}

/**
 * Runs a plan's `main` and prints a failure once: a bad stack file or configuration (a RunError) as its message
 * alone, anything unexpected with its stack. Sets the exit code.
 */
export function runPlan(main: () => Promise<void>): void {
  // `npm run plan | head` closes the pipe early: stop quietly, rather than loop through the host's error handler.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  main().catch((error: unknown) => {
    const expected = error instanceof StackFileError || pulumi.RunError.isInstance(error);
    console.error(
      expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error),
    );
    process.exitCode = 1;
  });
}
