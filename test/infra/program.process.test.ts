import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/app-config";
import { DEPLOY_COMMAND, WAIT_READY_COMMAND } from "../../components/app-deployment";
import { sha256 } from "../../deploy/cli";
import { AzureAdSetting, DownstreamApiSetting } from "../../contract/settings";
import { type AzureMocks, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { ROOT } from "../../offline/language-host";

/**
 * The real program (index.ts) evaluated against the offline engine with the example dev stack's values. Every wiring
 * fact of the secretless chain is asserted on what the program actually registered.
 */

let mocks: AzureMocks;
let program: typeof import("../../index.js");

beforeAll(async () => {
  mocks = await attachMocks({
    location: "westeurope",
    webAppName: "secretless-signin-dev",
    tags: JSON.stringify({ environment: "dev", workload: "secretless-signin" }),
  });
  // Imported only now: the program reads config and registers resources as soon as it loads.
  program = await runProgram(mocks, () => import("../../index.js"));
});

const settingsOf = () =>
  Object.fromEntries(
    (mocks.one(T.site).inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [
      s.name,
      s.value,
    ]),
  );

describe("the federated identity credential", () => {
  it("trusts the managed identity's principal ID, not its client ID", () => {
    const uami = mocks.one(T.uami);
    const fic = mocks.one(T.fic);
    expect(fic.inputs.subject).toBe(uami.state.principalId);
    expect(fic.inputs.subject).not.toBe(uami.state.clientId);
  });

  it("names the tenant's v2.0 issuer of the public cloud", () => {
    expect(mocks.one(T.fic).inputs.issuer).toBe(`https://login.microsoftonline.com/${TENANT_ID}/v2.0`);
  });

  it("accepts only the token-exchange audience", () => {
    expect(mocks.one(T.fic).inputs.audiences).toEqual(["api://AzureADTokenExchange"]);
  });

  it("belongs to the app registration, addressed as /applications/{objectId}", () => {
    const app = mocks.one(T.app);
    expect(mocks.one(T.fic).inputs.applicationId).toBe(`/applications/${app.state.objectId}`);
    expect(app.state.objectId).not.toBe(app.state.clientId);
  });

  it("has a stable name and is deleted before it is replaced", () => {
    const fic = mocks.one(T.fic);
    expect(fic.inputs.displayName).toBe("web-app-managed-identity");
    expect(mocks.options.get(`${T.fic}::${fic.name}`)?.deleteBeforeReplace).toBe(true);
  });
});

describe("the app registration", () => {
  it("is single tenant by default and issues no tokens from the authorize endpoint", () => {
    const app = mocks.one(T.app);
    expect(app.inputs.signInAudience).toBe("AzureADMyOrg");
    expect(app.inputs.implicitIdTokenIssuanceEnabled).toBe(false);
    expect(app.inputs.implicitAccessTokenIssuanceEnabled).toBe(false);
    expect(app.inputs.displayName).toBe("Secretless sign-in (secretless-signin-dev)");
  });

  it("has a service principal for its client ID that does not require assignment by default", () => {
    const sp = mocks.one(T.sp);
    expect(sp.inputs.clientId).toBe(mocks.one(T.app).state.clientId);
    expect(sp.inputs.appRoleAssignmentRequired).toBe(false);
  });

  it("redirects only to the deployed web app's callback over https", () => {
    const site = mocks.one(T.site);
    const redirect = mocks.one(T.redirect);
    expect(redirect.inputs.type).toBe("Web");
    expect(redirect.inputs.applicationId).toBe(mocks.one(T.app).id);
    expect(redirect.inputs.redirectUris).toEqual([`https://${site.state.defaultHostName}/signin-oidc`]);
    expect(JSON.stringify(mocks.resources.map((r) => r.inputs))).not.toMatch(/localhost|127\.0\.0\.1/);
  });
});

describe("the web app", () => {
  it("wears the managed identity as its only identity, also for Key Vault references", () => {
    const site = mocks.one(T.site);
    const uami = mocks.one(T.uami);
    expect(site.inputs.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: [uami.id] });
    expect(site.inputs.keyVaultReferenceIdentity).toBe(uami.id);
  });

  it(
    "gets the Microsoft.Identity.Web settings that name the app, the tenant " +
      "and the identity, and runs its package as it is",
    () => {
      const settings = settingsOf();
      const app = mocks.one(T.app);
      const uami = mocks.one(T.uami);
      expect(settings).toEqual({
        [AzureAdSetting.Instance]: "https://login.microsoftonline.com/",
        [AzureAdSetting.TenantId]: TENANT_ID,
        [AzureAdSetting.ClientId]: app.state.clientId,
        [AzureAdSetting.CallbackPath]: "/signin-oidc",
        [AzureAdSetting.SourceType]: "SignedAssertionFromManagedIdentity",
        [AzureAdSetting.ManagedIdentityClientId]: uami.state.clientId,
        [AzureAdSetting.TokenExchangeUrl]: "api://AzureADTokenExchange",
        [DownstreamApiSetting.GraphBaseUrl]: "https://graph.microsoft.com/v1.0",
        [DownstreamApiSetting.GraphScopes0]: "User.Read",
        WEBSITE_RUN_FROM_PACKAGE: "1",
        SCM_DO_BUILD_DURING_DEPLOYMENT: "false",
      });
      expect(Object.keys(settings)).toEqual([
        "AzureAd__CallbackPath",
        "AzureAd__ClientCredentials__0__ManagedIdentityClientId",
        "AzureAd__ClientCredentials__0__SourceType",
        "AzureAd__ClientCredentials__0__TokenExchangeUrl",
        "AzureAd__ClientId",
        "AzureAd__Instance",
        "AzureAd__TenantId",
        "DownstreamApis__MicrosoftGraph__BaseUrl",
        "DownstreamApis__MicrosoftGraph__Scopes__0",
        "SCM_DO_BUILD_DURING_DEPLOYMENT",
        "WEBSITE_RUN_FROM_PACKAGE",
      ]);
    },
  );

  it("hands the sample app exactly the configuration it loads: same client, tenant, identity and audience", () => {
    const app = mocks.one(T.app);
    const uami = mocks.one(T.uami);
    // App Service adds PORT and WEBSITE_HOSTNAME itself.
    const loaded = loadConfig({ ...settingsOf(), PORT: "8080", WEBSITE_HOSTNAME: "app.azurewebsites.net" });
    expect(loaded).toMatchObject({
      instance: "https://login.microsoftonline.com/",
      tenantId: TENANT_ID,
      clientId: app.state.clientId,
      callbackPath: "/signin-oidc",
      managedIdentityClientId: uami.state.clientId,
      tokenExchangeUrl: mocks.one(T.fic).inputs.audiences[0],
      authority: `https://login.microsoftonline.com/${TENANT_ID}`,
    });
    // The app's authority is where the FIC's issuer lives: the managed identity's tokens will match it.
    expect(`${loaded.authority}/v2.0`).toBe(mocks.one(T.fic).inputs.issuer);
  });

  it("is hardened: HTTPS only, TLS 1.2 on site and SCM, FTP off, HTTP/2, health check, Always On on B1", () => {
    const site = mocks.one(T.site).inputs;
    expect(site.httpsOnly).toBe(true);
    expect(site.kind).toBe("app,linux");
    expect(site.reserved).toBe(true);
    expect(site.siteConfig).toMatchObject({
      linuxFxVersion: "NODE|22-lts",
      minTlsVersion: "1.2",
      scmMinTlsVersion: "1.2",
      ftpsState: "Disabled",
      http20Enabled: true,
      healthCheckPath: "/healthz",
      alwaysOn: true,
      remoteDebuggingEnabled: false,
      appCommandLine: "node server.js",
    });
  });

  it("gets a secure unique default host name, and the app URL uses the host Azure assigned", async () => {
    const site = mocks.one(T.site);
    expect(site.inputs.autoGeneratedDomainNameLabelScope).toBe("TenantReuse");
    expect(await promiseOf(program.url)).toBe(`https://${site.state.defaultHostName}`);
    expect(site.state.defaultHostName).not.toBe("secretless-signin-dev.azurewebsites.net");
  });

  it("runs on a Linux B1 plan it creates", () => {
    const plan = mocks.one(T.plan);
    expect(plan.inputs).toMatchObject({ kind: "linux", reserved: true, sku: { name: "B1", tier: "Basic" } });
    expect(mocks.one(T.site).inputs.serverFarmId).toBe(plan.id);
  });

  it("has basic-auth publishing turned off for SCM and FTP", () => {
    const site = mocks.one(T.site);
    for (const type of [T.scm, T.ftp]) {
      expect(mocks.one(type).inputs).toMatchObject({
        allow: false,
        name: site.state.name,
        resourceGroupName: site.inputs.resourceGroupName,
      });
    }
  });
});

