import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../app/app-config";
import { parseStackConfig } from "../../components/stack-config";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { callbackPathProblem } from "../../contract/rules";
import { AzureAdSetting } from "../../contract/settings";
import { TENANT_ID, attachMocks, guidFrom, runProgram } from "../../offline/azure-mocks";

/**
 * The three layers that check a setting before the app runs (the stack parser, the component's argument check and the
 * app's start-up config) apply one rule each, so a value one layer accepts is never refused by another: a stack that
 * deploys always starts.
 */

/** The problem the stack parser reports for `key`, or undefined when it accepts the value. */
function stackProblem(key: "callbackPath" | "planSku" | "nodeVersion" | "cloud", value: string): string | undefined {
  try {
    parseStackConfig({ location: "westeurope", webAppName: "contoso-signin", [key]: value });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The problem SecretlessWebApp reports for `args`, or undefined when it accepts them. */
async function componentProblem(args: Partial<SecretlessWebAppArgs>): Promise<string | undefined> {
  const mocks = await attachMocks({});
  let problem: string | undefined;
  await runProgram(mocks, async () => {
    try {
      new SecretlessWebApp("unit", {
        location: "westeurope",
        webAppName: "contoso-signin",
        tenantId: TENANT_ID,
        ...args,
      });
    } catch (e) {
      problem = JSON.stringify((e as { errors?: unknown }).errors ?? String(e));
    }
  });
  return problem;
}

/** The problem the app reports at start for its callback path, or undefined when it starts. */
function appProblem(callbackPath: string): string | undefined {
  try {
    loadConfig({
      [AzureAdSetting.Instance]: "https://login.microsoftonline.com/",
      [AzureAdSetting.TenantId]: TENANT_ID,
      [AzureAdSetting.ClientId]: guidFrom("client"),
      [AzureAdSetting.SourceType]: "SignedAssertionFromManagedIdentity",
      [AzureAdSetting.ManagedIdentityClientId]: guidFrom("uami"),
      [AzureAdSetting.CallbackPath]: callbackPath,
      WEBSITE_HOSTNAME: "app.azurewebsites.net", // set by App Service itself
    });
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).problems.join("\n");
  }
}

describe("one callback-path rule for the stack, the component and the app", () => {
  const paths: [string, boolean][] = [
    ["/signin-oidc", true],
    ["/auth/callback", true],
    ["/oidc/v2.callback_1~x", true],
    ["/ME", false], // the app's /me in another letter case
    ["/Signout-OIDC", false],
    ["/a//b", false], // an empty segment
    ["//evil.example/cb", false],
    ["/auth/../signin", false], // a dot segment: browsers resolve it to /signin
    ["/auth/./callback", false],
    ["/auth/%2e%2e/signin", false], // an encoded dot segment resolves the same way
    ["/auth/:id", false], // a route parameter to the app's router
    ["/auth/*", false],
    ["/signin-oidc/", false], // a trailing slash: an empty last segment
    ["/signin-oidc?x=1", false],
    ["/signin-oidc#x", false],
    ["/sign in", false],
    ["\\signin-oidc", false],
    ["signin-oidc", false],
  ];

  it.each(paths)("treats %s the same everywhere (accepted: %s)", async (path, accepted) => {
    const problems = {
      stack: stackProblem("callbackPath", path),
      component: await componentProblem({ callbackPath: path }),
      app: appProblem(path),
    };
    const verdicts = Object.fromEntries(Object.entries(problems).map(([layer, p]) => [layer, p === undefined]));
    expect(verdicts, JSON.stringify(problems)).toEqual({ stack: accepted, component: accepted, app: accepted });
  });
});

describe("one rule for plan SKU, Node version and cloud in the stack and the component", () => {
  const values: [string, "planSku" | "nodeVersion" | "cloud", string, unknown, boolean][] = [
    ["a plan SKU in ARM's spelling", "planSku", "P1v3", "P1v3", true],
    ["a plan SKU in another letter case", "planSku", "p1V3", "p1V3", true],
    ["an unknown plan SKU", "planSku", "Y1", "Y1", false],
    ["Node 24", "nodeVersion", "24", 24, true],
    ["Node 20", "nodeVersion", "20", 20, false],
    ["a known cloud", "cloud", "usgov", "usgov", true],
    ["a cloud in another letter case", "cloud", "USGov", "USGov", false],
  ];

  it.each(values)("treats %s the same in both", async (_what, key, raw, arg, accepted) => {
    const problems = { stack: stackProblem(key, raw), component: await componentProblem({ [key]: arg }) };
    const verdicts = Object.fromEntries(Object.entries(problems).map(([layer, p]) => [layer, p === undefined]));
    expect(verdicts, JSON.stringify(problems)).toEqual({ stack: accepted, component: accepted });
  });
});

describe("the callback path's reserved routes", () => {
  const routes = ["/", "/public/:file", "/files/*"];
  const paths: [string, string | undefined][] = [
    ["/public/app.css", "/public/:file"],
    ["/PUBLIC/app.css", "/public/:file"],
    ["/files/a/b", "/files/*"],
    ["/public", undefined],
    ["/public/app.css/x", undefined],
    ["/signin-oidc", undefined],
  ];

  it.each(paths)("match %s against route parameters and wildcards, ignoring case (route: %s)", (path, route) => {
    const problem = callbackPathProblem(path, routes);
    if (route === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(`one of the app's own routes (${route}, in any letter case)`);
  });
});
