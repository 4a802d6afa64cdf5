import { DEFAULT_CALLBACK_PATH, HEALTH_CHECK_PATH, RESERVED_APP_PATHS, isGuid } from "../contract/settings";
import { type CloudEndpoints, type CloudName, clouds, cloudNames, isCloudName } from "./clouds";

/**
 * The stack configuration contract: every key declared in Pulumi.yaml's `config:` block, parsed and validated in one
 * pass before any resource registers. Every problem is reported at once, each naming the key and the fix.
 */

/** Linux App Service plan SKUs this project knows, with the tier ARM expects and whether "Always On" is allowed. */
export const planSkus = {
  F1: { tier: "Free", alwaysOn: false },
  B1: { tier: "Basic", alwaysOn: true },
  B2: { tier: "Basic", alwaysOn: true },
  B3: { tier: "Basic", alwaysOn: true },
  S1: { tier: "Standard", alwaysOn: true },
  S2: { tier: "Standard", alwaysOn: true },
  S3: { tier: "Standard", alwaysOn: true },
  P0v3: { tier: "PremiumV3", alwaysOn: true },
  P1v3: { tier: "PremiumV3", alwaysOn: true },
  P2v3: { tier: "PremiumV3", alwaysOn: true },
  P3v3: { tier: "PremiumV3", alwaysOn: true },
  P1mv3: { tier: "PremiumMV3", alwaysOn: true },
  P2mv3: { tier: "PremiumMV3", alwaysOn: true },
  P3mv3: { tier: "PremiumMV3", alwaysOn: true },
  P4mv3: { tier: "PremiumMV3", alwaysOn: true },
  P5mv3: { tier: "PremiumMV3", alwaysOn: true },
} as const;
export type PlanSku = keyof typeof planSkus;

/** Node.js majors App Service offers as `NODE|<major>-lts` on Linux. */
export const nodeVersions = [22, 24] as const;
export type NodeVersion = (typeof nodeVersions)[number];

/** Values of the app registration's `signInAudience`. */
export const signInAudiences = [
  "AzureADMyOrg",
  "AzureADMultipleOrgs",
  "AzureADandPersonalMicrosoftAccount",
  "PersonalMicrosoftAccount",
] as const;
export type SignInAudience = (typeof signInAudiences)[number];

/** The validated stack configuration that index.ts builds the stack from. */
export interface StackConfig {
  location: string;
  webAppName: string;
  /** An existing resource group to deploy into; undefined creates one. */
  resourceGroupName?: string;
  cloud: CloudName;
  appDisplayName: string;
  signInAudience: SignInAudience;
  appRoleAssignmentRequired: boolean;
  appOwnerObjectIds: string[];
  callbackPath: string;
  planSku: PlanSku;
  /** An existing Linux App Service plan to host the app; undefined creates one with `planSku`. */
  existingPlanId?: string;
  nodeVersion: NodeVersion;
  alwaysOn: boolean;
  healthCheckPath: string;
  uniqueDefaultHostname: boolean;
  tags: Record<string, string>;
}

/** Keys of the project namespace, exactly as declared in Pulumi.yaml (plus `tags`, an object Pulumi.yaml cannot type). */
export const configKeys = [
  "location",
  "webAppName",
  "resourceGroupName",
  "cloud",
  "appDisplayName",
  "signInAudience",
  "appRoleAssignmentRequired",
  "appOwnerObjectIds",
  "callbackPath",
  "planSku",
  "existingPlanId",
  "nodeVersion",
  "alwaysOn",
  "healthCheckPath",
  "uniqueDefaultHostname",
  "tags",
] as const;
export type ConfigKey = (typeof configKeys)[number];

/**
 * The defaults Pulumi.yaml declares. The CLI applies them before the program runs; the parser applies the same ones,
 * so the program behaves identically under mocks. A test keeps this table and Pulumi.yaml in step.
 */
