import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { WAIT_READY_COMMAND } from "../../components/app-deployment";
import { sha256 } from "../../deploy/cli";
import { folderZipPath } from "../../deploy/package-own-app";
import { T, type RegisteredResource } from "../../offline/azure-mocks";
import { readStackFile } from "../../offline/stack-file";
import { evaluateRecorded } from "../../policy/offline";
import { AzureAdSetting, SIGNED_ASSERTION_FROM_MANAGED_IDENTITY } from "../../contract/settings";
import { planMainStack } from "../support/policy";
import { REPO } from "../support/repo";

/**
 * The example stack that deploys an app of your own, Pulumi.byoapp.yaml (`npm run plan -- byoapp`), through the real
 * program (index.ts) on the offline mocks: every wiring fact of your own app, and every guardrail, with a broken
 * variant for each rule that guards it. Its own file: the program is imported once per process.
 */

const PROJECT = "secretless-entra-webapp";
const byoStack = readStackFile(REPO, "byoapp", { project: PROJECT, keys: [], providers: {} }).config;
const config = Object.fromEntries(Object.entries(byoStack).map(([k, v]) => [k.replace(`${PROJECT}:`, ""), v]));

let planned: RegisteredResource[];
beforeAll(async () => {
  planned = await planMainStack(config);
});

const one = (resources: RegisteredResource[], type: string, name?: string) =>
  resources.find((r) => r.type === type && (name === undefined || r.name === name))!;

describe("the example stack with an app of your own (Pulumi.byoapp.yaml)", () => {
  it("names examples/plain-node-app with its runtime, start command and readiness path", () => {
    expect(config).toMatchObject({
      appPackagePath: "examples/plain-node-app",
      runtimeStack: "NODE|22-lts",
      startupCommand: "node server.js",
      readinessPath: "/ready",
    });
  });

  it("runs the site on the configured runtime stack with the configured start command", () => {
    const site = one(planned, T.site);
    expect(site.inputs.siteConfig.linuxFxVersion).toBe("NODE|22-lts");
    expect(site.inputs.siteConfig.appCommandLine).toBe("node server.js");
  });

  it("keeps the secretless settings: the managed identity as the only client credential", () => {
    const settings = Object.fromEntries(
      (one(planned, T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
        s.name,
        s.value,
      ]),
    );
    expect(settings[AzureAdSetting.SourceType]).toBe(SIGNED_ASSERTION_FROM_MANAGED_IDENTITY);
    expect(settings[AzureAdSetting.ManagedIdentityClientId]).toBe(one(planned, T.uami).state.clientId);
    expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: "1", SCM_DO_BUILD_DURING_DEPLOYMENT: "false" });
  });

  it("pushes the folder's reproducible zip and re-runs exactly when its sha256 or the site changes", () => {
    const deploy = one(planned, T.command, "secretless-app-deploy");
    const zipPath = folderZipPath("examples/plain-node-app");
    const zipSha = sha256(readFileSync(join(REPO, zipPath)));
    expect(deploy.inputs.environment).toMatchObject({ DEPLOY_ZIP_PATH: zipPath, DEPLOY_ZIP_SHA256: zipSha });
    expect(deploy.inputs.triggers).toEqual([zipSha, one(planned, T.site).id]);
    expect(one(planned, T.command, "secretless-app-ready").inputs.triggers).toEqual(deploy.inputs.triggers);
  });

  it("waits on the app's own readiness path on the host the site reports", () => {
    const ready = one(planned, T.command, "secretless-app-ready");
    expect(ready.inputs.create).toBe(WAIT_READY_COMMAND);
    expect(ready.inputs.environment).toEqual({
      READY_HOST: one(planned, T.site).state.defaultHostName,
      READY_PATH: "/ready",
      READY_TIMEOUT_MINUTES: "10",
    });
  });

  it("passes every policy", () => {
    expect(evaluateRecorded(structuredClone(planned))).toEqual([]);
  });
});

describe("the guardrails around an app of your own", () => {
  const broken = (change: (resources: RegisteredResource[]) => void) => {
    const copy = structuredClone(planned);
    change(copy);
    return evaluateRecorded(copy);
  };

  it.each([
    ["a container image", "DOCKER|nginx:latest"],
    ["a Java stack", "JAVA|21-java21"],
    ["a runtime in another spelling", "node|22-lts"],
    ["no runtime at all", undefined],
  ])("refuses a web app running %s (webapp-runtime-allowed)", (_, stack) => {
    const violations = broken((r) => {
      one(r, T.site).inputs.siteConfig.linuxFxVersion = stack;
    });
    expect(violations.map((v) => v.policy)).toEqual(["webapp-runtime-allowed"]);
    expect(violations[0]!.message).toMatch(/not a runtime stack of the catalogue.*Fix: set it to one of/);
  });

  it.each(["/etc/shadow.zip", "../other/app.zip", "dist/app.tar"])(
    "refuses a deploy step pushing %s, not a zip inside the project (command-runs-project-script)",
    (zip) => {
      const violations = broken((r) => {
        one(r, T.command, "secretless-app-deploy").inputs.environment.DEPLOY_ZIP_PATH = zip;
      });
      expect(violations.map((v) => v.policy)).toEqual(["command-runs-project-script"]);
      expect(violations[0]!.message).toMatch(/not a \.zip inside the project/);
    },
  );

  it("refuses a readiness wait on something that is not a path of the site (command-runs-project-script)", () => {
    const violations = broken((r) => {
      one(r, T.command, "secretless-app-ready").inputs.environment.READY_PATH = "@evil.example/ready";
    });
    expect(violations.map((v) => v.policy)).toEqual(["command-runs-project-script"]);
  });

  it("still refuses a deploy step that runs anything but the project's scripts", () => {
    const violations = broken((r) => {
      one(r, T.command, "secretless-app-ready").inputs.create = "sh examples/plain-node-app/server.js";
    });
    expect(violations.map((v) => v.policy)).toEqual(["command-runs-project-script"]);
  });
});
