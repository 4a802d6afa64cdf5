import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import { SecretlessWebApp, configKeys, parseStackConfig } from "./components";
import { packageApp } from "./deploy/package-app";

// Import the program's configuration settings, and validate every one before anything registers.
const config = new pulumi.Config();
const { deployApp, ...settings } = parseStackConfig({
  ...Object.fromEntries(configKeys.map((key) => [key, config.get(key)])),
  azureadEnvironment: new pulumi.Config("azuread").get("environment"),
  armEnvironment: new pulumi.Config("azure-native").get("environment"),
});

// The directory comes from the azuread provider's own login, never from a file.
const directory = azuread.getClientConfigOutput();

// Build and zip the sample app, on preview too, so its hash decides whether the deploy step runs: reused unchanged
// while nothing it is made from changes (deploy/package-app.ts).
const appPackage = deployApp ? packageApp() : undefined;

// Create the whole chain: managed identity, app registration trusting it, the web app wearing it, and the app on it.
const app = new SecretlessWebApp("secretless", { ...settings, tenantId: directory.tenantId, appPackage });

export const url = app.url;
export const appClientId = app.appClientId;
export const identityClientId = app.identityClientId;
export const identityPrincipalId = app.identityPrincipalId;
export const tenantId = app.tenantId;
export const resourceGroupName = app.resourceGroupName;
export const webAppName = app.webAppName;
export const redirectUri = app.redirectUri;
export const redisHostName = app.redisHostName;
export const stagingUrl = app.stagingUrl;
export const appPackageSha256 = app.appPackageSha256;
