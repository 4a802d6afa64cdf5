import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RawStackConfig, parseStackConfig } from "../../components/stack-config";
import { zipFiles } from "../../deploy/package-app";
import { REPO } from "../support/repo";
import { problemsOf } from "../support/stack-config";

/**
 * The own-app keys of the stack configuration (components/own-app-config.ts): what an app of your own needs, and every
 * combination that cannot work refused before anything registers, naming the key and the fix. The packages live in a
 * scratch folder under dist/ (inside the project, as appPackagePath must be), written before the tests.
 */

const SCRATCH = `dist/test-own-app-config-${process.pid}`;
const valid: RawStackConfig = { location: "westeurope", webAppName: "contoso-byo" };
const own = (extra: RawStackConfig = {}): RawStackConfig => ({
  ...valid,
  appPackagePath: `${SCRATCH}/site`,
  runtimeStack: "DOTNETCORE|8.0",
  startupCommand: "dotnet Contoso.Web.dll",
  readinessPath: "/ready",
  ...extra,
});

const write = (path: string, content: string | Buffer) => {
  const full = join(REPO, SCRATCH, path);
  mkdirSync(join(full, ".."), { recursive: true });
  writeFileSync(full, content);
};

beforeAll(async () => {
  write("site/Contoso.Web.dll", "MZ not really a dll");
  write("site/appsettings.json", JSON.stringify({ AzureAd: { ClientCredentials: [] } }));
  mkdirSync(join(REPO, SCRATCH, "empty-folder"), { recursive: true });
  write("site.zip", await zipFiles(join(REPO, SCRATCH, "site"), ["Contoso.Web.dll", "appsettings.json"]));
  write("empty.zip", await zipFiles(join(REPO, SCRATCH, "site"), []));
  write("not-a.zip", "PK but not a zip");
  write("readme.txt", "a file that is not a zip");
  write("leaky/.env", "AzureAd__ClientSecret=abc");
  write("leaky/app.js", "");
  symlinkSync("/etc", join(REPO, SCRATCH, "escape"));
});
afterAll(() => rmSync(join(REPO, SCRATCH), { recursive: true, force: true }));

