import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_NODE_VERSION,
  DEFAULT_PLAN_SKU,
  DEFAULT_READINESS_TIMEOUT_MINUTES,
  DEFAULT_REDIS_SKU,
  DEFAULT_SCALED_OUT_INSTANCES,
  DEFAULT_SIGN_IN_AUDIENCE,
  type NodeVersion,
  type PlanSku,
  type RedisSku,
  type SignInAudience,
  alwaysOnByDefault,
  defaultDisplayName,
} from "../contract/catalogue";
import { type ConfigProblem, ConfigProblemsError } from "../common/config-problems";
import { type CloudName, DEFAULT_CLOUD, clouds, isCloudName } from "../contract/clouds";
import {
  alwaysOnProblem,
  appPathProblem,
  callbackPathProblem,
  cloudProblem,
  displayNameProblem,
  findPlanSku,
  instanceCountProblem,
  locationProblem,
  nodeVersionProblem,
  objectIdProblem,
  planIdProblem,
  planSkuProblem,
  readinessTimeoutProblem,
  redisSkuProblem,
  resourceGroupNameProblem,
  signInAudienceProblem,
  webAppNameProblem,
} from "../contract/rules";
import { DEFAULT_CALLBACK_PATH, HEALTH_CHECK_PATH } from "../contract/settings";
import { type RawStackConfig, Reader } from "./stack-config-keys";
import {
  DEFAULT_SLOT_AFTER_SWAP,
  type SlotAfterSwap,
  EASY_AUTH_SLOT_PROBLEM,
  slotAfterSwapProblem,
  stagingSlotProblem,
} from "../contract/slots";
import type { AuthMode } from "../contract/easy-auth";
import { readAuthMode } from "./easy-auth";
import { type AppAccessConfig, readAppAccess } from "./app-roles";
import {
  CONTAINER_APPS_REFUSED,
  DEFAULT_HOSTING,
  DEFAULT_REPLICAS,
  type Hosting,
  REPLICAS_ON_APP_SERVICE,
  containerAppNameProblem,
  hostingProblem,
  replicaProblems,
} from "../contract/container-apps";
import { DEFAULT_TELEMETRY, TELEMETRY_CI_PROBLEM, telemetryProblem } from "./app-insights";
import { type OwnAppConfig, readOwnApp } from "./own-app-config";
import { type AdoptionConfig, readAdoption } from "./adopt-config";

export { configDefaults, configKeys, type RawStackConfig } from "./stack-config-keys";

/**
 * The stack configuration contract: every key declared in Pulumi.yaml's `config:` block, parsed and validated in one
 * pass before any resource registers. Every problem is reported at once, each naming the key and the fix. The rules
 * themselves are in contract/rules.ts, shared with the components and the app; the keys, Pulumi.yaml's defaults and the
 * reader that applies them are in config-keys.ts; this file reads the keys.
 */

/** The validated stack configuration that index.ts builds the stack from. */
export interface StackConfig extends AppAccessConfig, AdoptionConfig, OwnAppConfig {
  location: string;
  webAppName: string;
  /** An existing resource group to deploy into; undefined creates one. */
  resourceGroupName?: string;
  cloud: CloudName;
  appDisplayName: string;
  signInAudience: SignInAudience;
  appRoleAssignmentRequired: boolean;
  /** Grant tenant-wide admin consent to the app's delegated Microsoft Graph User.Read permission. */
  grantAdminConsent: boolean;
  appOwnerObjectIds: string[];
  callbackPath: string;
  /** The plan SKU to create; undefined on Container Apps (no plan). */
  planSku?: PlanSku;
  /** An existing Linux App Service plan to host the app; undefined creates one with `planSku`. */
  existingPlanId?: string;
  /** Undefined on Container Apps: the image's base decides. */
  nodeVersion?: NodeVersion;
  /** Undefined on Container Apps: minReplicas keeps a replica loaded. */
  alwaysOn?: boolean;
  healthCheckPath: string;
  /** Undefined on Container Apps: it names the app's host itself. */
  uniqueDefaultHostname?: boolean;
  /** Run several instances with sessions and pending sign-ins in Azure Managed Redis, ARR affinity off. */
  scaleOut: boolean;
  /** Instances of the plan this stack creates (1 unless scaled out); undefined on an existing plan. */
  instanceCount?: number;
  /** The Azure Managed Redis SKU, used when scaled out. */
  redisSku: RedisSku;
  /** Package and deploy the bundled app during `pulumi up`; false provisions only. */
  deployApp: boolean;
  /** After deploying, wait for `/readyz` to prove the managed identity → FIC → Entra chain. */
  waitForReady: boolean;
  /** The readiness wait's bound, in minutes. */
  readinessTimeoutMinutes: number;
  /** Deploy through a `staging` slot, swapped in once its /readyz proved the chain (Standard tier and up). */
  stagingSlot: boolean;
  /** After a swap: keep the previous version running in the slot, or stop the slot. */
  stagingSlotAfterSwap: SlotAfterSwap;
  tags: Record<string, string>;
  /** Who signs users in: the app (default) or App Service's built-in authentication (components/easy-auth.ts). */
  authMode: AuthMode;
  /** Where the app runs: a Linux web app (default) or a container app (components/container-app-host.ts). */
  hosting: Hosting;
  /** With `containerApps`: the fewest replicas kept running; undefined on App Service. */
  minReplicas?: number;
  /** With `containerApps`: the most replicas Container Apps scales to; undefined on App Service. */
  maxReplicas?: number;
  /** Entra-only Log Analytics and Application Insights for the app (components/app-insights.ts). */
  telemetry: boolean;
}

