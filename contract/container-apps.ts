/**
 * Hosting on Azure Container Apps: the switch, the replica bounds and the names and facts the stack, its config
 * validation, the policy pack and the docs share. Everything here is plain data and pure rules (no Pulumi import).
 */

/** Where the app runs: App Service (the default, a Linux web app) or Azure Container Apps. */
export const hostings = ["appService", "containerApps"] as const;
export type Hosting = (typeof hostings)[number];
export const DEFAULT_HOSTING: Hosting = "appService";

export function hostingProblem(value: string): string | undefined {
  return (hostings as readonly string[]).includes(value)
    ? undefined
    : `"${value}" is not a hosting; use appService (a Linux web app, the default) or containerApps ` +
        "(pulumi config set hosting containerApps).";
}

/**
 * The port the app listens on inside the container (the app's own default, app/app-config.ts DEFAULT_PORT), set as
 * `PORT` too so the two can never disagree; ingress forwards to it (`targetPort`).
 */
export const APP_CONTAINER_PORT = 8080;

/**
 * Replica bounds. "maxReplicas: Optional. Maximum number of container replicas. Defaults to 10 if not set." (the ARM
 * `Scale` model, learn.microsoft.com/javascript/api/@azure/arm-appcontainers/scale); a Consumption app may scale to
 * 1000 (learn.microsoft.com/azure/container-apps/scale-app, "Scale definition"). One replica without `scaleOut`
 * (sessions live in its memory); with `scaleOut` sessions live in Redis, so two replicas stay warm and Container Apps
 * may add up to its own default of 10.
 */
export const REPLICA_LIMIT = 1000;
export const DEFAULT_REPLICAS = { single: { min: 1, max: 1 }, scaledOut: { min: 2, max: 10 } } as const;

/**
 * The container's resources: 0.5 vCPU and 1 GiB, one of the Consumption plan's allowed pairs (cpu 0.25-2 in 0.25
 * steps with memory 2 GiB per vCPU; learn.microsoft.com/azure/container-apps/containers, "Allocations").
 */
export const CONTAINER_CPU = 0.5;
export const CONTAINER_MEMORY = "1Gi";

/**
 * Why the replica bounds cannot work, or undefined. `set` says which keys the stack configuration set (a default is
 * never wrong on its own). Sessions live in one replica's memory unless `scaleOut`, so without it a second replica
 * would sign users out at random, and scaling to zero would forget every session.
 */
export function replicaProblems(
  min: number,
  max: number,
  scaleOut: boolean,
): { key: "minReplicas" | "maxReplicas"; problem: string }[] {
  const problems: { key: "minReplicas" | "maxReplicas"; problem: string }[] = [];
  const whole = (n: number) => Number.isInteger(n) && n >= 0 && n <= REPLICA_LIMIT;
  if (!whole(min)) problems.push({ key: "minReplicas", problem: `is ${min}; set a whole number from 0 to 1000.` });
  if (!whole(max) || max < 1) {
    problems.push({ key: "maxReplicas", problem: `is ${max}; set a whole number from 1 to 1000.` });
  }
  if (problems.length > 0) return problems;
  if (min > max) {
    problems.push({
      key: "minReplicas",
      problem: `is ${min}, more than maxReplicas ${max}; set minReplicas at most maxReplicas.`,
    });
  }
  if (!scaleOut && max > 1) {
    problems.push({
      key: "maxReplicas",
      problem:
        `is ${max}, but without scaleOut sessions live in one replica's memory, so a second replica would sign ` +
        "users out at random. Set scaleOut to true (sessions in Azure Managed Redis) or maxReplicas to 1.",
    });
  }
  if (!scaleOut && min === 0) {
    problems.push({
      key: "minReplicas",
      problem:
        "is 0: the app would scale to zero when idle and forget every session kept in its memory. Set minReplicas " +
        "to 1, or scaleOut to true (sessions in Azure Managed Redis survive scaling to zero).",
    });
  }
  return problems;
}

/**
 * A container app's name: 2-32 lower-case letters, digits or hyphens, starting with a letter and ending with a letter
 * or digit, no "--" (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules,
 * Microsoft.App/containerApps). On containerApps, webAppName names the container app.
 */
export function containerAppNameProblem(name: string): string | undefined {
  if (/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(name) && !name.includes("--")) return undefined;
  return (
    `"${name}" cannot name a container app: 2-32 lower-case letters, digits or hyphens, starting with a letter, ` +
    'ending with a letter or digit, without "--". Choose such a webAppName for hosting containerApps.'
  );
}

/**
 * An Azure Container Registry name: 5-50 letters and digits, globally unique (it is the `<name>.azurecr.io` host).
 * Derived from the app's name and a hash of project, stack and app name, so two stacks never collide by accident.
 */
export function registryNameFor(webAppName: string, hashHex: string): string {
  const stem = webAppName
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "")
    .slice(0, 30);
  return `${stem || "app"}${hashHex.slice(0, 12)}`.padEnd(5, "0");
}

