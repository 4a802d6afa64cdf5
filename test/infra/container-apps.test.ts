/**
 * `hosting: containerApps` under the offline mocks: the registry, the AcrPull grant, the image push, the managed
 * environment and its logs, and the container app wearing the identity with the same AzureAd__* settings as the web
 * app — every wiring fact, each checked against the resource it must name. App Service stays exactly as it was when
 * `hosting` is unset (container-apps-side-by-side.test.ts).
 */
import { describe, expect, it } from "vitest";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { parsePushedImage, requireFqdn } from "../../components/container-app-host";
import { ACR_PULL_ROLE_ID, APP_CONTAINER_PORT, ENVIRONMENT_LOG_CATEGORIES } from "../../contract/container-apps";
import { AzureAdSetting, DownstreamApiSetting, RedisSetting } from "../../contract/settings";
import { type AzureMocks, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { TEST_IMAGE } from "../support/container-apps";

const IMAGE = TEST_IMAGE;
const base: SecretlessWebAppArgs = {
  location: "westeurope",
  webAppName: "contoso-signin",
  tenantId: TENANT_ID,
  hosting: "containerApps",
  appImage: IMAGE,
};

async function build(args: Partial<SecretlessWebAppArgs> = {}) {
  const mocks = await attachMocks({});
  const component = await runProgram(mocks, async () => {
    const c = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(c.redirectUri);
    return c;
  });
  const containerApp = mocks.one(T.containerApp);
  const container = containerApp.inputs.template.containers[0];
  const env = Object.fromEntries(
    (container.env as { name: string; value?: string; secretRef?: string }[]).map((e) => [e.name, e.value]),
  );
  return { mocks, component, containerApp, container, env };
}

const dependsOn = (mocks: AzureMocks, type: string, name: string) => mocks.options.get(`${type}::${name}`)?.dependsOn;
const urnOf = (type: string, name: string) =>
  expect.stringMatching(new RegExp(`${type.replace(/\//g, "\\/")}::${name}$`));

describe("a SecretlessWebApp on Container Apps", () => {
  it("creates no App Service plan, web app, zip deployment or publishing policy", async () => {
    const { mocks } = await build();
    for (const type of [T.plan, T.site, T.scm, T.ftp, T.slot]) expect(mocks.ofType(type)).toEqual([]);
    expect(mocks.ofType(T.command).map((c) => c.inputs.create)).not.toContain("node --import tsx deploy/one-deploy.ts");
  });

  it("creates a registry with the admin user and anonymous pull off, on the Basic SKU", async () => {
    const { mocks } = await build();
    const registry = mocks.one(T.registry);
    expect(registry.inputs).toMatchObject({
      adminUserEnabled: false,
      anonymousPullEnabled: false,
      sku: { name: "Basic" },
      resourceGroupName: mocks.one(T.rg).state.name,
    });
    expect(registry.inputs.registryName).toMatch(/^[a-z0-9]{5,50}$/);
  });

  it("names the registry per project, stack and app, so another app's registry is another name", async () => {
    const first = (await build()).mocks.one(T.registry).inputs.registryName;
    const second = (await build({ webAppName: "fabrikam-signin" })).mocks.one(T.registry).inputs.registryName;
    expect(first).toMatch(/^contososignin[0-9a-f]{12}$/);
    expect(second).toMatch(/^fabrikamsignin[0-9a-f]{12}$/);
  });

  it("grants the identity the app wears AcrPull, scoped to that registry only, before the app exists", async () => {
    const { mocks, containerApp } = await build();
    const grant = mocks.one(T.roleAssignmentArm);
    const registry = mocks.one(T.registry);
    const uami = mocks.one(T.uami);
    expect(grant.inputs.principalId).toBe(uami.state.principalId);
    expect(grant.inputs.principalId).not.toBe(uami.state.clientId);
    expect(grant.inputs.principalType).toBe("ServicePrincipal");
    expect(grant.inputs.scope).toBe(registry.id);
    expect(grant.inputs.roleDefinitionId).toBe(
      `/subscriptions/${registry.id!.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/` +
        ACR_PULL_ROLE_ID,
    );
    expect(containerApp.inputs.identity.userAssignedIdentities).toEqual([uami.id]);
    expect(dependsOn(mocks, T.containerApp, "unit-aca-app")).toEqual(
      expect.arrayContaining([urnOf(T.roleAssignmentArm, "unit-aca-acr-pull"), urnOf(T.command, "unit-aca-push")]),
    );
  });

  it("pulls from its own registry with the identity's resource ID: no user name, password or secret", async () => {
    const { mocks, containerApp } = await build();
    expect(containerApp.inputs.configuration.registries).toEqual([
      { server: mocks.one(T.registry).state.loginServer, identity: mocks.one(T.uami).id },
    ]);
    expect(containerApp.inputs.configuration.secrets).toBeUndefined();
  });

  it("pushes the image with the project's script, re-run by the image's content and the registry", async () => {
    const { mocks } = await build();
    const push = mocks.ofType(T.command).find((c) => c.name === "unit-aca-push")!;
    expect(push.inputs.create).toBe("node --import tsx deploy/push-image.ts");
    expect(push.inputs.environment).toEqual({
      REGISTRY_LOGIN_SERVER: mocks.one(T.registry).state.loginServer,
      REGISTRY_ID: mocks.one(T.registry).id,
      REGISTRY_ARM_SCOPE: "https://management.azure.com/.default",
      IMAGE_REPOSITORY: IMAGE.repository,
      BASE_IMAGE: IMAGE.baseImage,
      IMAGE_LAYOUT_DIR: IMAGE.layoutDir,
      IMAGE_CONTENT_SHA256: IMAGE.contentSha256,
    });
    expect(push.inputs.triggers).toEqual([IMAGE.contentSha256, mocks.one(T.registry).id]);
    expect(dependsOn(mocks, T.command, "unit-aca-push") ?? []).toEqual([]);
  });

  it("runs the pushed image by digest, the one the push printed, never a tag", async () => {
    const { mocks, container, component } = await build();
    const push = mocks.ofType(T.command).find((c) => c.name === "unit-aca-push")!;
    const printed = JSON.parse(push.state.stdout) as { digest: string; image: string };
    expect(container.image).toBe(printed.image);
    expect(container.image).toMatch(/^[a-z0-9]+\.azurecr\.io\/secretless-signin@sha256:[0-9a-f]{64}$/);
    expect(await promiseOf(component.image)).toBe(printed.image);
  });

  it("gives a new image a new digest, so the app rolls out a new revision", async () => {
    const one = (await build()).container.image;
    const two = (await build({ appImage: { ...IMAGE, contentSha256: "c".repeat(64) } })).container.image;
    expect(two).not.toBe(one);
  });

  it("with telemetry sends the environment's logs through Azure Monitor to its workspace, no key", async () => {
    const { mocks } = await build({ telemetry: true });
    const environment = mocks.one(T.environment);
    expect(environment.inputs.appLogsConfiguration).toEqual({ destination: "azure-monitor" });
    const diagnostics = mocks.ofType(T.diagnosticSetting).find((d) => d.inputs.resourceUri === environment.id)!;
    expect(diagnostics.inputs.workspaceId).toBe(mocks.one(T.workspace).id);
    expect(diagnostics.inputs.logs).toEqual(
      ENVIRONMENT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
    );
    expect(JSON.stringify(environment.inputs)).not.toMatch(/sharedKey|log-analytics/i);
  });

  it("without telemetry (the default) still logs to Azure Monitor, routed nowhere: no workspace, no key", async () => {
    const { mocks } = await build();
    expect(mocks.one(T.environment).inputs.appLogsConfiguration).toEqual({ destination: "azure-monitor" });
    expect(mocks.ofType(T.workspace)).toEqual([]);
    expect(mocks.ofType(T.diagnosticSetting)).toEqual([]);
  });

  it("wears the identity only (user-assigned), in the stack's environment", async () => {
    const { mocks, containerApp } = await build();
    expect(containerApp.inputs.identity).toEqual({
      type: "UserAssigned",
      userAssignedIdentities: [mocks.one(T.uami).id],
    });
    expect(containerApp.inputs.environmentId).toBe(mocks.one(T.environment).id);
    expect(containerApp.inputs.containerAppName).toBe("contoso-signin");
  });

  it("takes external HTTPS-only ingress on the app's port, all traffic to the latest revision", async () => {
    const { containerApp, env } = await build();
    expect(containerApp.inputs.configuration.ingress).toEqual({
      external: true,
      targetPort: APP_CONTAINER_PORT,
      transport: "auto",
      allowInsecure: false,
      traffic: [{ latestRevision: true, weight: 100 }],
    });
    expect(env.PORT).toBe(String(APP_CONTAINER_PORT));
  });

  it("probes liveness on /healthz and readiness on /readyz, on the app's port", async () => {
    const { container } = await build();
    expect(container.probes.map((p: any) => [p.type, p.httpGet.path, p.httpGet.port])).toEqual([
      ["Liveness", "/healthz", APP_CONTAINER_PORT],
      ["Readiness", "/readyz", APP_CONTAINER_PORT],
    ]);
  });

  it("gets the AzureAd__* and DownstreamApis__* values the web app gets, as plain environment variables", async () => {
    const { mocks, container, env } = await build();
    const uami = mocks.one(T.uami).state;
    const app = mocks.one(T.app).state;
    expect(env[AzureAdSetting.ClientId]).toBe(app.clientId);
    expect(env[AzureAdSetting.TenantId]).toBe(TENANT_ID);
    expect(env[AzureAdSetting.ManagedIdentityClientId]).toBe(uami.clientId);
    expect(env[AzureAdSetting.SourceType]).toBe("SignedAssertionFromManagedIdentity");
    expect(env[AzureAdSetting.TokenExchangeUrl]).toBe("api://AzureADTokenExchange");
    expect(env[DownstreamApiSetting.GraphBaseUrl]).toBe("https://graph.microsoft.com/v1.0");
    expect(container.env.every((e: any) => e.secretRef === undefined && typeof e.value === "string")).toBe(true);
    // The same builder as the web app's: every AzureAd__* and DownstreamApis__* setting, name and value alike.
    const web = await attachMocks({});
    await runProgram(web, async () => {
      const c = new SecretlessWebApp("unit", { ...base, hosting: "appService", appImage: undefined });
      await promiseOf(c.redirectUri);
    });
    const site = (web.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).filter((s) =>
      /^(AzureAd|DownstreamApis)__/.test(s.name),
    );
    expect(site.length).toBeGreaterThan(5);
    for (const { name, value } of site) expect([name, env[name]]).toEqual([name, value]);
    expect(
      Object.keys(env)
        .filter((k) => /^(AzureAd|DownstreamApis)__/.test(k))
        .sort(),
    ).toEqual(site.map((s) => s.name).sort());
  });

  it("registers the redirect URI on the FQDN the container app reports, and tells the app that origin", async () => {
    const { mocks, containerApp, env, component } = await build();
    const fqdn = containerApp.state.configuration.ingress.fqdn as string;
    expect(fqdn).toBe(`contoso-signin.${mocks.one(T.environment).state.defaultDomain}`);
    expect(mocks.one(T.redirect).inputs.redirectUris).toEqual([`https://${fqdn}/signin-oidc`]);
    expect(env.PUBLIC_BASE_URL).toBe(`https://${fqdn}`);
    expect(await promiseOf(component.url)).toBe(`https://${fqdn}`);
    expect(await promiseOf(component.defaultHostName)).toBe(fqdn);
  });

  it("waits for /readyz on that FQDN after the app, re-run by a new digest or a new app", async () => {
    const { mocks, containerApp } = await build();
    const ready = mocks.ofType(T.command).find((c) => c.name === "unit-aca-ready")!;
    expect(ready.inputs.create).toBe("node --import tsx deploy/wait-ready.ts");
    expect(ready.inputs.environment).toEqual({
      READY_HOST: containerApp.state.configuration.ingress.fqdn,
      READY_TIMEOUT_MINUTES: "10",
    });
    expect(ready.inputs.triggers[1]).toBe(containerApp.id);
    expect(ready.inputs.triggers[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    // After the app, and after the app registration whose FIC /readyz signs in through.
    const after = dependsOn(mocks, T.command, "unit-aca-ready")!;
    expect(after).toHaveLength(2);
    expect(after).toEqual(
      expect.arrayContaining([
        urnOf(T.containerApp, "unit-aca-app"),
        urnOf("secretless:index:EntraApplication", "unit-entra"),
      ]),
    );
    // The engine is told the FIC itself, not just its component.
    expect(mocks.dependencies.get(`${T.command}::unit-aca-ready`)).toEqual(
      expect.arrayContaining([expect.stringMatching(/ApplicationFederatedIdentityCredential::/)]),
    );
  });

  it("skips the readiness wait with waitForReady false", async () => {
    const { mocks } = await build({ waitForReady: false });
    expect(mocks.ofType(T.command).map((c) => c.name)).toEqual(["unit-aca-push"]);
  });

  it("keeps one replica without scaleOut, and two to ten with Redis sessions for the same identity", async () => {
    expect((await build()).containerApp.inputs.template.scale).toEqual({ minReplicas: 1, maxReplicas: 1 });
    const { mocks, containerApp, env } = await build({ scaleOut: true });
    expect(containerApp.inputs.template.scale).toEqual({ minReplicas: 2, maxReplicas: 10 });
    expect(env[RedisSetting.HostName]).toBe(mocks.one(T.redis).state.hostName);
    expect(env[RedisSetting.UserName]).toBe(mocks.one(T.uami).state.principalId);
    expect(mocks.one(T.redisAccess).inputs.user).toEqual({ objectId: mocks.one(T.uami).state.principalId });
  });

  it("takes replica bounds from its arguments", async () => {
    const { containerApp } = await build({ scaleOut: true, minReplicas: 3, maxReplicas: 6 });
    expect(containerApp.inputs.template.scale).toEqual({ minReplicas: 3, maxReplicas: 6 });
  });
});

describe("the image the push reports", () => {
  const digest = `sha256:${"d".repeat(64)}`;
  it("is read from the push's last line, by digest in the stack's registry", () => {
    const line = JSON.stringify({ digest, image: `acr1.azurecr.io/repo@${digest}` });
    expect(parsePushedImage(`pushing…\n${line}\n`, "acr1.azurecr.io", "repo")).toEqual({
      digest,
      image: `acr1.azurecr.io/repo@${digest}`,
    });
  });

  it.each([
    ["a tag instead of a digest", { digest, image: "acr1.azurecr.io/repo:latest" }],
    ["another registry", { digest, image: `evil.azurecr.io/repo@${digest}` }],
    ["another repository", { digest, image: `acr1.azurecr.io/other@${digest}` }],
    ["a digest that is not sha256", { digest: "md5:abc", image: "acr1.azurecr.io/repo@md5:abc" }],
  ])("refuses %s", (_what, printed) => {
    expect(() => parsePushedImage(JSON.stringify(printed), "acr1.azurecr.io", "repo")).toThrow(
      /did not report the pushed image/,
    );
  });

  it("refuses output that is not the JSON line", () => {
    expect(() => parsePushedImage("", "acr1.azurecr.io", "repo")).toThrow(/node --import tsx deploy\/push-image.ts/);
  });
});

describe("the FQDN the container app reports", () => {
  it("is the host the app was told it has, lower-cased", () => {
    expect(
      requireFqdn("App.Env-1.westeurope.azurecontainerapps.io", "https://app.env-1.westeurope.azurecontainerapps.io"),
    ).toBe("app.env-1.westeurope.azurecontainerapps.io");
  });

  it("stops the deployment when it is missing or another host", () => {
    expect(() => requireFqdn(undefined, "https://app.env.westeurope.azurecontainerapps.io")).toThrow(
      /external ingress/,
    );
    expect(() =>
      requireFqdn("other.env.westeurope.azurecontainerapps.io", "https://app.env.westeurope.azurecontainerapps.io"),
    ).toThrow(/PUBLIC_BASE_URL=https:\/\/app\.env/);
  });
});
