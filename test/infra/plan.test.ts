import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "../../offline/languageHost";

it("npm run plan prints the dev stack's resource tree and its secretless wiring, labelled offline", async () => {
  const { stdout } = await promisify(execFile)(process.execPath, [join(ROOT, "node_modules/tsx/dist/cli.mjs"), "scripts/plan.ts"], {
    cwd: ROOT,
    timeout: 60_000,
  });
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "dev"/);
  expect(stdout).toMatch(/No Azure, Graph or Pulumi service call was made/);
  const principalId = /principalId {2}(\S+)/.exec(stdout)?.[1];
  expect(stdout).toContain(`subject      ${principalId}  (managed identity principalId)`);
  expect(stdout).toMatch(/\+ azure-native:web:WebApp {2}secretless-web-site/);
  expect(stdout).toMatch(/setting {6}AzureAd__ClientCredentials__0__SourceType=SignedAssertionFromManagedIdentity/);
  expect(stdout).toMatch(/basic auth {3}allow=false/);
  expect(stdout).toMatch(/^16 to create: 11 cloud resources, plus the stack and 4 components that only group them\.$/m);
  expect(stdout).toMatch(/url {18}https:\/\/secretless-signin-dev-[0-9a-f]{16}\.westeurope-01\.azurewebsites\.net/);
}, 60_000);
