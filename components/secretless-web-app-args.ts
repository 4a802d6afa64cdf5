/**
 * SecretlessWebApp's arguments and what it makes of them: the checks it runs before any child registers, and the app
 * settings it
 * owns (so a caller may not set them): the \`AzureAd__…\` and Graph ones, the Redis ones when scaled out, and
 * run-from-package.
 */
import type * as pulumi from "@pulumi/pulumi";
import { refuseInvalidArguments } from "../common/invalid-arguments";
import { DEFAULT_PLAN_SKU, DEFAULT_SCALED_OUT_INSTANCES, type PlanSku, type RedisSku } from "../contract/catalogue";
import type { AuthMode } from "../contract/easy-auth";
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
import { runtimeStackProblem, startupCommandProblem } from "../contract/runtimes";
import {
  AzureAdSetting,
  DownstreamApiSetting,
  HEALTH_CHECK_PATH,
  RedisSetting,
  azureAdSettings,
  graphSettings,
} from "../contract/settings";
import { type AppPackageRef, RUN_FROM_PACKAGE_SETTINGS } from "./app-deployment";
import {
  EASY_AUTH_SLOT_PROBLEM,
  SWAP_WARMUP_SETTINGS,
  type SlotAfterSwap,
  slotAfterSwapProblem,
  stagingSlotProblem,
} from "../contract/slots";
import { EASY_AUTH_OWNED_SETTINGS, easyAuthConflicts } from "./easy-auth";
import type { EntraApplication } from "./entra-application";
import type { ManagedIdentity } from "./identity";
import type { SessionRedis } from "./session-redis";
import { type AppInsights, telemetryProblem } from "./app-insights";
import { TelemetrySetting } from "../contract/telemetry";
import type { AppRoleAssignmentSpec, AppRoleDefinition } from "./app-roles";
import type { AppImageRef } from "./container-app-host";
import {
  CONTAINER_APPS_REFUSED,
  DEFAULT_NODE_VERSION_FOR_IMAGE,
  type Hosting,
  REPLICAS_ON_APP_SERVICE,
  containerAppNameProblem,
  hostingProblem,
} from "../contract/container-apps";

