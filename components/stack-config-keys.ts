/**
 * The stack configuration's keys, exactly as Pulumi.yaml declares them, the defaults it gives them, and the reader that
 * applies those defaults (the shared common/config-reader.ts). config.ts reads the keys through it.
 */
import {
  DEFAULT_NODE_VERSION,
  DEFAULT_PLAN_SKU,
  DEFAULT_READINESS_TIMEOUT_MINUTES,
  DEFAULT_REDIS_SKU,
  DEFAULT_SIGN_IN_AUDIENCE,
} from "../contract/catalogue";
import { DEFAULT_CLOUD } from "../contract/clouds";
import { DEFAULT_SLOT_AFTER_SWAP } from "../contract/slots";
import { DEFAULT_CALLBACK_PATH, HEALTH_CHECK_PATH } from "../contract/settings";
import { ConfigReader } from "../common/config-reader";
import { DEFAULT_AUTH_MODE } from "../contract/easy-auth";
import { DEFAULT_HOSTING } from "../contract/container-apps";

/**
 * Keys of the project namespace, exactly as declared in Pulumi.yaml (plus `tags`, `appRoles` and `appRoleAssignments`:
 * objects, which Pulumi.yaml cannot type).
 */
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
  "appRoles",
  "appRoleAssignments",
  "securityGroupClaims",
  // Hosting on Azure Container Apps (contract/container-apps.ts).
  "hosting",
  "minReplicas",
  "maxReplicas",
  "telemetry",
  // Adopting an existing registration and web app (components/adopt-config.ts).
  "existingAppClientId",
  "existingWebAppResourceGroup",
  "existingWebAppName",
  // Bring your own app (components/own-app-config.ts).
  "appPackagePath",
  "runtimeStack",
  "startupCommand",
  "readinessPath",
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
  securityGroupClaims: "false",
  hosting: DEFAULT_HOSTING,
  telemetry: "false",
};

/**
 * Raw values as the Pulumi engine hands them over (strings; arrays and objects JSON-encoded), plus provider settings.
 */
export type RawStackConfig = Partial<Record<ConfigKey, string>> & {
  /** `azuread:environment`, checked against `cloud`. */
  azureadEnvironment?: string;
  /** `azure-native:environment`, checked against `cloud`. */
  armEnvironment?: string;
  /**
   * True when the program runs in GitHub Actions as CI's deploy or preview identity (GITHUB_ACTIONS=true and
   * ARM_USE_OIDC=true, as the workflows' Pulumi jobs set), whose Microsoft Graph permission is
   * Application.ReadWrite.OwnedBy.
   */
  inGitHubActions?: boolean;
  /** `azuread:tenantId`, checked to be a tenant ID (GUID). */
  azureadTenantId?: string;
};

/**
 * The stack's reader: Pulumi.yaml's defaults applied, every problem collected under its key (common/config-reader.ts).
 */
export class Reader extends ConfigReader<ConfigKey, RawStackConfig> {
  constructor(raw: RawStackConfig) {
    super(raw, configDefaults);
  }
}
