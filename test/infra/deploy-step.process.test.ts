import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEPLOY_COMMAND, WAIT_READY_COMMAND } from "../../components/app-deployment";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { type CloudName, clouds } from "../../contract/clouds";
import { packageApp } from "../../deploy/package-app";
import {
  type AzureMocks,
  type RegisteredResource,
  T,
  TENANT_ID,
  attachMocks,
  promiseOf,
  runProgram,
} from "../../offline/azure-mocks";
import { ROOT } from "../../offline/language-host";

/**
 * SecretlessWebApp's deploy step, as the stack wires it: given a package, it pushes the zip after the site is ready and
 * waits for /readyz; without one, it provisions only. Every build gets a fresh offline engine.
 */

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };
const SHA = "c".repeat(64);
const appPackage = { zipPath: "dist/app.zip", sha256: SHA };

async function build(args: Partial<SecretlessWebAppArgs>) {
  const mocks = await attachMocks({});
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.appPackageSha256);
    return component;
  });
  const commands = mocks.ofType(T.command);
  const settings = Object.fromEntries(
    (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
      s.name,
      s.value,
    ]),
  );
  const command = (suffix: string) => commands.find((c) => c.name === `unit-app-${suffix}`);
  return { mocks, app, commands, settings, deploy: command("deploy"), ready: command("ready") };
}

const dependenciesOf = (mocks: AzureMocks, r: RegisteredResource | undefined): string[] =>
  (r && mocks.options.get(`${r.type}::${r.name}`)?.dependsOn) ?? [];

describe("SecretlessWebApp with an app package", () => {
  it("pushes the zip with OneDeploy, then waits for /readyz, both children of one AppDeployment", async () => {
    const { mocks, commands, deploy, ready } = await build({ appPackage });
    expect(commands.map((c) => c.name).sort()).toEqual(["unit-app-deploy", "unit-app-ready"]);
    expect(deploy!.inputs.create).toBe(DEPLOY_COMMAND);
    expect(ready!.inputs.create).toBe(WAIT_READY_COMMAND);
    for (const c of commands)
      expect(mocks.options.get(`${c.type}::${c.name}`)?.parentUrn).toMatch(
        /SecretlessWebApp\$secretless:index:AppDeployment::unit-app$/,
      );
    expect(dependenciesOf(mocks, ready).some((urn) => urn.endsWith("::unit-app-deploy"))).toBe(true);
  });

  it(
    "deploys after the site with its settings, both basic-auth-off policies, and " +
      "the app registration with its service principal and FIC",
    async () => {
      const { mocks, deploy } = await build({ appPackage });
      const dependencies = dependenciesOf(mocks, deploy);
      for (const [type, name] of [
        [T.site, "unit-web-site"],
        [T.scm, "unit-web-scm-basic-auth"],
        [T.ftp, "unit-web-ftp-basic-auth"],
        // A component dependency waits for every resource in it (the SDK's runtime/dependsOn.js expands it).
        ["secretless:index:EntraApplication", "unit-entra"],
      ]) {
        expect(
          dependencies.some((urn) => urn.endsWith(`${type}::${name}`)),
          `${type}::${name}`,
        ).toBe(true);
      }
    },
  );

  it(
    "re-runs exactly when the package's hash or the site changes: " + "both commands trigger on [sha256, site ID]",
    async () => {
      const { mocks, deploy, ready } = await build({ appPackage });
      expect(deploy!.inputs.triggers).toEqual([SHA, mocks.one(T.site).id]);
      expect(ready!.inputs.triggers).toEqual(deploy!.inputs.triggers);
    },
  );

  it(
    "pushes to the SCM host the site reports and waits on the host it " + "reports, never names built from webAppName",
    async () => {
      const { mocks, deploy, ready } = await build({ appPackage });
      const site = mocks.one(T.site).state;
      const repository = site.hostNameSslStates.find((s: { hostType: string }) => s.hostType === "Repository").name;
      expect(deploy!.inputs.environment.DEPLOY_SCM_HOST).toBe(repository);
      expect(deploy!.inputs.environment.DEPLOY_SCM_HOST).not.toBe("contoso-signin.scm.azurewebsites.net");
      expect(ready!.inputs.environment.READY_HOST).toBe(site.defaultHostName);
    },
  );

  it.each(Object.keys(clouds) as CloudName[])(
    "asks for the deployer's token in the %s cloud's Resource Manager scope",
    async (cloud) => {
      const { deploy } = await build({ appPackage, cloud });
      expect(deploy!.inputs.environment.DEPLOY_ARM_SCOPE).toBe(clouds[cloud].resourceManagerScope);
    },
  );

  it("runs the zip as it is: run from package, no build during deployment, started with node server.js", async () => {
    const { mocks, settings } = await build({ appPackage });
    expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: "1", SCM_DO_BUILD_DURING_DEPLOYMENT: "false" });
    expect(mocks.one(T.site).inputs.siteConfig.appCommandLine).toBe("node server.js");
  });

  it(
    "waits 10 minutes by default, the configured bound otherwise, " + "and not at all when waitForReady is false",
    async () => {
      expect((await build({ appPackage })).ready!.inputs.environment.READY_TIMEOUT_MINUTES).toBe("10");
      expect(
        (await build({ appPackage, readinessTimeoutMinutes: 45 })).ready!.inputs.environment.READY_TIMEOUT_MINUTES,
      ).toBe("45");
      const noWait = await build({ appPackage, waitForReady: false });
      expect(noWait.ready).toBeUndefined();
      expect(noWait.commands.map((c) => c.name)).toEqual(["unit-app-deploy"]);
    },
  );

  it("reports the deployed package's hash", async () => {
    expect(await promiseOf((await build({ appPackage })).app.appPackageSha256)).toBe(SHA);
  });
});