/** Arguments of {@link SecretlessWebApp}. */
export interface SecretlessWebAppArgs {
  /** Required. The Azure region for every Azure resource. */
  readonly location: pulumi.Input<string>;
  /** Required. The web app (site) name: 2-60 letters, digits or hyphens. */
  readonly webAppName: string;
  /** Optional. An existing resource group to deploy into. Defaults to creating one. */
  readonly resourceGroupName?: pulumi.Input<string>;
  /** Optional. The directory to register the app in. Defaults to the azuread provider's tenant (its client config). */
  readonly tenantId?: pulumi.Input<string>;
  /**
   * Optional. `public`, `usgov` or `china`: picks the login instance and token-exchange audience. Defaults to `public`.
   */
  readonly cloud?: CloudName;
  /** Optional. The app registration's display name. Defaults to `Secretless sign-in (<webAppName>)`. */
  readonly appDisplayName?: pulumi.Input<string>;
  /** Optional. Who may sign in. Defaults to `AzureADMyOrg` (single tenant). */
  readonly signInAudience?: pulumi.Input<string>;
  /** Optional. Require user assignment before sign-in. Defaults to false. */
  readonly appRoleAssignmentRequired?: pulumi.Input<boolean>;
  /** Optional. App roles on the registration (components/app-roles.ts). Defaults to none. */
  readonly appRoles?: readonly AppRoleDefinition[];
  /** Optional. Users' and groups' object IDs and the role values they are assigned. Defaults to none. */
  readonly appRoleAssignments?: readonly AppRoleAssignmentSpec[];
  /** Optional. Put the user's security groups in ID tokens. Defaults to false. */
  readonly securityGroupClaims?: boolean;
  /**
   * Optional. Grant tenant-wide admin consent to the app's delegated Microsoft Graph `User.Read` permission (needs a
   * deployer who may consent for the tenant). Defaults to false: users consent at sign-in where the tenant allows it,
   * or an administrator uses the app's admin-consent link.
   */
  readonly grantAdminConsent?: boolean;
  /** Optional. Owners of the app registration (object IDs). Defaults to none. */
  readonly appOwnerObjectIds?: pulumi.Input<string>[];
  /** Optional. The OpenID Connect callback path. Defaults to `/signin-oidc`. */
  readonly callbackPath?: string;
  /** Optional. Linux plan SKU to create, in any letter case. Defaults to `B1`. Ignored with `existingPlanId`. */
  readonly planSku?: PlanSku;
  /** Optional. An existing Linux App Service plan's resource ID. Defaults to creating a plan. */
  readonly existingPlanId?: pulumi.Input<string>;
  /** Optional. Node.js major: 22 or 24. Defaults to 22. */
  readonly nodeVersion?: number;
  /** Optional. Keep the app loaded. Defaults to on where the plan allows it. */
  readonly alwaysOn?: pulumi.Input<boolean>;
  /** Optional. Health-check path. Defaults to `/healthz`. */
  readonly healthCheckPath?: pulumi.Input<string>;
  /**
   * Optional. Start-up command. Defaults to `node server.js` (the sample app), or with `runtimeStack` to "" (the
   * runtime image's own start-up detection).
   */
  readonly appCommandLine?: pulumi.Input<string>;
  /**
   * Optional. The Linux runtime stack (`linuxFxVersion`) of an app of your own, one of contract/catalogue.ts's
   * `runtimeStacks` (`DOTNETCORE|8.0`, `NODE|22-lts`, `PYTHON|3.12`, …); `nodeVersion` is then not used. Defaults to
   * `NODE|<nodeVersion>-lts`, the sample app's.
   */
  readonly runtimeStack?: string;
  /**
   * Optional. For an app of your own: the path the deploy step waits on until it answers 200 (bounded by
   * `readinessTimeoutMinutes`). Defaults to the sample app's `/readyz` and its readiness contract
   * (contract/readiness.ts).
   */
  readonly readinessPath?: string;
  /** Optional. Secure unique default host name (creation only). Defaults to true. */
  readonly uniqueDefaultHostname?: boolean;
  /**
   * Optional. Extra app settings. They join the settings this component owns, the `AzureAd__…` ones and
   * `WEBSITE_RUN_FROM_PACKAGE`/`SCM_DO_BUILD_DURING_DEPLOYMENT`; naming one of those is an error. Defaults to none.
   */
  readonly appSettings?: Record<string, pulumi.Input<string>>;
  /**
   * Optional. The app's zip, as `packageApp()` (deploy/package-app.ts) returns it (a Promise is fine): deployed with
   * OneDeploy after the site, its settings and basic auth off, using the deployer's own Entra token. Defaults to
   * none: provision only, and deploy the zip yourself (`az webapp deploy --type zip`).
   */
  readonly appPackage?: pulumi.Input<AppPackageRef>;
  /** Optional. After deploying, wait for `/readyz` to prove the identity → FIC → Entra chain. Defaults to true. */
  readonly waitForReady?: boolean;
  /** Optional. The readiness wait's bound, in whole minutes (1–120). Defaults to 10. */
  readonly readinessTimeoutMinutes?: pulumi.Input<number>;
  /**
   * Optional. Scale out: keep sessions and pending sign-ins in Azure Managed Redis (reached with the managed identity's
   * Entra token, access keys off, TLS only), run `instanceCount` instances and turn ARR affinity off. Defaults to
   * false: one instance, sessions in its memory, ARR affinity on.
   */
  readonly scaleOut?: boolean;
  /** Optional. Instances of the plan this component creates. Defaults to 2 with `scaleOut`, 1 without. */
  readonly instanceCount?: number;
  /** Optional. The Azure Managed Redis SKU with `scaleOut`. Defaults to `Balanced_B0`. */
  readonly redisSku?: RedisSku;
  /**
   * Optional. Deploy without downtime through a `staging` deployment slot (Standard tier and up): the slot wears the
   * same identity and hardening, has its own redirect URI, and the deploy step swaps it into production only once its
   * `/readyz` proved the chain (components/staging-slot.ts, deploy/swap.ts). Defaults to false: deploy in place.
   */
  readonly stagingSlot?: boolean;
  /**
   * Optional. With `stagingSlot`: `keep` the previous version running in the slot after a swap, or `stop` the slot.
   * Defaults to `keep`.
   */
  readonly stagingSlotAfterSwap?: SlotAfterSwap;
  /**
   * Optional. Who signs users in: `app` (the sample app, with the identity's token as its client assertion) or
   * `easyAuth` (App Service's built-in authentication presents the same token through the FIC; see
   * components/easy-auth.ts). Easy Auth is refused with `scaleOut`, a custom `callbackPath` or a multi-tenant
   * `signInAudience`. Defaults to `app`.
   */
  readonly authMode?: AuthMode;
  /**
   * Optional. Telemetry: a Log Analytics workspace that takes Microsoft Entra ID only (components/log-workspace.ts)
   * with the site's platform logs sent to it, and workspace-based Application Insights with local authentication off
   * that the app's identity alone may publish to (components/app-insights.ts), named in the app's
   * `APPLICATIONINSIGHTS_*` settings. Needs a deployer who may assign roles (the publisher grant); public cloud only
   * (Entra-authenticated ingestion). Defaults to false. Cost and what it holds: docs/telemetry.md.
   */
  readonly telemetry?: boolean;
  /** Optional. Tags for every Azure resource that takes them. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Optional. Where the app runs: `appService` (a Linux web app) or `containerApps` (a container app in a managed
   * environment, pulling this stack's image from its own registry with the identity; components/container-app-host.ts).
   * Defaults to `appService`.
   */
  readonly hosting?: Hosting;
  /** Optional. With `containerApps`: the fewest replicas. Defaults to 1, or 2 with `scaleOut`. */
  readonly minReplicas?: number;
  /** Optional. With `containerApps`: the most replicas. Defaults to 1, or 10 with `scaleOut`. */
  readonly maxReplicas?: number;
  /**
   * Required with `containerApps`: the image to push and run, as `buildAppImage()` (deploy/container-image.ts) returns
   * it. Ignored on App Service.
   */
  readonly appImage?: pulumi.Input<AppImageRef>;
  /**
   * Optional. Adopt this existing app registration (by client ID) instead of creating one: the stack adds its
   * federated credential and redirect URI to it and owns nothing else of it (components/adoption.ts). Defaults to
   * creating a registration.
   */
  readonly existingApp?: { readonly clientId: string };
  /**
   * Optional. Adopt this existing Linux web app instead of creating one: the stack adds its identity and `AzureAd__…`
   * settings to it, never deploys onto it, and owns nothing else of it. Defaults to creating a web app.
   */
  readonly existingWebApp?: { readonly resourceGroupName: string; readonly name: string };
}