describe("the deploy step", () => {
  const command = (suffix: string) => mocks.ofType(T.command).find((c) => c.name === `secretless-app-${suffix}`)!;
  const dependencies = (suffix: string) => mocks.options.get(`${T.command}::secretless-app-${suffix}`)?.dependsOn ?? [];

  it("packages the bundled app and deploys that zip: its path and hash are the ones dist/app.zip has now", () => {
    const zip = readFileSync(join(ROOT, "dist", "app.zip"));
    const deploy = command("deploy");
    expect(deploy.inputs.create).toBe(DEPLOY_COMMAND);
    expect(deploy.inputs.environment).toMatchObject({
      DEPLOY_ZIP_PATH: "dist/app.zip",
      DEPLOY_ZIP_SHA256: sha256(zip),
    });
    expect(readFileSync(join(ROOT, "dist", "app.zip.sha256"), "utf8")).toBe(`${sha256(zip)}  app.zip\n`);
  });

  it("re-runs exactly when the zip's hash or the site changes", () => {
    const zip = readFileSync(join(ROOT, "dist", "app.zip"));
    expect(command("deploy").inputs.triggers).toEqual([sha256(zip), mocks.one(T.site).id]);
    expect(command("ready").inputs.triggers).toEqual(command("deploy").inputs.triggers);
  });

  it("pushes to the site's own SCM host with a public-cloud Resource Manager token", () => {
    const scm = mocks
      .one(T.site)
      .state.hostNameSslStates.find((s: { hostType: string }) => s.hostType === "Repository").name;
    expect(command("deploy").inputs.environment).toMatchObject({
      DEPLOY_SCM_HOST: scm,
      DEPLOY_ARM_SCOPE: "https://management.azure.com/.default",
    });
  });

  it("runs after the site, its settings and basic auth off, and the readiness wait after the deploy", () => {
    for (const suffix of [
      "$azure-native:web:WebApp::secretless-web-site",
      "::secretless-web-scm-basic-auth",
      "::secretless-web-ftp-basic-auth",
      "::secretless-entra",
    ]) {
      expect(
        dependencies("deploy").some((urn) => urn.endsWith(suffix)),
        suffix,
      ).toBe(true);
    }
    expect(dependencies("ready").some((urn) => urn.endsWith("::secretless-app-deploy"))).toBe(true);
  });

  it("waits up to 10 minutes for the app's /readyz on the site's default host", () => {
    const ready = command("ready");
    expect(ready.inputs.create).toBe(WAIT_READY_COMMAND);
    expect(ready.inputs.environment).toEqual({
      READY_HOST: mocks.one(T.site).state.defaultHostName,
      READY_TIMEOUT_MINUTES: "10",
    });
  });

  it("exports the deployed package's hash", async () => {
    expect(await promiseOf(program.appPackageSha256)).toBe(sha256(readFileSync(join(ROOT, "dist", "app.zip"))));
  });
});

