import * as pulumi from "@pulumi/pulumi";
import { bootstrapConfigKeys, parseBootstrapConfig } from "./bootstrap-config";
import { CiBootstrap } from "./components/ci-bootstrap";

// Import the bootstrap's configuration settings, and validate every one before anything registers.
const config = new pulumi.Config();
const settings = parseBootstrapConfig(Object.fromEntries(bootstrapConfigKeys.map((key) => [key, config.get(key)])));

// Create the identities, their grants and the state store CI uses, and, given a GitHub token in the environment
// (GITHUB_TOKEN, read by the GitHub provider at run time, never stored in config or state), the deploy environment
// that only `main` may use. Without one, print the `gh api` calls that create it.
const ci = new CiBootstrap("ci", { ...settings, manageGitHubEnvironment: Boolean(process.env.GITHUB_TOKEN) });
if (ci.githubEnvironmentCommands.length > 0) {
  pulumi.log.warn(
    `GITHUB_TOKEN is not set, so the "${settings.deployEnvironment}" environment was not created on GitHub. Until it ` +
      "admits main only, any branch's workflow can sign in as the deploy identity. Create it with:\n" +
      ci.githubEnvironmentCommands.join("\n") +
      "\nor run this bootstrap again with GITHUB_TOKEN=$(gh auth token).",
  );
}

// The outputs are named exactly like the repository variables the workflows read, so one line sets them all:
//   pulumi -C bootstrap stack output --shell | gh variable set -f - --repo OWNER/REPO
export const AZURE_TENANT_ID = ci.tenantId;
export const AZURE_SUBSCRIPTION_ID = ci.subscriptionId;
export const AZURE_PREVIEW_CLIENT_ID = ci.previewClientId;
export const AZURE_DEPLOY_CLIENT_ID = ci.deployClientId;
export const PULUMI_BACKEND_URL = ci.backendUrl;
export const PULUMI_SECRETS_PROVIDER = ci.secretsProviderUrl;
export const PULUMI_STACK = settings.stackName;
