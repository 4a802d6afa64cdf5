/**
 * Both hostings side by side under the offline mocks: App Service is exactly what it was when `hosting` is unset,
 * neither host registers the other's types, and the trust chain (identity, registration, FIC, Graph access, roles) is
 * the same on both.
 */
import { describe, expect, it } from "vitest";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { type RegisteredResource, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { TEST_IMAGE } from "../support/container-apps";

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };
const image = TEST_IMAGE;

async function plan(args: Partial<SecretlessWebAppArgs>): Promise<RegisteredResource[]> {
  const mocks = await attachMocks({});
  await runProgram(mocks, async () => {
    const c = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(c.redirectUri);
  });
  return mocks.resources;
}

const shape = (rs: RegisteredResource[]) =>
  rs.map((r) => ({ type: r.type, name: r.name, inputs: JSON.parse(JSON.stringify(r.inputs)) }));
const ACA_TYPES: string[] = [
  T.registry,
  T.roleAssignmentArm,
  T.environment,
  T.containerApp,
  "secretless:index:ContainerAppHost",
];
const APP_SERVICE_TYPES: string[] = [
  T.plan,
  T.site,
  T.scm,
  T.ftp,
  "secretless:index:LinuxWebApp",
  "secretless:index:AppDeployment",
];
const CHAIN: string[] = [T.uami, T.app, T.sp, T.fic, T.apiAccess];

describe("App Service and Container Apps side by side", () => {
  it("leaves App Service exactly as it is when hosting is unset", async () => {
    const unset = await plan({});
    const explicit = await plan({ hosting: "appService" });
    expect(shape(unset)).toEqual(shape(explicit));
    expect(unset.map((r) => r.type)).toEqual(expect.arrayContaining(APP_SERVICE_TYPES.slice(0, 5)));
  });

  it("registers no Container Apps type on App Service, and no App Service type on Container Apps", async () => {
    const appService = (await plan({})).map((r) => r.type);
    const containerApps = (await plan({ hosting: "containerApps", appImage: image })).map((r) => r.type);
    expect(appService.filter((t) => ACA_TYPES.includes(t))).toEqual([]);
    expect(containerApps.filter((t) => APP_SERVICE_TYPES.includes(t))).toEqual([]);
    expect(containerApps).toEqual(expect.arrayContaining(ACA_TYPES));
  });

  it("builds the same trust chain on both: identity, registration, its FIC and Graph access", async () => {
    const chainOf = async (args: Partial<SecretlessWebAppArgs>) =>
      shape((await plan(args)).filter((r) => CHAIN.includes(r.type))).sort((a, b) =>
        `${a.type}${a.name}`.localeCompare(`${b.type}${b.name}`),
      );
    const appService = await chainOf({});
    expect(appService.map((r) => r.type)).toEqual(expect.arrayContaining(CHAIN));
    expect(await chainOf({ hosting: "containerApps", appImage: image })).toEqual(appService);
  });

  it("registers exactly one redirect URI on each, on its own host", async () => {
    const appService = (await plan({})).find((r) => r.type === T.redirect)!.inputs.redirectUris;
    const containerApps = (await plan({ hosting: "containerApps", appImage: image })).find(
      (r) => r.type === T.redirect,
    )!.inputs.redirectUris;
    expect(appService).toEqual([
      expect.stringMatching(/^https:\/\/contoso-signin-[0-9a-f]{16}\..*azurewebsites\.net\/signin-oidc$/),
    ]);
    expect(containerApps).toEqual([
      expect.stringMatching(
        /^https:\/\/contoso-signin\.env-[0-9a-f]{8}\.westeurope\.azurecontainerapps\.io\/signin-oidc$/,
      ),
    ]);
  });
});
