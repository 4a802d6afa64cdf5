/**
 * What SecretlessWebApp makes of its arguments: the checks it runs before any child registers, and the app settings it
 * owns (so a caller may not set them): the \`AzureAd__…\` and Graph ones, the Redis ones when scaled out, and
 * run-from-package.
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_PLAN_SKU, DEFAULT_SCALED_OUT_INSTANCES } from "../contract/catalogue";
import { type CloudName, clouds } from "../contract/clouds";
import {
  alwaysOnProblem,
  appPathProblem,
  callbackPathProblem,
  cloudProblem,
  findPlanSku,
  instanceCountProblem,
  nodeVersionProblem,
  planSkuProblem,
  readinessTimeoutProblem,
  redisSkuProblem,
  signInAudienceProblem,
  webAppNameProblem,
} from "../contract/rules";
import {
  AzureAdSetting,
  DownstreamApiSetting,
  HEALTH_CHECK_PATH,
  RedisSetting,
  azureAdSettings,
  graphSettings,
} from "../contract/settings";
import { RUN_FROM_PACKAGE_SETTINGS } from "./appDeployment";
import { EASY_AUTH_SLOT_PROBLEM, SWAP_WARMUP_SETTINGS, slotAfterSwapProblem, stagingSlotProblem } from "../contract/slots";
import { EASY_AUTH_OWNED_SETTINGS, easyAuthConflicts } from "./easy-auth";
import type { EntraApplication } from "./entraApplication";
import type { ManagedIdentity } from "./identity";
import type { SecretlessWebAppArgs } from "./secretlessWebApp";
import type { SessionRedis } from "./sessionRedis";

/**
 * The settings that tell the app who it is, which identity to present and where the cloud's Microsoft Graph is, and,
 * scaled out, where its sessions live; none of these values is a secret.
 */
export function ownAppSettings(
  cloud: CloudName,
  callbackPath: string,
  tenantId: pulumi.Input<string>,
  entra: EntraApplication,
  identity: ManagedIdentity,
  redis: SessionRedis | undefined,
): Record<string, pulumi.Input<string>> {
  const ownSettings = {
    ...azureAdSettings<pulumi.Input<string>>({
      instance: clouds[cloud].instance,
      tenantId,
      clientId: entra.clientId,
      callbackPath,
      managedIdentityClientId: identity.clientId,
      tokenExchangeUrl: clouds[cloud].tokenExchangeAudience,
    }),
    ...graphSettings<pulumi.Input<string>>({ baseUrl: clouds[cloud].graphBaseUrl }),
  };
  // Scaled out: the Redis the sessions live in, signed in to as the app's identity (its object ID is the user name).
  const redisSettings: Record<string, pulumi.Input<string>> = redis
    ? {
        [RedisSetting.HostName]: redis.hostName,
        [RedisSetting.Port]: redis.port.apply(String),
        [RedisSetting.UserName]: identity.principalId,
      }
    : {};
  return { ...ownSettings, ...redisSettings };
}

/**
 * Checks the arguments given as plain values (an Output is checked by the service that receives it) before any child
 * registers, with the same rules as the stack configuration, reporting every problem at once.
 */
