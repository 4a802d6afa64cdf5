import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { ROOT } from "../../offline/language-host";

it("npm run plan -- aca prints the Container Apps stack, its image by digest, and passes the pack", async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ["--require", "./scripts/pulumi-loader.cjs", "scripts/plan.ts", "aca"],
    { cwd: ROOT, timeout: 120_000 },
  );
  expect(stdout).toMatch(/^OFFLINE PLAN of stack "aca" \(Pulumi\.aca\.yaml\)/);
  const principalId = /principalId {2}(\S+)/.exec(stdout)?.[1];
  expect(stdout).toMatch(/admin user {3}off \(no registry password\)/);
  expect(stdout).toMatch(/role {9}AcrPull \(7f951dda-4ed3-4680-a7ca-43fe172d538d\)/);
  expect(stdout).toContain(`to           ${principalId} (ServicePrincipal)`);
  expect(stdout).toMatch(
    /at {11}\/subscriptions\/.+\/providers\/Microsoft\.ContainerRegistry\/registries\/[a-z0-9]+\n/,
  );
  expect(stdout).toMatch(/logs {9}azure-monitor \(no Log Analytics shared key\)/);
  expect(stdout).toMatch(/ingress {6}external auto, allowInsecure false, port 8080/);
  expect(stdout).toMatch(/image {8}[a-z0-9]+\.azurecr\.io\/secretless-signin@sha256:[0-9a-f]{64}/);
  expect(stdout).toMatch(/pulls {8}[a-z0-9]+\.azurecr\.io as \/subscriptions\/.+\/userAssignedIdentities\//);
  expect(stdout).toMatch(/probes {7}Liveness \/healthz, Readiness \/readyz/);
  expect(stdout).toMatch(/runs {9}node --import tsx deploy\/push-image\.ts/);
  const fqdn = /fqdn {9}(\S+)/.exec(stdout)?.[1];
  expect(fqdn).toMatch(/^secretless-aca-dev\.[a-z0-9-]+\.westeurope\.azurecontainerapps\.io$/);
  expect(stdout).toContain(`Web redirect  https://${fqdn}/signin-oidc`);
  expect(stdout).toContain(`READY_HOST=${fqdn}`);
  expect(stdout).not.toMatch(/azure-native:web:/);
  expect(stdout).toMatch(/✅ secretless-guardrails/);
});
