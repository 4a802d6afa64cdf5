/**
 * The stack configuration's keys, exactly as Pulumi.yaml declares them, the defaults it gives them, and the reader that
 * applies those defaults and collects every problem under its key. config.ts reads the keys through it.
 */
import { DEFAULT_NODE_VERSION, DEFAULT_PLAN_SKU, DEFAULT_READINESS_TIMEOUT_MINUTES, DEFAULT_REDIS_SKU, DEFAULT_SIGN_IN_AUDIENCE } from "../contract/catalogue";
import { DEFAULT_CLOUD } from "../contract/clouds";
import { DEFAULT_SLOT_AFTER_SWAP } from "../contract/slots";
import { DEFAULT_CALLBACK_PATH, HEALTH_CHECK_PATH } from "../contract/settings";
import type { ConfigProblem } from "./configError";
import { DEFAULT_AUTH_MODE } from "../contract/easy-auth";

/** Keys of the project namespace, exactly as declared in Pulumi.yaml (plus `tags`, an object Pulumi.yaml cannot type). */
export const configKeys = [
  "location",
  "webAppName",
  "resourceGroupName",
  "cloud",
  "appDisplayName",
  "signInAudience",
  "appRoleAssignmentRequired",
  "grantAdminConsent",
  "appOwnerObjectIds",
  "callbackPath",
  "planSku",
  "existingPlanId",
  "nodeVersion",
  "alwaysOn",
  "healthCheckPath",
  "uniqueDefaultHostname",
  "scaleOut",
  "instanceCount",
  "redisSku",
  "deployApp",
  "waitForReady",
  "readinessTimeoutMinutes",
  "stagingSlot",
  "stagingSlotAfterSwap",
  "tags",
  "authMode",
] as const;
export type ConfigKey = (typeof configKeys)[number];

/**
 * The defaults Pulumi.yaml declares. The CLI applies them before the program runs; the parser applies the same ones,
 * so the program behaves identically under mocks. A test keeps this table and Pulumi.yaml in step.
 */
export const configDefaults: Partial<Record<ConfigKey, string>> = {
  cloud: DEFAULT_CLOUD,
  signInAudience: DEFAULT_SIGN_IN_AUDIENCE,
  appRoleAssignmentRequired: "false",
  grantAdminConsent: "false",
  appOwnerObjectIds: "[]",
  callbackPath: DEFAULT_CALLBACK_PATH,
  planSku: DEFAULT_PLAN_SKU,
  nodeVersion: String(DEFAULT_NODE_VERSION),
  healthCheckPath: HEALTH_CHECK_PATH,
  uniqueDefaultHostname: "true",
  scaleOut: "false",
  redisSku: DEFAULT_REDIS_SKU,
  deployApp: "true",
  waitForReady: "true",
  readinessTimeoutMinutes: String(DEFAULT_READINESS_TIMEOUT_MINUTES),
  stagingSlot: "false",
  stagingSlotAfterSwap: DEFAULT_SLOT_AFTER_SWAP,
  authMode: DEFAULT_AUTH_MODE,
};

/** Raw values as the Pulumi engine hands them over (strings; arrays and objects JSON-encoded), plus provider settings. */
export type RawStackConfig = Partial<Record<ConfigKey, string>> & {
  /** `azuread:environment`, checked against `cloud`. */
  azureadEnvironment?: string;
  /** `azure-native:environment`, checked against `cloud`. */
  armEnvironment?: string;
};

/** Reads raw values with Pulumi.yaml's defaults applied, collecting every problem under its key. */
export class Reader {
  readonly problems: ConfigProblem[] = [];
  constructor(readonly raw: RawStackConfig) {}

  report(key: string, message: string | undefined): void {
    if (message) this.problems.push({ key, message });
  }

  /** The key's trimmed value, or Pulumi.yaml's default when unset; undefined when that is empty too. */
  value(key: ConfigKey): string | undefined {
    const v = this.raw[key] ?? configDefaults[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  /** A key without a default: reports `howToSet` when unset, the rule's problem when set. */
  required(key: ConfigKey, howToSet: string, rule: (v: string) => string | undefined): string | undefined {
    const v = this.value(key);
    this.report(key, v === undefined ? `is required; ${howToSet}` : rule(v));
    return v;
  }

  /** A key that may stay unset; when set, reports the rule's problem. */
  optional(key: ConfigKey, rule: (v: string) => string | undefined): string | undefined {
    const v = this.value(key);
    if (v !== undefined) this.report(key, rule(v));
    return v;
  }

  /** The key's value or `fallback`, reporting the rule's problem. */
  withDefault(key: ConfigKey, fallback: string, rule: (v: string) => string | undefined): string {
    const v = this.value(key) ?? fallback;
    this.report(key, rule(v));
    return v;
  }

  bool(key: ConfigKey, fallback: boolean): boolean {
    const v = this.value(key);
    if (v === undefined) return fallback;
    if (v === "true" || v === "false") return v === "true";
    this.report(key, `"${v}" is not a boolean; set it to true or false (pulumi config set --type bool ${key} true).`);
    return fallback;
  }

  /** The key's JSON value (arrays and objects reach a program JSON-encoded); reports `fix` when it does not parse. */
  json(key: ConfigKey, fix: string): unknown {
    const v = this.value(key);
    if (v === undefined) return undefined;
    try {
      return JSON.parse(v);
    } catch {
      this.report(key, `"${v}" is not ${fix}`);
      return undefined;
    }
  }
}
