import { beforeAll, describe, expect, it, vi } from "vitest";
import { type AzureMocks, T, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";

/**
 * The real program (index.ts) with the deploy switch off: it provisions the chain and neither packages nor deploys the
 * app. (Its own file: a program module evaluates once per process.)
 */

// Packaging is the first thing a deploy does; with the switch off the program must not even build the zip.
vi.mock("../../deploy/package-app", () => ({
  packageApp: () => {
    throw new Error("packageApp must not run when deployApp is false");
  },
}));

let mocks: AzureMocks;
let program: typeof import("../../index.js");

beforeAll(async () => {
  mocks = await attachMocks({ location: "westeurope", webAppName: "secretless-signin-dev", deployApp: "false" });
  program = await runProgram(mocks, () => import("../../index.js"));
});

describe("the program with deployApp false", () => {
  it("provisions the whole chain", () => {
    for (const type of [T.rg, T.uami, T.app, T.sp, T.fic, T.plan, T.site, T.scm, T.ftp, T.redirect])
      expect(mocks.ofType(type), type).toHaveLength(1);
  });

  it("registers no deploy step: no command, no AppDeployment, and no package hash output", async () => {
    expect(mocks.ofType(T.command)).toEqual([]);
    expect(mocks.ofType("secretless:index:AppDeployment")).toEqual([]);
    // null, not undefined: the output stays listed and Pulumi prints no "Undefined value" warning.
    expect(await promiseOf(program.appPackageSha256)).toBeNull();
  });

  it("keeps the run-from-package settings, so the last deployed zip (or one deployed by hand) keeps running", () => {
    const settings = Object.fromEntries(
      (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
        s.name,
        s.value,
      ]),
    );
    expect(settings).toMatchObject({ WEBSITE_RUN_FROM_PACKAGE: "1", SCM_DO_BUILD_DURING_DEPLOYMENT: "false" });
  });
});
