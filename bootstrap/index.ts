import * as pulumi from "@pulumi/pulumi";
import { bootstrapConfigKeys, parseBootstrapConfig } from "./config";
import { CiBootstrap } from "./components/ciBootstrap";

// Import the bootstrap's configuration settings, and validate every one before anything registers.
const config = new pulumi.Config();
const settings = parseBootstrapConfig(Object.fromEntries(bootstrapConfigKeys.map((key) => [key, config.get(key)])));

// Create the identities, their grants and the state store CI uses.
const ci = new CiBootstrap("ci", { ...settings, tags: settings.tags });

// The outputs are named exactly like the repository variables the workflows read, so one line sets them all:
//   pulumi -C bootstrap stack output --shell | gh variable set -f - --repo OWNER/REPO
export const AZURE_TENANT_ID = ci.tenantId;
export const AZURE_SUBSCRIPTION_ID = ci.subscriptionId;
export const AZURE_PREVIEW_CLIENT_ID = ci.previewClientId;
export const AZURE_DEPLOY_CLIENT_ID = ci.deployClientId;
export const PULUMI_BACKEND_URL = ci.backendUrl;
export const PULUMI_SECRETS_PROVIDER = ci.secretsProviderUrl;
export const PULUMI_STACK = settings.stackName;
