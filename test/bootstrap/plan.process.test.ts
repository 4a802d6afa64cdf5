import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { REPO } from "../support/repo";

it("npm run plan:bootstrap prints, offline, the identities' GitHub " +
  "subjects, every grant's scope and the variables", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [join(REPO, "node_modules/tsx/dist/cli.mjs"), "scripts/plan-bootstrap.ts"],
    {
      cwd: REPO,
      timeout: 60_000,
    },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of the bootstrap stack "example"/);
  // The language host was pointed at bootstrap/index.ts (Pulumi.yaml's main), not the app stack at the root.
  expect(stdout).toMatch(/\+ pulumi:pulumi:Stack {2}secretless-ci-bootstrap-example/);
  expect(stdout).not.toMatch(/azure-native:web:WebApp/);
  expect(stdout).toContain("subject      repo:contoso/secretless-signin:pull_request");
  expect(stdout).toContain("subject      repo:contoso/secretless-signin:environment:production");
  expect(stdout).toMatch(
    new RegExp(
      String.raw`preview identity \(ServicePrincipal\) gets Reader\n` +
        String.raw`\s+scope {8}\/subscriptions\/[^/]+\/resourceGroups\/secretless-signin\n`,
    ),
  );
  expect(stdout).toContain("deploy identity gets Microsoft Graph Application.ReadWrite.OwnedBy");
  expect(stdout).toContain(
    "allowSharedKeyAccess=false, allowBlobPublicAccess=false, minimumTlsVersion=TLS1_2, httpsOnly=true",
  );
  expect(stdout).toMatch(/PULUMI_BACKEND_URL {7}azblob:\/\/pulumi-state\?storage_account=contosopulumistate/);
  expect(stdout).toMatch(/^28 to create: 23 cloud resources, plus the stack and 4 components that only group them\.$/m);
  // The policy pack, told the stack's own repository, passes the plan (as --policy-pack-config would tell the CLI).
  expect(stdout).toMatch(/\nPolicies:\n {4}✅ secretless-guardrails@v[\d.]+ \(local: policy\)\n?$/);
}, 60_000);
