import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "../../offline/language-host";
import { ADOPTED_APP, ADOPTED_SITE } from "../../offline/azure-mocks";

it("npm run plan -- adopt prints the chain added to the adopted objects, and passes the pack", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts", "adopt"],
    { cwd: ROOT, timeout: 60_000 },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "adopt" \(Pulumi\.adopt\.yaml\)/);
  // The chain, and nothing of the adopted objects' own types.
  expect(stdout).toMatch(/\+ secretless:index:AdoptedRegistration {2}secretless-entra/);
  expect(stdout).toMatch(/\+ secretless:index:AdoptedWebApp {2}secretless-web/);
  expect(stdout).not.toMatch(/ApplicationRegistration |azure-native:web:WebApp |ApplicationRedirectUris /);
  expect(stdout).toContain(`on destroy   node --import tsx deploy/adopt-site.ts --undo`);
  expect(stdout).toContain(`on destroy   node --import tsx deploy/adopt-redirect-uri.ts --undo`);
  expect(stdout).toContain(`env          ADOPT_APP_OBJECT_ID=${ADOPTED_APP.objectId}`);
  expect(stdout).toContain(`env          ADOPT_REDIRECT_URI=https://${ADOPTED_SITE.defaultHostName}/signin-oidc`);
  expect(stdout).toMatch(/9 to create: 2 cloud resources, 2 local steps/);
  expect(stdout).toContain(`appClientId          ${ADOPTED_APP.clientId}`);
  expect(stdout).toMatch(/Policies:\n {4}✅ secretless-guardrails/);
});

it("npm run plan -- adopt refuses a registration the tenant does not have, naming the key and the fix", async () => {
  const dir = mkdtempSync(join(tmpdir(), "adopt-plan-"));
  try {
    const file = join(dir, "Pulumi.other.yaml");
    const unknown = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    writeFileSync(file, readFileSync(join(ROOT, "Pulumi.adopt.yaml"), "utf8").replace(ADOPTED_APP.clientId, unknown));
    const failed = await promisify(execFile)(
      process.execPath,
      ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts", "adopt", "--config-file", file],
      { cwd: ROOT, timeout: 60_000 },
    ).then(
      () => undefined,
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    const output = `${failed?.stdout}${failed?.stderr}`;
    expect(output).toMatch(
      new RegExp(`- existingAppClientId: ${unknown} names no app registration in the azuread provider's tenant`),
    );
    expect(output).toContain("Nothing was created.");
    // The message reads as written, not behind the serializer's "error serializing property …" prefixes.
    expect(output).not.toContain("error serializing property");
    expect(output).not.toMatch(/OFFLINE PLAN/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