/** Thrown when the stack configuration is invalid; lists every problem found. */
export class StackConfigError extends ConfigProblemsError {
  constructor(problems: ConfigProblem[]) {
    super(
      "stack configuration",
      problems,
      `Fix the keys above in Pulumi.${pulumi.getStack() || "<stack>"}.yaml (under \`config:\`, as ` +
        `\`${pulumi.getProject() || "<project>"}:<key>: <value>\`) ` +
        "or with `pulumi config set <key> <value>`",
    );
    this.name = "StackConfigError";
  }
}

function readPlace(r: Reader) {
  const location = r.required(
    "location",
    "set the Azure region to deploy to (pulumi config set location westeurope).",
    locationProblem,
  );
  // An adopted web app (existingWebAppName) names the site; webAppName then defaults to it (adopt-config.ts).
  const webAppName = r.value("existingWebAppName")
    ? (r.optional("webAppName", webAppNameProblem) ?? r.value("existingWebAppName"))
    : r.required(
        "webAppName",
        "set the App Service app name (pulumi config set webAppName my-signin-app).",
        webAppNameProblem,
      );
  const resourceGroupName = r.optional("resourceGroupName", resourceGroupNameProblem);
  // CI's deploy identity has rights in the bootstrap's target group only, and none to create a group.
  if (r.raw.inGitHubActions && resourceGroupName === undefined) {
    r.report(
      "resourceGroupName",
      "is unset, so the stack would create a resource group, which CI's " +
        "deploy identity may not; set it to the bootstrap's " +
        "targetResourceGroupName (pulumi config set resourceGroupName secretless-signin).",
    );
  }
  return { location, webAppName, resourceGroupName };
}

/** The cloud, which the azuread and azure-native providers must target too when their environment is set. */
function readCloud(r: Reader): CloudName {
  const cloud = r.withDefault("cloud", DEFAULT_CLOUD, cloudProblem);
  if (!isCloudName(cloud)) return DEFAULT_CLOUD;
  const mismatch = (setting: string, value: string | undefined, allowed: readonly string[], consequence: string) => {
    if (value && !allowed.includes(value.toLowerCase())) {
      r.report(
        "cloud",
        `is "${cloud}" but ${setting} is "${value}"; ${consequence}. Set ` +
          `${setting} to ${allowed[0]} or change cloud.`,
      );
    }
  };
  const { azureadEnvironments, armEnvironments } = clouds[cloud];
  mismatch(
    "azuread:environment",
    r.raw.azureadEnvironment,
    azureadEnvironments,
    "the app registration would live in another cloud than its federated credential",
  );
  mismatch(
    "azure-native:environment",
    r.raw.armEnvironment,
    armEnvironments,
    "the managed identity would live in another cloud than the app registration",
  );
  // The tenant must be the directory's ID. The federated credential's issuer is {instance}{tenant ID}/v2.0, which Entra
  // compares exactly with the `iss` of the managed identity's token, always written with the GUID; so a domain name
  // (even a verified one) is refused here too, rather than allowed to build an issuer no token can match.
  const tenant = r.raw.azureadTenantId?.trim();
  if (tenant && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(tenant)) {
    r.report(
      "azuread:tenantId",
      `"${tenant.slice(0, 80)}" is not a tenant ID; it must be the directory's GUID ` +
        "(az account show --query tenantId -o tsv), " +
        "or leave it unset to use the tenant of the azuread provider's login.",
    );
  }
  return cloud;
}

