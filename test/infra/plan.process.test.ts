import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "../../offline/language-host";

it("npm run plan prints the dev stack's resource tree, its secretless " +
  "wiring and the deploy step, labelled offline", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts"],
    {
      cwd: ROOT,
      timeout: 60_000,
    },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "dev"/);
  // Telemetry is off by default (it assigns a role): `npm run plan -- telemetry` below.
  expect(stdout).not.toMatch(/operationalinsights|applicationinsights|APPLICATIONINSIGHTS/);
  expect(stdout).toMatch(/No Azure, Graph or Pulumi service call was made/);
  const principalId = /principalId {2}(\S+)/.exec(stdout)?.[1];
  expect(stdout).toContain(`subject      ${principalId}  (managed identity principalId)`);
  expect(stdout).toMatch(/\+ azure-native:web:WebApp {2}secretless-web-site/);
  expect(stdout).toMatch(/setting {6}AzureAd__ClientCredentials__0__SourceType=SignedAssertionFromManagedIdentity/);
  expect(stdout).toMatch(/basic auth {3}allow=false/);
  expect(stdout).toMatch(/setting {6}WEBSITE_RUN_FROM_PACKAGE=1/);
  expect(stdout).toMatch(/\+ command:local:Command {2}secretless-app-deploy/);
  expect(stdout).toMatch(/package {6}dist\/app\.zip, \d+ bytes, sha256 [0-9a-f]{64}/);
  expect(stdout).toMatch(
    new RegExp(
      String.raw`publishes {4}https:\/\/secretless-signin-dev-[0-9a-f]{16}\.scm\.westeurope-01\.azurewebsites\.net` +
        String.raw`\/api\/publish\?type=zip`,
    ),
  );
  expect(stdout).toMatch(
    /waits {8}up to 10 min for https:\/\/secretless-signin-dev-[0-9a-f]{16}\.westeurope-01\.azurewebsites\.net\/readyz/,
  );
  expect(stdout).toMatch(/triggers {5}[0-9a-f]{64}, \/subscriptions\/.+\/sites\/secretless-signin-dev/);
  expect(stdout).toMatch(
    /\+ azuread:index\/applicationApiAccess:ApplicationApiAccess {2}secretless-entra-graph-access/,
  );
  expect(stdout).toMatch(/api {10}Microsoft Graph 00000003-0000-0000-c000-000000000000 \(looked up\)/);
  expect(stdout).toMatch(/delegated {4}User\.Read [0-9a-f-]{36} \(looked up\)/);
  expect(stdout).toMatch(
    new RegExp(
      String.raw`admin consent not granted here \(grantAdminConsent=false\): users consent at sign-in, or an admin ` +
        "uses the consent link",
    ),
  );
  expect(stdout).toMatch(/setting {6}DownstreamApis__MicrosoftGraph__BaseUrl=https:\/\/graph\.microsoft\.com\/v1\.0/);
  expect(stdout).toMatch(
    new RegExp(
      String.raw`^23 to create: 14 cloud resources, 2 local steps \(run on this machine\), ` +
        String.raw`plus the stack and 6 components that only group them\.$`,
      "m",
    ),
  );
  expect(stdout).toMatch(/appPackageSha256 +[0-9a-f]{64}/);
  expect(stdout).toMatch(/url +https:\/\/secretless-signin-dev-[0-9a-f]{16}\.westeurope-01\.azurewebsites\.net/);
}, 60_000);

it("npm run plan -- telemetry prints the Entra-only workspace and component, the grant and the settings", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts", "telemetry"],
    { cwd: ROOT, timeout: 60_000 },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "telemetry"/);
  expect(stdout).toMatch(/local auth {3}off \(Entra ID only, no shared keys\)/);
  expect(stdout).toMatch(
    new RegExp(
      String.raw`logs {9}AppServiceHTTPLogs, AppServiceConsoleLogs, AppServiceAppLogs, AppServicePlatformLogs\n +` +
        String.raw`to {11}/subscriptions/.+/providers/Microsoft\.OperationalInsights/workspaces/` +
        "secretless-logs-workspace",
    ),
  );
  expect(stdout).toMatch(/local auth {3}off \(Entra-authenticated telemetry only\)/);
  expect(stdout).toMatch(
    /role {9}MonitoringMetricsPublisher \(3913510d-42f4-4e42-8a64-420c390055eb\)\n +to {11}[0-9a-f-]{36} /,
  );
  expect(stdout).toMatch(
    /setting {6}APPLICATIONINSIGHTS_AUTHENTICATION_STRING=Authorization=AAD;ClientId=[0-9a-f-]{36}/,
  );
  // Four cloud resources more than the dev stack (workspace, component, grant, diagnostic setting) and two
  // components (LogWorkspace, AppInsights).
  expect(stdout).toMatch(/^29 to create: 18 cloud resources, 2 local steps/m);
  expect(stdout).toMatch(/^ +✅ secretless-guardrails/m);
});

it("npm run plan -- byoapp prints an app of your own: its zip, runtime, start command and readiness path, and " +
  "passes the policy pack", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts", "byoapp"],
    { cwd: ROOT, timeout: 60_000 },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "byoapp"/);
  expect(stdout).toMatch(/runtime {6}NODE\|22-lts, httpsOnly=true/);
  expect(stdout).toMatch(/start {8}node server\.js/);
  expect(stdout).toMatch(/package {6}dist\/own-app\/examples-plain-node-app\.zip, \d+ bytes, sha256 [0-9a-f]{64}/);
  expect(stdout).toMatch(/env {10}READY_PATH=\/ready/);
  expect(stdout).toMatch(
    /waits {8}up to 10 min for https:\/\/secretless-byoapp-dev-[0-9a-f]{16}\.\S+\/ready to answer 200/,
  );
  expect(stdout).toMatch(/setting {6}AzureAd__ClientCredentials__0__SourceType=SignedAssertionFromManagedIdentity/);
  expect(stdout).toMatch(/✅ secretless-guardrails/);
}, 60_000);