export const configDefaults: Partial<Record<ConfigKey, string>> = {
  cloud: "public",
  signInAudience: "AzureADMyOrg",
  appRoleAssignmentRequired: "false",
  appOwnerObjectIds: "[]",
  callbackPath: DEFAULT_CALLBACK_PATH,
  planSku: "B1",
  nodeVersion: "22",
  healthCheckPath: HEALTH_CHECK_PATH,
  uniqueDefaultHostname: "true",
};

/** Raw values as the Pulumi engine hands them over (strings; arrays and objects JSON-encoded), plus provider settings. */
export type RawStackConfig = Partial<Record<ConfigKey, string>> & {
  /** `azuread:environment`, checked against `cloud`. */
  azureadEnvironment?: string;
  /** `azure-native:environment`, checked against `cloud`. */
  armEnvironment?: string;
};

/** One problem with one key. */
export interface ConfigProblem {
  key: string;
  message: string;
}

/** Thrown when the stack configuration is invalid; lists every problem found. */
export class StackConfigError extends Error {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    const lines = problems.map((p) => `  - ${p.key}: ${p.message}`);
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${lines.join("\n")}\n` +
        "Nothing was created. Fix the keys above with `pulumi config set <key> <value>` and run again.",
    );
    this.name = "StackConfigError";
    this.problems = problems;
  }
}

const WEB_APP_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,58}[a-zA-Z0-9])?$/;
const LOCATION = /^[a-z][a-z0-9]*$/;
// Resource group names: 1-90 of letters, digits, underscores, hyphens, periods and parentheses; no trailing period.
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/u;
const PLAN_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([-\w.()]{1,90})\/providers\/Microsoft\.Web\/serverfarms\/([^/]+)$/i;

/** The rule for a web app name, or undefined when `name` is valid. Shared with the components' own argument checks. */
export function webAppNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 60) {
    return `"${name}" is ${name.length} characters long; use 2-60 letters, digits or hyphens.`;
  }
  if (!WEB_APP_NAME.test(name)) {
    return `"${name}" may contain only letters, digits and hyphens, and must start and end with a letter or digit.`;
  }
  return undefined;
}

/** The rule for a path the app serves (callback, health check), or undefined when `path` is valid. */
export function appPathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return `"${path}" must start with "/" (for example "${DEFAULT_CALLBACK_PATH}").`;
  if (/[\s?#\\]/.test(path)) return `"${path}" must be a bare path: no spaces, "?", "#" or "\\".`;
  if (path.includes("//")) return `"${path}" must not contain "//".`;
  return undefined;
}

/** The rule for a callback path, or undefined when valid: an app path that does not shadow one of the app's routes. */
export function callbackPathProblem(path: string): string | undefined {
  const problem = appPathProblem(path);
  if (problem) return problem;
  if (RESERVED_APP_PATHS.includes(path)) {
    return `"${path}" is one of the app's own routes (${RESERVED_APP_PATHS.join(", ")}); use "${DEFAULT_CALLBACK_PATH}".`;
  }
  return undefined;
}

/** The rule for an existing App Service plan's ARM resource ID, or undefined when valid. */
export function planIdProblem(id: string): string | undefined {
  const match = PLAN_ID.exec(id);
  if (!match || !isGuid(match[1] ?? "")) {
    return (
      `"${id}" is not an App Service plan resource ID; expected ` +
      `/subscriptions/<subscription GUID>/resourceGroups/<group>/providers/Microsoft.Web/serverfarms/<plan> ` +
      "(az appservice plan show -g <group> -n <plan> --query id -o tsv)."
    );
  }
  return undefined;
}

