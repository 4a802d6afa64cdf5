import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { APP_ZIP_PATH } from "../../deploy/package-app";
import { readZipEntry, zipEntries } from "../../deploy/zip-entries";
import { T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { REPO } from "../support/repo";

/**
 * SecretlessWebApp with an app of your own, as another Pulumi program would use it: the runtime stack, the start
 * command and the readiness path reach the site and the deploy step, the package's hash is the deploy step's trigger,
 * and the sample app's wiring stays exactly as it was when none of them is given. Every build gets a fresh engine.
 */

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-byo", tenantId: TENANT_ID };
const SHA = "d".repeat(64);
const appPackage = { zipPath: "dist/own-app/publish.zip", sha256: SHA };

async function build(args: Partial<SecretlessWebAppArgs>) {
  const mocks = await attachMocks({});
  await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.appPackageSha256);
    return component;
  });
  const command = (suffix: string) => mocks.ofType(T.command).find((c) => c.name === `unit-app-${suffix}`);
  return { mocks, site: mocks.one(T.site), deploy: command("deploy"), ready: command("ready") };
}

const ownApp: Partial<SecretlessWebAppArgs> = {
  appPackage,
  runtimeStack: "DOTNETCORE|8.0",
  appCommandLine: "dotnet Contoso.Web.dll",
  readinessPath: "/ready",
};

describe("SecretlessWebApp with an app of your own", () => {
  it("runs the site on the runtime stack and start command given, not the sample's", async () => {
    const { site } = await build(ownApp);
    expect(site.inputs.siteConfig.linuxFxVersion).toBe("DOTNETCORE|8.0");
    expect(site.inputs.siteConfig.appCommandLine).toBe("dotnet Contoso.Web.dll");
  });

  it("passes an empty start command through, so the runtime image detects how to start the app", async () => {
    const { site } = await build({ ...ownApp, runtimeStack: "PYTHON|3.12", appCommandLine: "" });
    expect(site.inputs.siteConfig.appCommandLine).toBe("");
  });

  it("pushes the package given and triggers on its sha256 and the site", async () => {
    const { deploy, ready, site } = await build(ownApp);
    expect(deploy!.inputs.environment).toMatchObject({ DEPLOY_ZIP_PATH: appPackage.zipPath, DEPLOY_ZIP_SHA256: SHA });
    expect(deploy!.inputs.triggers).toEqual([SHA, site.id]);
    expect(ready!.inputs.triggers).toEqual([SHA, site.id]);
  });

  it("never starts an app of your own with the sample's command: none given is the image's detection", async () => {
    const { site } = await build({ ...ownApp, appCommandLine: undefined });
    expect(site.inputs.siteConfig.appCommandLine).toBe("");
  });

  it("passes the readiness path to the wait, and no wait when waitForReady is false", async () => {
    const { ready } = await build(ownApp);
    expect(ready!.inputs.environment.READY_PATH).toBe("/ready");
    expect((await build({ ...ownApp, waitForReady: false })).ready).toBeUndefined();
  });

  it("keeps the sample app's wiring exactly when none of them is given", async () => {
    const { site, ready } = await build({ appPackage: { zipPath: APP_ZIP_PATH, sha256: SHA } });
    expect(site.inputs.siteConfig.linuxFxVersion).toBe("NODE|22-lts");
    expect(site.inputs.siteConfig.appCommandLine).toBe("node server.js");
    expect(Object.keys(ready!.inputs.environment).sort()).toEqual(["READY_HOST", "READY_TIMEOUT_MINUTES"]);
  });

  it.each([
    [{ runtimeStack: "DOCKER|nginx" }, "runtimeStack", /not a Linux runtime stack/],
    [{ runtimeStack: "PYTHON|3.12", appCommandLine: "dotnet a.dll" }, "appCommandLine", /starts dotnet/],
    [{ readinessPath: "ready" }, "readinessPath", /must start with "\/"/],
    [{ readinessPath: "/ready", stagingSlot: true, planSku: "S1" as const }, "readinessPath", /sample app's \/readyz/],
  ] as [Partial<SecretlessWebAppArgs>, string, RegExp][])(
    "refuses %o before any child registers, naming %s",
    async (args, key, message) => {
      const mocks = await attachMocks({});
      let error: unknown;
      await runProgram(mocks, async () => {
        try {
          new SecretlessWebApp("unit", { ...base, ...ownApp, ...args });
        } catch (e) {
          error = e;
        }
      });
      expect(pulumi.InputPropertiesError.isInstance(error), String(error)).toBe(true);
      expect((error as pulumi.InputPropertiesError).errors).toEqual([
        { propertyPath: key, reason: expect.stringMatching(message) },
      ]);
      expect(mocks.resources.filter((r) => r.custom)).toEqual([]);
    },
  );
});

describe("the sample app's package", () => {
  it("carries none of the runtime catalogue, so adding it left the sample's bytes and hash as they were", () => {
    const zip = readFileSync(join(REPO, APP_ZIP_PATH));
    const server = zipEntries(zip).find((e) => e.name === "server.js")!;
    const bundle = readZipEntry(zip, server).toString("utf8");
    expect(bundle).toContain("AzureAd__ClientCredentials__0__SourceType");
    expect(bundle).not.toContain("DOTNETCORE|");
    expect(bundle).not.toContain("PYTHON|3.");
  });
});