describe("the stack", () => {
  it("creates a resource group and puts every Azure resource in it", () => {
    const rg = mocks.one(T.rg);
    for (const type of [T.uami, T.plan, T.site, T.scm, T.ftp]) {
      expect(mocks.one(type).inputs.resourceGroupName).toBe(rg.state.name);
    }
  });

  it("tags every Azure resource that takes tags", () => {
    for (const type of [T.rg, T.uami, T.plan, T.site]) {
      expect(mocks.one(type).inputs.tags).toEqual({ environment: "dev", workload: "secretless-signin" });
    }
  });

  it("parents every resource to the component that created it", () => {
    const expectedParent: Record<string, string> = {
      [T.rg]: "SecretlessWebApp",
      [T.redirect]: "SecretlessWebApp",
      [T.uami]: "ManagedIdentity",
      [T.app]: "EntraApplication",
      [T.sp]: "EntraApplication",
      [T.fic]: "EntraApplication",
      [T.plan]: "LinuxWebApp",
      [T.site]: "LinuxWebApp",
      [T.scm]: "LinuxWebApp",
      [T.ftp]: "LinuxWebApp",
      "secretless:index:AppDeployment": "SecretlessWebApp",
    };
    for (const c of mocks.ofType(T.command)) {
      expect(mocks.options.get(`${T.command}::${c.name}`)?.parentUrn, c.name).toMatch(
        /secretless:index:AppDeployment::secretless-app$/,
      );
    }
    for (const [type, parent] of Object.entries(expectedParent)) {
      const r = mocks.one(type);
      const urn = mocks.options.get(`${type}::${r.name}`)?.parentUrn ?? "";
      expect(urn, type).toMatch(new RegExp(`secretless:index:${parent}::`));
      expect(r.name.startsWith("secretless-"), r.name).toBe(true);
    }
  });

  it("takes the tenant from the azuread provider's client config", () => {
    expect(mocks.calls.map((c) => c.token)).toContain("azuread:index/getClientConfig:getClientConfig");
  });

  it("exports the app URL, the client IDs, the principal ID, the tenant and the resource group", async () => {
    const uami = mocks.one(T.uami);
    expect(await promiseOf(program.appClientId)).toBe(mocks.one(T.app).state.clientId);
    expect(await promiseOf(program.identityClientId)).toBe(uami.state.clientId);
    expect(await promiseOf(program.identityPrincipalId)).toBe(uami.state.principalId);
    expect(await promiseOf(program.tenantId)).toBe(TENANT_ID);
    expect(await promiseOf(program.resourceGroupName)).toBe(mocks.one(T.rg).state.name);
  });
});