/**
 * Parses and validates the raw stack configuration. Defaults from Pulumi.yaml fill unset keys. Throws a
 * {@link StackConfigError} listing every problem; returns the typed configuration otherwise.
 */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const problems: ConfigProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ key, message });
  const value = (key: ConfigKey): string | undefined => {
    const v = raw[key] ?? configDefaults[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const bool = (key: ConfigKey, fallback: boolean): boolean => {
    const v = value(key);
    if (v === undefined) return fallback;
    if (v === "true" || v === "false") return v === "true";
    problem(key, `"${v}" is not a boolean; set it to true or false (pulumi config set --type bool ${key} true).`);
    return fallback;
  };

  const location = value("location");
  if (location === undefined) {
    problem("location", "is required; set the Azure region to deploy to (pulumi config set location westeurope).");
  } else if (!LOCATION.test(location)) {
    problem("location", `"${location}" is not an Azure region name; use the lower-case name from \`az account list-locations -o table\`, e.g. westeurope.`);
  }

  const webAppName = value("webAppName");
  if (webAppName === undefined) {
    problem("webAppName", "is required; set the App Service app name (pulumi config set webAppName my-signin-app).");
  } else {
    const p = webAppNameProblem(webAppName);
    if (p) problem("webAppName", p);
  }

  const resourceGroupName = value("resourceGroupName");
  if (resourceGroupName !== undefined && !RESOURCE_GROUP.test(resourceGroupName)) {
    problem(
      "resourceGroupName",
      `"${resourceGroupName}" is not a valid resource group name; use 1-90 letters, digits, "_", "-", ".", "(" or ")", not ending in "." — or unset it to create a new group.`,
    );
  }

  let cloud: CloudName = "public";
  const rawCloud = value("cloud") ?? "public";
  if (isCloudName(rawCloud)) {
    cloud = rawCloud;
    const endpoints: CloudEndpoints = clouds[cloud];
    if (raw.azureadEnvironment && !endpoints.azureadEnvironments.includes(raw.azureadEnvironment.toLowerCase())) {
      problem(
        "cloud",
        `is "${cloud}" but azuread:environment is "${raw.azureadEnvironment}"; the app registration would live in another cloud than its federated credential. Set azuread:environment to ${endpoints.azureadEnvironments[0]} or change cloud.`,
      );
    }
    if (raw.armEnvironment && !endpoints.armEnvironments.includes(raw.armEnvironment.toLowerCase())) {
      problem(
        "cloud",
        `is "${cloud}" but azure-native:environment is "${raw.armEnvironment}"; the managed identity would live in another cloud than the app registration. Set azure-native:environment to ${endpoints.armEnvironments[0]} or change cloud.`,
      );
    }
  } else {
    problem("cloud", `"${rawCloud}" is not a supported cloud; use one of ${cloudNames.join(", ")}.`);
  }

  const appDisplayName = value("appDisplayName") ?? `Secretless sign-in (${webAppName ?? "app"})`;
  if (appDisplayName.length > 120) {
    problem("appDisplayName", `is ${appDisplayName.length} characters long; Entra allows at most 120.`);
  }

  const rawAudience = value("signInAudience") ?? "AzureADMyOrg";
  const signInAudience = (signInAudiences as readonly string[]).includes(rawAudience)
    ? (rawAudience as SignInAudience)
    : (problem("signInAudience", `"${rawAudience}" is not a sign-in audience; use one of ${signInAudiences.join(", ")} (AzureADMyOrg is single tenant).`),
      "AzureADMyOrg");

  const appRoleAssignmentRequired = bool("appRoleAssignmentRequired", false);

  let appOwnerObjectIds: string[] = [];
  const rawOwners = value("appOwnerObjectIds") ?? "[]";
  try {
    const parsed: unknown = JSON.parse(rawOwners);
    if (!Array.isArray(parsed) || parsed.some((o) => typeof o !== "string")) throw new Error("not a list of strings");
    const bad = parsed.filter((o: string) => !isGuid(o));
    if (bad.length > 0) {
      problem("appOwnerObjectIds", `${bad.map((b) => `"${b}"`).join(", ")} ${bad.length === 1 ? "is not an object ID" : "are not object IDs"}; each owner must be a GUID (az ad signed-in-user show --query id -o tsv).`);
    }
    appOwnerObjectIds = parsed as string[];
  } catch {
    problem("appOwnerObjectIds", `"${rawOwners}" is not a list; set items with pulumi config set --path 'appOwnerObjectIds[0]' <object id GUID>.`);
  }

  const callbackPath = value("callbackPath") ?? DEFAULT_CALLBACK_PATH;
  const callbackProblem = callbackPathProblem(callbackPath);
  if (callbackProblem) problem("callbackPath", callbackProblem);

  const healthCheckPath = value("healthCheckPath") ?? HEALTH_CHECK_PATH;
  const healthProblem = appPathProblem(healthCheckPath);
  if (healthProblem) problem("healthCheckPath", healthProblem);

  const existingPlanId = value("existingPlanId");
  if (existingPlanId !== undefined) {
    const p = planIdProblem(existingPlanId);
    if (p) problem("existingPlanId", p);
  }

  const rawSku = value("planSku") ?? "B1";
  const skuName = Object.keys(planSkus).find((s) => s.toLowerCase() === rawSku.toLowerCase()) as PlanSku | undefined;
  if (skuName === undefined) {
    problem("planSku", `"${rawSku}" is not a known Linux App Service plan SKU; use one of ${Object.keys(planSkus).join(", ")}.`);
  }
  const planSku: PlanSku = skuName ?? "B1";

  const rawNode = value("nodeVersion") ?? "22";
  const nodeVersion = (nodeVersions as readonly number[]).includes(Number(rawNode)) && /^\d+$/.test(rawNode)
    ? (Number(rawNode) as NodeVersion)
    : (problem("nodeVersion", `"${rawNode}" is not a supported runtime; use ${nodeVersions.join(" or ")} (pulumi config set --type int nodeVersion 22).`),
      22);

  // Always On keeps the app warm; the Free tier forbids it, and an existing plan's tier is unknown here, so default on.
  const alwaysOnAllowed = existingPlanId !== undefined || planSkus[planSku].alwaysOn;
  const alwaysOn = bool("alwaysOn", alwaysOnAllowed);
  if (alwaysOn && !alwaysOnAllowed) {
    problem("alwaysOn", `is true but the ${planSku} plan does not allow Always On; set alwaysOn to false or choose a Basic or higher planSku.`);
  }

  const uniqueDefaultHostname = bool("uniqueDefaultHostname", true);

  let tags: Record<string, string> = {};
  const rawTags = value("tags");
  if (rawTags !== undefined) {
    try {
      const parsed: unknown = JSON.parse(rawTags);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error("not an object");
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== "string") {
          problem("tags", `tag "${k}" has a ${typeof v} value; tag values must be strings (pulumi config set --path 'tags.${k}' "<text>").`);
        } else if (k.length > 512 || v.length > 256 || /[<>%&\\?/]/.test(k)) {
          problem("tags", `tag "${k}" breaks Azure's tag rules (name ≤ 512 characters without < > % & \\ ? /, value ≤ 256 characters).`);
        }
      }
      if (Object.keys(parsed).length > 50) problem("tags", `has ${Object.keys(parsed).length} tags; Azure allows at most 50 per resource.`);
      tags = parsed as Record<string, string>;
    } catch {
      problem("tags", `"${rawTags}" is not a map of tags; set each with pulumi config set --path 'tags.<name>' <value>.`);
    }
  }

  if (problems.length > 0) throw new StackConfigError(problems);
  return {
    location: location!,
    webAppName: webAppName!,
    resourceGroupName,
    cloud,
    appDisplayName,
    signInAudience,
    appRoleAssignmentRequired,
    appOwnerObjectIds,
    callbackPath,
    planSku,
    existingPlanId,
    nodeVersion,
    alwaysOn,
    healthCheckPath,
    uniqueDefaultHostname,
    tags,
  };
}