describe("bring your own app: configuration", () => {
  it("deploys the sample app when no own-app key is set, as before", () => {
    const config = parseStackConfig(valid);
    expect(config.appPackagePath).toBeUndefined();
    expect(config.runtimeStack).toBeUndefined();
    expect(config.startupCommand).toBeUndefined();
    expect(config.readinessPath).toBeUndefined();
  });

  it("treats the keys set to Pulumi.yaml's empty defaults exactly as unset", () => {
    const empty = { appPackagePath: "", runtimeStack: "", startupCommand: "", readinessPath: "" };
    expect(parseStackConfig({ ...valid, ...empty })).toEqual(parseStackConfig(valid));
  });

  it("accepts a folder or a zip of your own with its runtime, start command and readiness path", () => {
    expect(parseStackConfig(own())).toMatchObject({
      appPackagePath: `${SCRATCH}/site`,
      runtimeStack: "DOTNETCORE|8.0",
      startupCommand: "dotnet Contoso.Web.dll",
      readinessPath: "/ready",
    });
    expect(parseStackConfig(own({ appPackagePath: `${SCRATCH}/site.zip` })).appPackagePath).toBe(`${SCRATCH}/site.zip`);
  });

  it("leaves the start command to the image's own detection when startupCommand is unset", () => {
    expect(parseStackConfig(own({ startupCommand: undefined })).startupCommand).toBe("");
  });

  it("provisions for a package deployed by hand: runtimeStack with deployApp false and no package", () => {
    const config = parseStackConfig({ ...valid, runtimeStack: "PYTHON|3.12", deployApp: "false" });
    expect(config).toMatchObject({ runtimeStack: "PYTHON|3.12", deployApp: false, appPackagePath: undefined });
  });

  it.each([
    ["a missing path", { appPackagePath: `${SCRATCH}/nowhere` }, "appPackagePath", /does not exist.*build the app/],
    ["an absolute path", { appPackagePath: "/etc" }, "appPackagePath", /not a relative path/],
    ["a path climbing out", { appPackagePath: "../elsewhere" }, "appPackagePath", /climbs out of the project folder/],
    ["a link leading out", { appPackagePath: `${SCRATCH}/escape` }, "appPackagePath", /leads outside the project/],
    ["an empty folder", { appPackagePath: `${SCRATCH}/empty-folder` }, "appPackagePath", /holds no files/],
    ["an empty zip", { appPackagePath: `${SCRATCH}/empty.zip` }, "appPackagePath", /holds no files/],
    ["a zip that is not one", { appPackagePath: `${SCRATCH}/not-a.zip` }, "appPackagePath", /not a zip App Service/],
    ["a file that is not a zip", { appPackagePath: `${SCRATCH}/readme.txt` }, "appPackagePath", /not a \.zip/],
    ["a package with a .env", { appPackagePath: `${SCRATCH}/leaky` }, "appPackagePath", /\.env is an environment file/],
    ["a package without a runtime", { runtimeStack: undefined }, "runtimeStack", /is unset, but appPackagePath/],
    ["a runtime off the catalogue", { runtimeStack: "RUBY|2.7" }, "runtimeStack", /not a Linux runtime stack/],
    ["a Java runtime", { runtimeStack: "JAVA|21-java21" }, "runtimeStack", /jar or war files/],
    [
      "a misspelt runtime",
      { runtimeStack: "dotnetcore|8.0" },
      "runtimeStack",
      /App Service spells it DOTNETCORE\|8\.0/,
    ],
    ["node on .NET", { startupCommand: "node server.js" }, "startupCommand", /starts node.*NODE stack/],
    ["gunicorn on .NET", { startupCommand: "gunicorn app:app" }, "startupCommand", /PYTHON stack/],
    ["a two-line command", { startupCommand: "dotnet a.dll\nrm -rf /" }, "startupCommand", /one line/],
    ["no readiness path", { readinessPath: undefined }, "readinessPath", /nowhere to wait.*waitForReady to false/],
    ["a readiness URL", { readinessPath: "https://x/ready" }, "readinessPath", /must start with "\/"/],
    ["a staging slot", { stagingSlot: "true", planSku: "S1" }, "stagingSlot", /sample app's \/readyz/],
    ["a package with deployApp false", { deployApp: "false" }, "appPackagePath", /nothing would deploy it/],
    ["nodeVersion beside runtimeStack", { nodeVersion: "24" }, "nodeVersion", /NODE\|24-lts/],
    ["Easy Auth behind sign-in", { authMode: "easyAuth" }, "readinessPath", /readinessPath \/readyz/],
  ] as [string, RawStackConfig, string, RegExp][])("refuses %s, naming %s and the fix", (_, extra, key, message) => {
    const problems = problemsOf(own(extra));
    expect(problems.map((p) => p.key)).toContain(key);
    expect(problems.find((p) => p.key === key)!.message).toMatch(message);
  });

  it("refuses a runtime stack with the sample app being deployed: there is no package of yours", () => {
    const problems = problemsOf({ ...valid, runtimeStack: "NODE|22-lts" });
    expect(problems).toEqual([{ key: "runtimeStack", message: expect.stringMatching(/set appPackagePath/) }]);
  });

  it.each(["startupCommand", "readinessPath"] as const)("refuses %s for the sample app, which has its own", (key) => {
    const problems = problemsOf({ ...valid, [key]: key === "readinessPath" ? "/ready" : "node app.js" });
    expect(problems).toEqual([{ key, message: expect.stringMatching(/bundled sample app.*pulumi config rm/) }]);
  });

  it("refuses every own-app key on an adopted web app, which runs its owner's app, once per key", () => {
    const adopted = { existingWebAppResourceGroup: "legacy-rg", existingWebAppName: "contoso-byo" };
    const problems = problemsOf(own(adopted));
    const keys = ["appPackagePath", "runtimeStack", "startupCommand", "readinessPath"];
    expect(problems.filter((p) => keys.includes(p.key)).map((p) => p.key)).toEqual(keys);
    for (const p of problems.filter((p) => keys.includes(p.key))) expect(p.message).toMatch(/adopts a web app/);
  });

  it("accepts Easy Auth when your app's readiness is at /readyz, which Easy Auth leaves open", () => {
    expect(parseStackConfig(own({ authMode: "easyAuth", readinessPath: "/readyz" })).authMode).toBe("easyAuth");
  });

  it.each([
    ["NODE|22-lts", "npm start"],
    ["NODE|24-lts", "pm2-runtime server.js"],
    ["PYTHON|3.12", "gunicorn --bind=0.0.0.0 app:app"],
    ["PYTHON|3.13", "python -m uvicorn main:app"],
    ["DOTNETCORE|10.0", "sh start.sh"],
    ["DOTNETCORE|8.0", "./Contoso.Web"],
  ])("accepts %s started with %s", (runtimeStack, startupCommand) => {
    expect(parseStackConfig(own({ runtimeStack, startupCommand })).startupCommand).toBe(startupCommand);
  });
});