/**
 * AcrPull, the built-in role that may pull images and nothing else (MicrosoftDocs/azure-docs
 * articles/role-based-access-control/built-in-roles/containers.md, "AcrPull": ID 7f951dda-4ed3-4680-a7ca-43fe172d538d;
 * learn.microsoft.com/azure/container-registry/container-registry-roles).
 */
export const ACR_PULL_ROLE_ID = "7f951dda-4ed3-4680-a7ca-43fe172d538d";

/**
 * The managed environment's log categories routed to the Log Analytics workspace through a diagnostic setting
 * (learn.microsoft.com/azure/azure-monitor/reference/supported-logs/microsoft-app-managedenvironments-logs): the
 * containers' stdout/stderr and the platform's own events (revisions, image pulls, probes).
 */
export const ENVIRONMENT_LOG_CATEGORIES = ["ContainerAppConsoleLogs", "ContainerAppSystemLogs"] as const;

/**
 * The keys that mean nothing, or something that cannot work, on Container Apps, with the reason and the fix; the
 * stack's config validation and the component's argument check both report them.
 */
export const CONTAINER_APPS_REFUSED = {
  stagingSlot:
    "is true, but deployment slots are App Service's; Container Apps rolls out a new revision instead. Remove " +
    "stagingSlot (pulumi config rm stagingSlot) or set hosting appService.",
  authMode:
    "is easyAuth, but this project's Easy Auth mode configures App Service's built-in authentication. Set authMode " +
    "app (pulumi config set authMode app) or hosting appService.",
  planSku:
    "is set, but Container Apps runs on a managed environment (Consumption), not an App Service plan. Remove planSku " +
    "(pulumi config rm planSku) or set hosting appService.",
  existingPlanId:
    "is set, but Container Apps runs on a managed environment, not an App Service plan. Remove existingPlanId " +
    "(pulumi config rm existingPlanId) or set hosting appService.",
  alwaysOn:
    "is set, but Always On is App Service's; on Container Apps minReplicas of 1 or more keeps a replica loaded. " +
    "Remove alwaysOn (pulumi config rm alwaysOn) and set minReplicas.",
  instanceCount:
    "is set, but Container Apps scales between minReplicas and maxReplicas. Remove instanceCount (pulumi config rm " +
    "instanceCount) and set minReplicas/maxReplicas.",
  nodeVersion:
    "is set, but on Container Apps the image's pinned Node.js base decides the version (deploy/container-image.ts). " +
    "Remove nodeVersion (pulumi config rm nodeVersion) or set hosting appService.",
  uniqueDefaultHostname:
    "is false, but Container Apps names the app's host itself (<app>.<environment's unique domain>). Remove " +
    "uniqueDefaultHostname (pulumi config rm uniqueDefaultHostname).",
  deployApp:
    "is false, but a container app needs the image this stack builds and pushes to run at all. Remove deployApp " +
    "(pulumi config rm deployApp) or set hosting appService to provision only.",
  adopt:
    "is set, but adopting an existing registration or web app is for App Service stacks (docs/adopt.md); with " +
    "hosting containerApps the stack creates its own. Remove it (pulumi config rm <key>) or set hosting appService.",
  ownApp:
    "is set, but on hosting containerApps the stack builds and runs the bundled sample app's image; an app of your " +
    "own (docs/own-app.md) is an App Service deployment for now. Remove it (pulumi config rm <key>) or set hosting " +
    "appService.",
  ci:
    "is containerApps, but the stack then grants the app's identity AcrPull on its registry (which needs " +
    "Microsoft.Authorization/roleAssignments/write): CI's deploy identity (the bootstrap's least or contributor " +
    "roles) may not assign roles, and the least set has no Container Apps or registry role either. Deploy a " +
    "Container Apps stack from a machine as someone who may assign roles on the resource group " +
    "(docs/container-apps.md), or set hosting appService for the stack CI deploys (pulumi config set hosting " +
    "appService).",
  existingApp:
    "is set, but adopting an existing registration is for App Service stacks (docs/adopt.md); with hosting " +
    "containerApps the stack creates its own registration. Remove existingApp or set hosting appService.",
  existingWebApp:
    "is set, but an adopted site is an App Service web app; hosting containerApps creates a container app. Remove " +
    "existingWebApp or set hosting appService.",
} as const;

/** minReplicas/maxReplicas on App Service: refused, naming the key App Service uses instead. */
export const REPLICAS_ON_APP_SERVICE =
  "is set, but replicas are Container Apps'; App Service runs instanceCount instances. Remove it (pulumi config rm " +
  "<key>) or set hosting containerApps.";

/** The Node.js major of the image's base (pinned in deploy/container-image.ts): nodeVersion may only name it. */
export const DEFAULT_NODE_VERSION_FOR_IMAGE = 22;