describe("SecretlessWebApp without an app package (provision only)", () => {
  it("registers no deploy step and no command, and reports no package hash", async () => {
    const { mocks, app } = await build({});
    expect(mocks.ofType(T.command)).toEqual([]);
    expect(mocks.ofType("secretless:index:AppDeployment")).toEqual([]);
    expect(await promiseOf(app.appPackageSha256)).toBeUndefined();
  });

  it("keeps the run-from-package settings, so a zip deployed by hand (or by an earlier run) still runs", async () => {
    const { settings } = await build({});
    expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: "1", SCM_DO_BUILD_DURING_DEPLOYMENT: "false" });
  });
});

describe("the deploy step and the app's sources", () => {
  // A copy of the app's sources, so one byte can change without touching the repository.
  let work: string;
  let sources: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "deploy-step-"));
    sources = join(work, "src");
    for (const part of ["app", "contract"]) cpSync(join(ROOT, part), join(sources, part), { recursive: true });
    cpSync(join(ROOT, "package-lock.json"), join(sources, "package-lock.json"));
    symlinkSync(join(ROOT, "node_modules"), join(sources, "node_modules"), "dir");
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  /** Every registered resource's inputs, by type and name: what a preview compares with the last deployment. */
  async function evaluate(): Promise<Map<string, Record<string, any>>> {
    const { mocks } = await build({ appPackage: packageApp({ sourceRoot: sources }) });
    return new Map(mocks.resources.map((r) => [`${r.type}::${r.name}`, r.inputs]));
  }

  /** The resources whose inputs differ between two evaluations. */
  function changed(before: Map<string, Record<string, any>>, after: Map<string, Record<string, any>>): string[] {
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    return [...before.keys()]
      .filter((key) => JSON.stringify(before.get(key)) !== JSON.stringify(after.get(key)))
      .sort();
  }

  it("changes nothing when nothing changed: every input is identical, so a preview shows no change", async () => {
    const first = await evaluate();
    expect(changed(first, await evaluate())).toEqual([]);
  });

  it(
    "changes only the deploy step's trigger when one line of the app " +
      "changes: the site and everything else stay as they were",
    async () => {
      const before = await evaluate();
      const file = join(sources, "app", "public", "app.css");
      writeFileSync(file, `${readFileSync(file, "utf8")}\n/* one more line */\n`);
      const after = await evaluate();
      expect(changed(before, after)).toEqual([`${T.command}::unit-app-deploy`, `${T.command}::unit-app-ready`]);
      const [oldSha, oldSite] = before.get(`${T.command}::unit-app-deploy`)!.triggers;
      const [newSha, newSite] = after.get(`${T.command}::unit-app-deploy`)!.triggers;
      expect(newSha).toMatch(/^[0-9a-f]{64}$/);
      expect(newSha).not.toBe(oldSha);
      expect(newSite).toBe(oldSite);
    },
  );
});