export function validateArgs(args: SecretlessWebAppArgs): void {
  const errors: pulumi.InputPropertyErrorDetails[] = [];
  const check = <T>(propertyPath: string, value: T | undefined, rule: (v: T) => string | undefined) => {
    const reason = value === undefined ? undefined : rule(value);
    if (reason) errors.push({ propertyPath, reason });
  };
  const plain = <T>(value: pulumi.Input<T> | undefined, type: string): T | undefined =>
    typeof value === type ? (value as T) : undefined;
  check("webAppName", args.webAppName, webAppNameProblem);
  check("cloud", args.cloud, cloudProblem);
  check("callbackPath", args.callbackPath, callbackPathProblem);
  check("planSku", args.planSku, planSkuProblem);
  check("nodeVersion", args.nodeVersion, nodeVersionProblem);
  check("signInAudience", plain<string>(args.signInAudience, "string"), signInAudienceProblem);
  check("healthCheckPath", plain<string>(args.healthCheckPath, "string"), (p) => appPathProblem(p, HEALTH_CHECK_PATH));
  const sku = findPlanSku(args.planSku ?? DEFAULT_PLAN_SKU);
  if (sku) check("alwaysOn", plain<boolean>(args.alwaysOn, "boolean"), (on) => alwaysOnProblem(on, sku, args.existingPlanId !== undefined));
  check("readinessTimeoutMinutes", plain<number>(args.readinessTimeoutMinutes, "number"), readinessTimeoutProblem);
  check("redisSku", args.redisSku, redisSkuProblem);
  if (sku) check("instanceCount", args.instanceCount, (n) => instanceCountProblem(n, sku, args.existingPlanId !== undefined, args.scaleOut ?? false));
  if (sku && args.scaleOut && args.instanceCount === undefined && args.existingPlanId === undefined) {
    check("scaleOut", DEFAULT_SCALED_OUT_INSTANCES, (n) => instanceCountProblem(n, sku, false, true));
  }
  if (sku && args.stagingSlot) {
    check("stagingSlot", true, () => stagingSlotProblem(sku, args.existingPlanId !== undefined));
  }
  check("stagingSlotAfterSwap", args.stagingSlotAfterSwap, slotAfterSwapProblem);
  if (args.stagingSlot && args.authMode === "easyAuth") errors.push({ propertyPath: "stagingSlot", reason: EASY_AUTH_SLOT_PROBLEM });
  if (args.stagingSlot && args.waitForReady === false) {
    errors.push({
      propertyPath: "waitForReady",
      reason: "is false but stagingSlot is on: the swap is made only once the slot's /readyz proved the chain. " +
        "Remove waitForReady: false.",
    });
  }
  // App Service setting names are case-insensitive, so a caller's `azuread__clientid` would replace the component's.
  const ownedSettings: [readonly string[], string][] = [
    [Object.values(AzureAdSetting), "from the identity and app registration it creates"],
    [Object.values(DownstreamApiSetting), "for the cloud's Microsoft Graph and the permission the app registration declares"],
    [Object.keys(RUN_FROM_PACKAGE_SETTINGS), "so the site runs the deployed zip as it is"],
    [Object.values(RedisSetting), "from the Redis it creates with scaleOut"],
    [Object.keys(SWAP_WARMUP_SETTINGS), "so a swap waits for every slot instance's /readyz"],
    [EASY_AUTH_OWNED_SETTINGS, "for authMode easyAuth (the identity Easy Auth presents, and the mode the app trusts)"],
  ];
  for (const key of Object.keys(args.appSettings ?? {})) {
    const why = ownedSettings.find(([names]) => names.some((own) => own.toLowerCase() === key.toLowerCase()))?.[1];
    if (why) errors.push({ propertyPath: `appSettings.${key}`, reason: `${key} is set by SecretlessWebApp ${why}; remove it from appSettings.` });
  }
  if (args.authMode !== undefined && args.authMode !== "app" && args.authMode !== "easyAuth") {
    errors.push({ propertyPath: "authMode", reason: `"${String(args.authMode)}" is not an auth mode; use app or easyAuth.` });
  }
  if (args.authMode === "easyAuth") {
    const conflicts = easyAuthConflicts({ scaleOut: args.scaleOut, callbackPath: args.callbackPath, signInAudience: plain<string>(args.signInAudience, "string") });
    for (const { key, problem } of conflicts) errors.push({ propertyPath: key, reason: `${key} ${problem}` });
  }
  if (errors.length > 0) throw new pulumi.InputPropertiesError({ message: "Invalid arguments for SecretlessWebApp", errors });
}