/**
 * The settings that tell the app who it is, which identity to present and where the cloud's Microsoft Graph is;
 * scaled out, where its sessions live; with telemetry, where it sends telemetry and as whom. None of these values is a
 * secret.
 */
export function ownAppSettings(
  cloud: CloudName,
  callbackPath: string,
  tenantId: pulumi.Input<string>,
  entra: Pick<EntraApplication, "clientId">,
  identity: ManagedIdentity,
  redis: SessionRedis | undefined,
  insights?: AppInsights,
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
  // With telemetry: where the exporter sends (the connection string, not a secret with local auth off) and the
  // identity it authenticates as (components/app-insights.ts).
  return { ...ownSettings, ...redisSettings, ...(insights?.appSettings ?? {}) };
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
  if (sku)
    check("alwaysOn", plain<boolean>(args.alwaysOn, "boolean"), (on) =>
      alwaysOnProblem(on, sku, args.existingPlanId !== undefined),
    );
  check("runtimeStack", args.runtimeStack, runtimeStackProblem);
  if (args.runtimeStack !== undefined) {
    const stack = args.runtimeStack;
    check("appCommandLine", plain<string>(args.appCommandLine, "string"), (c) => startupCommandProblem(c, stack));
  }
  check("readinessPath", args.readinessPath, (p) => appPathProblem(p, "/healthz"));
  if (args.readinessPath !== undefined && args.stagingSlot) {
    errors.push({
      propertyPath: "readinessPath",
      reason:
        "is set with stagingSlot on, but the swap is guarded by the sample app's /readyz contract; " +
        "remove stagingSlot, or readinessPath to deploy the sample app.",
    });
  }
  check("readinessTimeoutMinutes", plain<number>(args.readinessTimeoutMinutes, "number"), readinessTimeoutProblem);
  check("redisSku", args.redisSku, redisSkuProblem);
  if (sku)
    check("instanceCount", args.instanceCount, (n) =>
      instanceCountProblem(n, sku, args.existingPlanId !== undefined, args.scaleOut ?? false),
    );
  if (sku && args.scaleOut && args.instanceCount === undefined && args.existingPlanId === undefined) {
    check("scaleOut", DEFAULT_SCALED_OUT_INSTANCES, (n) => instanceCountProblem(n, sku, false, true));
  }
  if (sku && args.stagingSlot) {
    check("stagingSlot", true, () => stagingSlotProblem(sku, args.existingPlanId !== undefined));
  }
  check("stagingSlotAfterSwap", args.stagingSlotAfterSwap, slotAfterSwapProblem);
  if (args.cloud === undefined || !cloudProblem(args.cloud))
    check("telemetry", args.telemetry, (on) => telemetryProblem(on, args.cloud ?? "public"));
  if (args.stagingSlot && args.authMode === "easyAuth")
    errors.push({ propertyPath: "stagingSlot", reason: EASY_AUTH_SLOT_PROBLEM });
  if (args.stagingSlot && args.waitForReady === false) {
    errors.push({
      propertyPath: "waitForReady",
      reason:
        "is false but stagingSlot is on: the swap is made only once the slot's /readyz proved the chain. " +
        "Remove waitForReady: false.",
    });
  }
  // App Service setting names are case-insensitive, so a caller's `azuread__clientid` would replace the component's.
  const ownedSettings: [readonly string[], string][] = [
    [Object.values(AzureAdSetting), "from the identity and app registration it creates"],
    [
      Object.values(DownstreamApiSetting),
      "for the cloud's Microsoft Graph and the permission the app registration declares",
    ],
    [Object.keys(RUN_FROM_PACKAGE_SETTINGS), "so the site runs the deployed zip as it is"],
    [Object.values(RedisSetting), "from the Redis it creates with scaleOut"],
    [Object.keys(SWAP_WARMUP_SETTINGS), "so a swap waits for every slot instance's /readyz"],
    [Object.values(TelemetrySetting), "from the Application Insights it creates with telemetry (Entra-only)"],
    [EASY_AUTH_OWNED_SETTINGS, "for authMode easyAuth (the identity Easy Auth presents, and the mode the app trusts)"],
  ];
  for (const key of Object.keys(args.appSettings ?? {})) {
    const why = ownedSettings.find(([names]) => names.some((own) => own.toLowerCase() === key.toLowerCase()))?.[1];
    if (why)
      errors.push({
        propertyPath: `appSettings.${key}`,
        reason: `${key} is set by SecretlessWebApp ${why}; remove it from appSettings.`,
      });
  }
  if (args.authMode !== undefined && args.authMode !== "app" && args.authMode !== "easyAuth") {
    errors.push({
      propertyPath: "authMode",
      reason: `"${String(args.authMode)}" is not an auth mode; use app or easyAuth.`,
    });
  }
  if (args.authMode === "easyAuth") {
    const conflicts = easyAuthConflicts({
      scaleOut: args.scaleOut,
      callbackPath: args.callbackPath,
      signInAudience: plain<string>(args.signInAudience, "string"),
    });
    for (const { key, problem } of conflicts) errors.push({ propertyPath: key, reason: `${key} ${problem}` });
  }
  errors.push(...hostingErrors(args));
  errors.push(...adoptionConflicts(args));
  refuseInvalidArguments("SecretlessWebApp", errors);
}