function readRegistration(r: Reader, webAppName: string | undefined) {
  const appDisplayName = r.withDefault("appDisplayName", defaultDisplayName(webAppName ?? "app"), displayNameProblem);
  const signInAudience = r.withDefault(
    "signInAudience",
    DEFAULT_SIGN_IN_AUDIENCE,
    signInAudienceProblem,
  ) as SignInAudience;
  const appRoleAssignmentRequired = r.bool("appRoleAssignmentRequired", false);
  const grantAdminConsent = r.bool("grantAdminConsent", false);
  if (r.raw.inGitHubActions && grantAdminConsent) {
    r.report(
      "grantAdminConsent",
      "is true, but a tenant-wide consent grant needs " +
        "DelegatedPermissionGrant.ReadWrite.All, which CI's deploy identity " +
        "(Application.ReadWrite.OwnedBy) does not hold. Grant consent once " +
        "as an administrator (the app's admin-consent " +
        "link, or az ad app permission admin-consent --id <app client id>), then set it " +
        "to false (pulumi config set grantAdminConsent false).",
    );
  }
  const fix = "a list; set items with pulumi config set --path 'appOwnerObjectIds[0]' <object id GUID>.";
  const appOwnerObjectIds = r.stringList("appOwnerObjectIds", fix, (o) => objectIdProblem(o));
  // CI's deploy identity holds Application.ReadWrite.OwnedBy, which cannot add other owners to an application or a
  // service principal (Graph "Add owner": OwnedBy "cannot add other owners"); the deployer itself is always an owner.
  if (r.raw.inGitHubActions && appOwnerObjectIds.length > 0 && !r.failed("appOwnerObjectIds")) {
    r.report(
      "appOwnerObjectIds",
      "lists owners, but in GitHub Actions the deploy identity's " +
        "Application.ReadWrite.OwnedBy cannot add owners. Add them " +
        "once as an administrator (az ad app owner add --id <app client " +
        "id> --owner-object-id <object id>, and on the " +
        "enterprise application under Owners in the Entra admin center), then remove appOwnerObjectIds " +
        "from this stack's config (pulumi config rm appOwnerObjectIds).",
    );
  }
  return { appDisplayName, signInAudience, appRoleAssignmentRequired, grantAdminConsent, appOwnerObjectIds };
}

function readPaths(r: Reader) {
  const callbackPath = r.withDefault("callbackPath", DEFAULT_CALLBACK_PATH, callbackPathProblem);
  const healthCheckPath = r.withDefault("healthCheckPath", HEALTH_CHECK_PATH, (p) =>
    appPathProblem(p, HEALTH_CHECK_PATH),
  );
  return { callbackPath, healthCheckPath };
}

function readHosting(r: Reader) {
  const existingPlanId = r.optional("existingPlanId", planIdProblem);
  const planSku = findPlanSku(r.withDefault("planSku", DEFAULT_PLAN_SKU, planSkuProblem)) ?? DEFAULT_PLAN_SKU;
  const rawNode = r.withDefault("nodeVersion", String(DEFAULT_NODE_VERSION), (v) => {
    const p = nodeVersionProblem(v);
    return p && `${p} Set it with pulumi config set --type int nodeVersion ${DEFAULT_NODE_VERSION}.`;
  });
  const onExistingPlan = existingPlanId !== undefined;
  const alwaysOn = r.bool("alwaysOn", alwaysOnByDefault(planSku, onExistingPlan));
  r.report("alwaysOn", alwaysOnProblem(alwaysOn, planSku, onExistingPlan));
  const uniqueDefaultHostname = r.bool("uniqueDefaultHostname", true);
  return { planSku, existingPlanId, nodeVersion: Number(rawNode) as NodeVersion, alwaysOn, uniqueDefaultHostname };
}

/**
 * The scaled-out shape: whether sessions move to Azure Managed Redis, how many instances the created plan runs (two by
 * default when scaled out, one otherwise) and the Redis SKU.
 */
