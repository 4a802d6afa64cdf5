import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import { SecretlessWebApp, configKeys, parseStackConfig } from "./components";
import { packageApp } from "./deploy/package-app";
import { buildAppImage } from "./deploy/container-image";
import { packageOwnApp } from "./deploy/package-own-app";

// Import the program's configuration settings, and validate every one before anything registers.
const config = new pulumi.Config();
const { deployApp, appPackagePath, startupCommand, ...settings } = parseStackConfig({
  ...Object.fromEntries(configKeys.map((key) => [key, config.get(key)])),
  azureadEnvironment: new pulumi.Config("azuread").get("environment"),
  azureadTenantId: new pulumi.Config("azuread").get("tenantId"),
  armEnvironment: new pulumi.Config("azure-native").get("environment"),
  // As CI's preview or deploy identity: the workflows' Pulumi jobs sign the providers in with OIDC (ARM_USE_OIDC).
  // GITHUB_ACTIONS alone is also true for the test job, which evaluates example stacks offline and signs in as no one.
  inGitHubActions: process.env.GITHUB_ACTIONS === "true" && process.env.ARM_USE_OIDC === "true",
});

// The directory comes from the azuread provider's own login, never from a file.
const directory = azuread.getClientConfigOutput();

// Build and zip the sample app, on preview too, so its hash decides whether the deploy step runs: reused unchanged
// while nothing it is made from changes (deploy/package-app.ts). Or take your own zip, or zip your own folder the same
// reproducible way (deploy/package-own-app.ts). On Container Apps, build the image's app layer instead (no Docker
// daemon), whose content hash decides the push.
const onContainerApps = settings.hosting === "containerApps";
const appPackage =
  !deployApp || onContainerApps ? undefined : appPackagePath ? packageOwnApp(appPackagePath) : packageApp();
const appImage = onContainerApps ? buildAppImage() : undefined;

// Create the whole chain: managed identity, app registration trusting it, the web app wearing it, and the app on it.
const app = new SecretlessWebApp("secretless", {
  ...settings,
  // Your own app's start command; unset, the component starts the sample app (node server.js).
  ...(startupCommand === undefined ? {} : { appCommandLine: startupCommand }),
  tenantId: directory.tenantId,
  appPackage,
  appImage,
});

export const url = app.url;
export const appClientId = app.appClientId;
export const identityClientId = app.identityClientId;
export const identityPrincipalId = app.identityPrincipalId;
export const tenantId = app.tenantId;
export const resourceGroupName = app.resourceGroupName;
export const webAppName = app.webAppName;
export const redirectUri = app.redirectUri;
// null, not undefined, when there is none: the key stays in `pulumi stack output` and Pulumi prints no
// "Undefined value … will not show as a stack output" warning on every run.
export const redisHostName = app.redisHostName.apply((host) => host ?? null);
export const stagingUrl = app.stagingUrl.apply((u) => u ?? null);
export const appPackageSha256 = pulumi.output(app.appPackageSha256).apply((sha) => sha ?? null);
// On Container Apps: the image the app runs, by digest.
export const image = app.image.apply((ref) => ref ?? null);
export const appInsightsName = app.appInsightsName.apply((n) => n ?? null);
export const logWorkspaceCustomerId = app.logWorkspaceCustomerId.apply((id) => id ?? null);