/** What cannot work with the chosen hosting: the stack configuration's refusals (contract/container-apps.ts). */
function hostingErrors(args: SecretlessWebAppArgs): pulumi.InputPropertyErrorDetails[] {
  const errors: pulumi.InputPropertyErrorDetails[] = [];
  const hosting = args.hosting ?? "appService";
  const problem = hostingProblem(hosting);
  if (problem) return [{ propertyPath: "hosting", reason: problem }];
  if (hosting === "appService") {
    for (const key of ["minReplicas", "maxReplicas"] as const) {
      if (args[key] !== undefined)
        errors.push({ propertyPath: key, reason: REPLICAS_ON_APP_SERVICE.replace("<key>", key) });
    }
    return errors;
  }
  const refuse = (key: keyof typeof CONTAINER_APPS_REFUSED, when: boolean) => {
    if (when) errors.push({ propertyPath: key, reason: CONTAINER_APPS_REFUSED[key] });
  };
  refuse("stagingSlot", args.stagingSlot === true);
  refuse("authMode", args.authMode === "easyAuth");
  refuse("planSku", args.planSku !== undefined);
  refuse("existingPlanId", args.existingPlanId !== undefined);
  refuse("alwaysOn", args.alwaysOn !== undefined);
  refuse("instanceCount", args.instanceCount !== undefined);
  refuse("nodeVersion", args.nodeVersion !== undefined && args.nodeVersion !== DEFAULT_NODE_VERSION_FOR_IMAGE);
  refuse("uniqueDefaultHostname", args.uniqueDefaultHostname === false);
  refuse("existingApp", args.existingApp !== undefined);
  refuse("existingWebApp", args.existingWebApp !== undefined);
  for (const key of ["runtimeStack", "appCommandLine", "appPackage"] as const) {
    if (args[key] !== undefined) {
      errors.push({
        propertyPath: key,
        reason: CONTAINER_APPS_REFUSED.ownApp.replace("(pulumi config rm <key>) ", ""),
      });
    }
  }
  const nameProblem = containerAppNameProblem(args.webAppName);
  if (nameProblem) errors.push({ propertyPath: "webAppName", reason: nameProblem });
  if (args.appImage === undefined) {
    errors.push({
      propertyPath: "appImage",
      reason: "is required with hosting containerApps: pass what buildAppImage() (deploy/container-image.ts) returns.",
    });
  }
  return errors;
}