function readScale(r: Reader, planSku: PlanSku, existingPlanId: string | undefined) {
  const scaleOut = r.bool("scaleOut", false);
  const redisSku = r.withDefault("redisSku", DEFAULT_REDIS_SKU, redisSkuProblem) as RedisSku;
  const onExistingPlan = existingPlanId !== undefined;
  const set = r.value("instanceCount");
  const fix = ` Set it with pulumi config set --type int instanceCount ${DEFAULT_SCALED_OUT_INSTANCES}.`;
  if (set !== undefined) {
    const problem = instanceCountProblem(set, planSku, onExistingPlan, scaleOut);
    r.report("instanceCount", problem && /^"/.test(problem) ? `${problem}${fix}` : problem);
    return { scaleOut, redisSku, instanceCount: problem ? undefined : Number(set) };
  }
  if (onExistingPlan) return { scaleOut, redisSku, instanceCount: undefined };
  const instanceCount = scaleOut ? DEFAULT_SCALED_OUT_INSTANCES : 1;
  r.report(
    "scaleOut",
    scaleOut
      ? instanceCountProblem(instanceCount, planSku, false, true)?.replace(
          /^is \d+/,
          `is true (${instanceCount} instances)`,
        )
      : undefined,
  );
  return { scaleOut, redisSku, instanceCount };
}

/** The deploy step: whether it runs, and how long it waits for the app to report ready. */
function readDeployment(r: Reader) {
  const deployApp = r.bool("deployApp", true);
  const waitForReady = r.bool("waitForReady", true);
  const rawTimeout = r.withDefault("readinessTimeoutMinutes", String(DEFAULT_READINESS_TIMEOUT_MINUTES), (v) => {
    const p = readinessTimeoutProblem(v);
    return (
      p && `${p} Set it with pulumi config set --type int readinessTimeoutMinutes ${DEFAULT_READINESS_TIMEOUT_MINUTES}.`
    );
  });
  const readinessTimeoutMinutes = readinessTimeoutProblem(rawTimeout)
    ? DEFAULT_READINESS_TIMEOUT_MINUTES
    : Number(rawTimeout);
  return { deployApp, waitForReady, readinessTimeoutMinutes };
}

/** The staging slot: only on plan tiers that have slots, and only with the readiness wait that guards the swap. */
function readSlot(r: Reader, planSku: PlanSku, existingPlanId: string | undefined, waitForReady: boolean) {
  const stagingSlot = r.bool("stagingSlot", false);
  const afterSwap = r.withDefault("stagingSlotAfterSwap", DEFAULT_SLOT_AFTER_SWAP, slotAfterSwapProblem);
  const stagingSlotAfterSwap = afterSwap as SlotAfterSwap;
  if (stagingSlot) {
    r.report("stagingSlot", stagingSlotProblem(planSku, existingPlanId !== undefined));
    if (r.value("authMode") === "easyAuth") r.report("stagingSlot", EASY_AUTH_SLOT_PROBLEM);
    if (!waitForReady) {
      r.report(
        "waitForReady",
        "is false but stagingSlot is true: the swap is made only once the slot's /readyz proved the chain. " +
          "Set waitForReady to true (pulumi config set --type bool waitForReady true).",
      );
    }
  }
  return { stagingSlot, stagingSlotAfterSwap };
}

/**
 * The hosting switch and, on Container Apps, the replica bounds; every App Service-only key that is set (a value
 * other than Pulumi.yaml's default, which the CLI fills in) is refused there with its reason and fix, and the replica
 * keys are refused on App Service.
 */
function readContainerHosting(r: Reader, scaleOut: boolean) {
  const hosting = r.withDefault("hosting", DEFAULT_HOSTING, hostingProblem) as Hosting;
  const replicaKeys = ["minReplicas", "maxReplicas"] as const;
  if (hosting !== "containerApps") {
    for (const key of replicaKeys) {
      if (r.value(key) !== undefined) r.report(key, REPLICAS_ON_APP_SERVICE.replace("<key>", key));
    }
    return { hosting: r.failed("hosting") ? DEFAULT_HOSTING : hosting };
  }
  if (r.raw.inGitHubActions) r.report("hosting", CONTAINER_APPS_REFUSED.ci);
  const differs = (key: "planSku" | "existingPlanId" | "alwaysOn" | "instanceCount" | "nodeVersion") => {
    const v = r.value(key);
    return v !== undefined && v !== r.defaults[key];
  };
  for (const key of ["planSku", "existingPlanId", "alwaysOn", "instanceCount", "nodeVersion"] as const) {
    if (differs(key)) r.report(key, CONTAINER_APPS_REFUSED[key]);
  }
  if (r.value("stagingSlot") === "true") r.report("stagingSlot", CONTAINER_APPS_REFUSED.stagingSlot);
  if (r.value("authMode") === "easyAuth") r.report("authMode", CONTAINER_APPS_REFUSED.authMode);
  if (r.value("uniqueDefaultHostname") === "false") {
    r.report("uniqueDefaultHostname", CONTAINER_APPS_REFUSED.uniqueDefaultHostname);
  }
  if (r.value("deployApp") === "false") r.report("deployApp", CONTAINER_APPS_REFUSED.deployApp);
  for (const key of ["appPackagePath", "runtimeStack", "startupCommand", "readinessPath"] as const) {
    if (r.value(key) !== undefined) r.report(key, CONTAINER_APPS_REFUSED.ownApp.replace("<key>", key));
  }
  for (const key of ["existingAppClientId", "existingWebAppName"] as const) {
    if (r.value(key) !== undefined) r.report(key, CONTAINER_APPS_REFUSED.adopt.replace("<key>", key));
  }
  const name = r.value("webAppName");
  if (name !== undefined && !r.failed("webAppName")) r.report("webAppName", containerAppNameProblem(name));
  const defaults = scaleOut ? DEFAULT_REPLICAS.scaledOut : DEFAULT_REPLICAS.single;
  const whole = (key: (typeof replicaKeys)[number], fallback: number) => {
    const v = r.value(key);
    if (v === undefined) return fallback;
    if (!/^\d+$/.test(v)) {
      r.report(key, `"${v}" is not a whole number; set it with pulumi config set --type int ${key} ${fallback}.`);
      return undefined;
    }
    return Number(v);
  };
  const minReplicas = whole("minReplicas", defaults.min);
  const maxReplicas = whole("maxReplicas", defaults.max);
  if (minReplicas === undefined || maxReplicas === undefined) return { hosting };
  for (const { key, problem } of replicaProblems(minReplicas, maxReplicas, scaleOut)) r.report(key, problem);
  return { hosting, minReplicas, maxReplicas };
}

/**
 * Telemetry: off unless asked for (it assigns a role); refused outside the public cloud, where Application Insights
 * takes no Entra-authenticated ingestion, and in GitHub Actions, whose deploy identity may not assign roles.
 */
function readTelemetry(r: Reader, cloud: CloudName): boolean {
  const telemetry = r.bool("telemetry", DEFAULT_TELEMETRY);
  r.report("telemetry", telemetryProblem(telemetry, cloud));
  if (telemetry && r.raw.inGitHubActions) r.report("telemetry", TELEMETRY_CI_PROBLEM);
  return telemetry;
}

/**
 * Parses and validates the raw stack configuration. Defaults from Pulumi.yaml fill unset keys. Throws a
 * {@link StackConfigError} listing every problem; returns the typed configuration otherwise.
 */
export function parseStackConfig(raw: RawStackConfig): StackConfig {
  const r = new Reader(raw);
  const { location, webAppName, resourceGroupName } = readPlace(r);
  const cloud = readCloud(r);
  const registration = readRegistration(r, webAppName);
  const paths = readPaths(r);
  const hosting = readHosting(r);
  const deployment = readDeployment(r);
  const scale = readScale(r, hosting.planSku, hosting.existingPlanId);
  const slot = readSlot(r, hosting.planSku, hosting.existingPlanId, deployment.waitForReady);
  const rest = {
    cloud,
    ...registration,
    ...paths,
    ...hosting,
    ...scale,
    ...deployment,
    ...slot,
    tags: r.tags("tags"),
    authMode: readAuthMode(r),
    ...readAppAccess(r, webAppName),
    telemetry: readTelemetry(r, cloud),
    ...readOwnApp(r, { ...deployment, stagingSlot: slot.stagingSlot, nodeVersion: hosting.nodeVersion }),
  };
  const { adoption, overrides } = readAdoption(r, webAppName);
  const containerHosting = readContainerHosting(r, rest.scaleOut);
  if (r.problems.length > 0) throw new StackConfigError(r.problems);
  const config = {
    location: location!,
    webAppName: webAppName!,
    resourceGroupName,
    ...rest,
    ...adoption,
    ...overrides,
    ...containerHosting,
  };
  if (containerHosting.hosting !== "containerApps") return config;
  // On Container Apps the App Service-only keys (refused above when set) carry only Pulumi.yaml's defaults: drop them,
  // so the component gets nothing it would refuse. Replicas take the plan's instance count's place.
  const appServiceOnly = {
    planSku: undefined,
    existingPlanId: undefined,
    nodeVersion: undefined,
    alwaysOn: undefined,
    uniqueDefaultHostname: undefined,
    instanceCount: undefined,
  };
  return { ...config, ...appServiceOnly };
}
