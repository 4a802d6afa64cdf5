import { expect, it } from "vitest";
import { LOG_QUOTA_MB, LOG_RETENTION_DAYS } from "../../components/linux-web-app";
import { SecretlessWebApp } from "../../components/secretless-web-app";
import { T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";

/**
 * The platform's own logs (stack item 10): HTTP logs and detailed errors on, with a retention, for the stack's site.
 */
it("turns on the site's HTTP logs and detailed errors, kept 7 days and at most 35 MB", async () => {
  const mocks = await attachMocks({});
  await runProgram(mocks, async () => {
    const app = new SecretlessWebApp("unit", {
      location: "westeurope",
      webAppName: "contoso-signin",
      tenantId: TENANT_ID,
    });
    await promiseOf(app.url);
  });
  const site = mocks.one(T.site);
  const logs = mocks.one("azure-native:web:WebAppDiagnosticLogsConfiguration");
  expect(logs.inputs.name).toBe(site.state.name);
  expect(logs.inputs.resourceGroupName).toBe(site.inputs.resourceGroupName);
  expect(logs.inputs.httpLogs).toEqual({
    fileSystem: { enabled: true, retentionInDays: LOG_RETENTION_DAYS, retentionInMb: LOG_QUOTA_MB },
  });
  expect(logs.inputs.detailedErrorMessages).toEqual({ enabled: true });
  // ARM keeps between 25 and 100 MB of file-system HTTP logs; 0 days would mean "keep forever".
  expect(LOG_QUOTA_MB).toBeGreaterThanOrEqual(25);
  expect(LOG_QUOTA_MB).toBeLessThanOrEqual(100);
  expect(LOG_RETENTION_DAYS).toBeGreaterThan(0);
  expect(mocks.options.get(`azure-native:web:WebAppDiagnosticLogsConfiguration::${logs.name}`)?.parentUrn).toMatch(
    /secretless:index:LinuxWebApp::unit-web$/,
  );
});
