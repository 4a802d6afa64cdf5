/**
 * What a rule is and what it sees: the shapes the pack (`../pack.ts`) and the offline check (`../offline.ts`) share.
 */

/** One planned resource, the way a rule sees it. */
export interface PlannedResource {
  /** The Pulumi type token, e.g. `azure-native:web:WebApp`. */
  readonly type: string;
  /** The logical name. */
  readonly name: string;
  readonly urn?: string;
  /** Resource rules: the inputs. Stack rules: the outputs (resolved state). */
  readonly props: Record<string, any>;
  /** Stack rules: the inputs too, for what the provider does not echo back (Azure never returns app settings). */
  readonly inputs?: Record<string, any>;
  /** The provider ID, when known (offline runs know it). */
  readonly id?: string;
}

/**
 * What the stack's own program cannot tell the pack and its operator must: the GitHub repository whose workflows the
 * CI identities may trust. `pulumi preview --policy-pack policy --policy-pack-config <file>` passes it as the
 * `fic-trust-allowed` policy's config (`{ "fic-trust-allowed": { "repository": "OWNER/REPO" } }`); `npm run
 * plan:bootstrap` passes the bootstrap stack's own `repository` key.
 */
export interface RuleContext {
  /** `OWNER/REPO`, or GitHub's immutable form `OWNER@OWNER_ID/REPO@REPO_ID`. */
  readonly repository?: string;
}

/** A policy over one resource: the messages of its violations, none when the resource complies. */
export interface ResourceRule {
  readonly kind: "resource";
  readonly name: string;
  readonly description: string;
  appliesTo(type: string): boolean;
  check(resource: PlannedResource, context?: RuleContext): string[];
}

/** A violation a stack rule found, charged to one resource (or to the whole stack). */
export interface StackFinding {
  readonly message: string;
  readonly resource?: PlannedResource;
}

/** One property of a policy's config schema (JSON schema, as `--policy-pack-config` is validated against). */
export interface ConfigProperty {
  readonly type: "string";
  readonly description?: string;
}

/** A policy over the whole stack, for what a single resource cannot tell. */
export interface StackRule {
  readonly kind: "stack";
  readonly name: string;
  readonly description: string;
  /** The JSON schema of the policy's config, when it reads any (`--policy-pack-config`). */
  readonly configSchema?: { readonly properties: Record<string, ConfigProperty> };
  check(resources: readonly PlannedResource[], context?: RuleContext): StackFinding[];
}

export type Rule = ResourceRule | StackRule;

export interface Violation {
  readonly policy: string;
  readonly description: string;
  readonly message: string;
  readonly resource?: { readonly type: string; readonly name: string; readonly urn?: string };
}

// ---------------------------------------------------------------------------------------------------------------
// Rule builders

export function resourceRule(
  name: string,
  description: string,
  appliesTo: (type: string) => boolean,
  check: (r: PlannedResource, context: RuleContext) => (string | undefined)[],
): ResourceRule {
  return {
    kind: "resource",
    name,
    description,
    appliesTo,
    check: (r, context = {}) => (appliesTo(r.type) ? check(r, context).filter((m): m is string => !!m) : []),
  };
}

export function stackRule(
  name: string,
  description: string,
  check: (resources: readonly PlannedResource[], context: RuleContext) => StackFinding[],
  configSchema?: StackRule["configSchema"],
): StackRule {
  const rule: StackRule = {
    kind: "stack",
    name,
    description,
    check: (resources, context = {}) => check(resources, context),
  };
  return configSchema ? { ...rule, configSchema } : rule;
}