describe("no secret anywhere", () => {
  const forbiddenTypes = [
    /ApplicationPassword/,
    /ServicePrincipalPassword/,
    /ApplicationCertificate/,
    /ServicePrincipalCertificate/,
    /ServicePrincipalToken/,
    /ServicePrincipalDelegatedPermissionGrant/,
    /SynchronizationSecret/,
    /storage:StorageAccount/,
    /listStorageAccount/,
    /PublishingCredentials/,
    /WebAppApplicationSettings/,
    /WebAppConnectionStrings/,
  ];

  it("registers no resource type that holds or hands out a secret", () => {
    for (const r of mocks.resources) {
      for (const pattern of forbiddenTypes) expect(r.type, r.name).not.toMatch(pattern);
    }
    for (const c of mocks.calls) expect(c.token).not.toMatch(/list.*Keys|SAS|Credentials|getClientToken/i);
  });

  it("sends no input that carries a password, certificate, key or SAS", () => {
    const walk = (value: unknown, path: string): string[] => {
      if (Array.isArray(value)) return value.flatMap((v, i) => walk(v, `${path}[${i}]`));
      if (value && typeof value === "object") {
        return Object.entries(value).flatMap(([k, v]) => [
          ...(/password|secret|certificate|privateKey|accessKey|accountKey|sas|connectionString|credentials?$/i.test(k)
            ? [`${path}.${k}`]
            : []),
          ...walk(v, `${path}.${k}`),
        ]);
      }
      return typeof value === "string" && /AccountKey=|SharedAccessSignature|[?&]sig=|-----BEGIN/.test(value)
        ? [path]
        : [];
    };
    const found = mocks.resources.flatMap((r) => walk(r.inputs, `${r.type}::${r.name}`));
    expect(found).toEqual([]);
  });

  it("gives the app settings that name an identity, never a credential", () => {
    for (const name of Object.keys(settingsOf())) expect(name).not.toMatch(/Secret|Password|Certificate|Key$/i);
    expect(settingsOf()[AzureAdSetting.SourceType]).toBe("SignedAssertionFromManagedIdentity");
  });
});
