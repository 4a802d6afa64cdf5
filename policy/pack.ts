/**
 * The guardrails (policy/rules/) as `@pulumi/policy` policies, every one mandatory. Importing this module starts
 * nothing: only `new PolicyPack(...)` (policy/index.ts) serves the analyzer, so tests import this file, never index.ts.
 */
import type {
  Policies,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { type PlannedResource, type Rule, type RuleContext, rules } from "./rules";

/** The pack's name, as `pulumi preview --policy-pack policy` prints it (`PulumiPolicy.yaml` says the same). */
export const PACK_NAME = "secretless-guardrails";

/**
 * Each resource's inputs, by URN, as the engine last sent them for resource validation. Stack validation only gets
 * outputs, and some inputs never come back as outputs: App Service returns no app settings, and a publishing policy's
 * `name` output is "scm" rather than the site's name. The analyzer is one process for the whole preview or update, so
 * the stack rules can read them here.
 */
export type InputsByUrn = Map<string, Record<string, any>>;

function toPolicy(rule: Rule, inputsByUrn: InputsByUrn): ResourceValidationPolicy | StackValidationPolicy {
  const base = { name: rule.name, description: rule.description, enforcementLevel: "mandatory" as const };
  if (rule.kind === "resource") {
    return {
      ...base,
      validateResource: (args: ResourceValidationArgs, reportViolation) => {
        inputsByUrn.set(args.urn, args.props);
        if (!rule.appliesTo(args.type)) return;
        // An input not known yet during preview throws the SDK's UnknownValueError here; the SDK reports it as
        // "can't run policy … during preview" (advisory) and `pulumi up` runs the rule again with the value known.
        for (const message of rule.check({ type: args.type, name: args.name, urn: args.urn, props: args.props }, {})) {
          reportViolation(message);
        }
      },
    };
  }
  return {
    ...base,
    ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
    validateStack: (args: StackValidationArgs, reportViolation) => {
      const context: RuleContext = rule.configSchema ? args.getConfig<RuleContext>() : {};
      const resources: PlannedResource[] = args.resources.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: r.props,
        inputs: inputsByUrn.get(r.urn),
      }));
      for (const finding of rule.check(resources, context)) reportViolation(finding.message, finding.resource?.urn);
    },
  };
}

/** Every guardrail as a mandatory policy. `inputsByUrn` is shared by the resource and stack policies of one pack. */
export function makePolicies(inputsByUrn: InputsByUrn = new Map()): Policies {
  return rules.map((rule) => toPolicy(rule, inputsByUrn));
}