/** What an adopted registration or site does not take: arguments that would change them, or deploy onto the site. */
function adoptionConflicts(args: SecretlessWebAppArgs): pulumi.InputPropertyErrorDetails[] {
  const set = (keys: readonly (keyof SecretlessWebAppArgs)[]) =>
    keys.filter((k) => {
      const v = args[k];
      return v !== undefined && v !== false && !(typeof v === "object" && v !== null && Object.keys(v).length === 0);
    });
  const problems: pulumi.InputPropertyErrorDetails[] = [];
  const refuse = (keys: (keyof SecretlessWebAppArgs)[], why: string) => {
    for (const k of set(keys)) problems.push({ propertyPath: k, reason: `${k} is set, but ${why}; remove it.` });
  };
  if (args.existingApp) {
    // appDisplayName is ignored, like planSku with existingPlanId: the stack config always fills it in.
    refuse(
      [
        "appRoleAssignmentRequired",
        "appRoles",
        "appRoleAssignments",
        "securityGroupClaims",
        "grantAdminConsent",
        "appOwnerObjectIds",
      ],
      "existingApp adopts a registration this component does not change",
    );
    if (args.authMode === "easyAuth")
      problems.push({ propertyPath: "authMode", reason: "easyAuth changes the adopted registration; use app." });
  }
  if (args.existingWebApp) {
    // The plan and runtime arguments (planSku, nodeVersion, alwaysOn, healthCheckPath, appCommandLine, instanceCount)
    // are ignored, as planSku is with existingPlanId; these would change the site or deploy onto it.
    refuse(
      ["existingPlanId", "appSettings", "appPackage", "scaleOut", "stagingSlot", "telemetry"],
      "existingWebApp adopts a site this component neither reconfigures nor deploys onto",
    );
    if (args.authMode === "easyAuth")
      problems.push({
        propertyPath: "authMode",
        reason: "easyAuth changes the adopted site's authentication; use app.",
      });
  }
  return problems;
}
