/**
 * The policy pack's rules over an offline plan: the resources the mocks registered while the real program ran. Used by
 * `npm run plan`, where no Pulumi CLI can run `pulumi preview --policy-pack policy`. Prints the violations the way the
 * CLI does and reports whether a mandatory one was found (every guardrail is mandatory).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PACK_NAME } from "./pack";
import { type PlannedResource, type RuleContext, type Violation, evaluate } from "./rules";

/** What the offline mocks record per resource (offline/azure-mocks.ts `RegisteredResource`). */
export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly inputs: Record<string, any>;
  readonly state: Record<string, any>;
  readonly id?: string;
}

/** The pack's version, as the CLI reads it from the pack's package.json. */
export const PACK_VERSION: string = JSON.parse(readFileSync(join(__dirname, "package.json"), "utf8")).version;

/** Runs every guardrail over recorded resources: resource rules over the inputs, stack rules over the state. */
export function evaluateRecorded(resources: readonly RecordedResource[], context: RuleContext = {}): Violation[] {
  return evaluate(
    resources.map(
      (r): PlannedResource => ({
        type: r.type,
        name: r.name,
        props: r.state,
        inputs: r.inputs,
        ...(r.id ? { id: r.id } : {}),
      }),
    ),
    context,
  );
}

/**
 * The CLI's "Policies:" block (pulumi/pulumi's display, as in its policy integration tests):
 *
 *     Policies:
 *         ❌ secretless-guardrails@v0.1.0 (local: policy)
 *             - [mandatory]  webapp-https-only  (azure-native:web:WebApp: secretless-web-site)
 *               A web app serves HTTPS only.
 *               WebApp "secretless-web-site" has httpsOnly false. Fix: set httpsOnly: true.
 *
 * A violation charged to no resource is shown against the stack, `(pulumi:pulumi:Stack: <project>-<stack>)`.
 */
export function formatPolicies(violations: readonly Violation[], stackName: string): string {
  const lines = ["Policies:", `    ${violations.length ? "❌" : "✅"} ${PACK_NAME}@v${PACK_VERSION} (local: policy)`];
  for (const v of violations) {
    const at = v.resource ? `${v.resource.type}: ${v.resource.name}` : `pulumi:pulumi:Stack: ${stackName}`;
    lines.push(`        - [mandatory]  ${v.policy}  (${at})`, `          ${v.description}`, `          ${v.message}`);
  }
  return lines.join("\n");
}

/**
 * `npm run plan`'s guardrail step: prints the Policies block for the planned resources and returns false when a
 * mandatory policy is violated (the caller then exits non-zero, as `pulumi preview` does).
 */
export function checkPlannedResources(
  resources: readonly RecordedResource[],
  stack: string,
  print: (text: string) => void = (text) => console.log(text),
  context: RuleContext = {},
  project?: string,
): boolean {
  const name =
    project ?? /^name:\s*(\S+)/m.exec(readFileSync(join(__dirname, "..", "Pulumi.yaml"), "utf8"))?.[1] ?? "project";
  const violations = evaluateRecorded(resources, context);
  print(`\n${formatPolicies(violations, `${name}-${stack}`)}`);
  if (violations.length)
    print(
      `\nerror: ${violations.length} mandatory policy ` +
        `violation${violations.length === 1 ? "" : "s"}; fix them before \`pulumi up\`.`,
    );
  return violations.length === 0;
}
