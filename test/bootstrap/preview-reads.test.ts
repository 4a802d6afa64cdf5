import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as resources from "@pulumi/azure-native/resources";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import { CiBootstrap } from "../../bootstrap/components/ci-bootstrap";
import { BuiltInRole, GraphAppRole, RoleActions, actionCovers } from "../../bootstrap/roles";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { AzureAdSetting, DownstreamApiSetting, RedisSetting } from "../../contract/settings";
import { RUN_FROM_PACKAGE_SETTINGS } from "../../components/app-deployment";
import { type AzureMocks, T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { B, GRAPH_APP_ROLE_IDS, attachBootstrapMocks } from "../../offline/bootstrap-mocks";
import { ROOT } from "../../offline/language-host";

/**
 * What a pull request's code can read as the preview identity, and proof that none of it is secret. PR code (npm
 * scripts, the program, the policy pack) runs in the job that holds the preview identity's token, so everything that
 * identity may read is readable by any PR author with push access.
 */

const SECRET_MARKER = "1b47061264138c4ac30d75fd1eb44270"; // how the engine marks a secret value (runtime/rpc.js)

async function previewGrants() {
  const mocks = await attachBootstrapMocks({});
  const ci = await runProgram(mocks, async () => {
    const c = new CiBootstrap("ci", {
      repository: "contoso/secretless-signin",
      location: "westeurope",
      targetResourceGroupName: "secretless-signin",
      stateResourceGroupName: "secretless-ci-state",
      stateStorageAccountName: "contosopulumistate",
      keyVaultName: "contoso-pulumi-kv",
    });
    await promiseOf(c.previewClientId);
    return c;
  });
  const preview = mocks.resources.find((r) => r.type === B.uami && r.name === "ci-preview-uami")!.state.principalId;
  const roleName = new Map<string, string>(Object.entries(BuiltInRole).map(([name, id]) => [id, name]));
  const azure = mocks
    .ofType(B.role)
    .filter((r) => r.inputs.principalId === preview)
    .map((r) => [
      roleName.get(String(r.inputs.roleDefinitionId).split("/").pop()!),
      String(r.inputs.scope).split("/").slice(-2).join("/"),
    ]);
  const graphName = new Map(Object.entries(GRAPH_APP_ROLE_IDS).map(([value, id]) => [id, value]));
  const graph = mocks
    .ofType(B.appRole)
    .filter((r) => r.inputs.principalObjectId === preview)
    .map((r) => graphName.get(r.inputs.appRoleId));
  return { ci, azure, graph };
}

/** Every path in `value` that holds a value marked secret. */
function secretPaths(value: unknown, path = ""): string[] {
  if (value === null || typeof value !== "object") return [];
  if ((value as Record<string, unknown>)["4dabf18193072939515e22adb298388d"] === SECRET_MARKER) return [path];
  return Object.entries(value).flatMap(([k, v]) => secretPaths(v, `${path}.${k}`));
}

async function appStack(args: Partial<SecretlessWebAppArgs>): Promise<AzureMocks> {
  const mocks = await attachMocks({});
  await runProgram(mocks, async () => {
    const app = new SecretlessWebApp("state", {
      location: "westeurope",
      webAppName: "contoso-signin",
      tenantId: TENANT_ID,
      ...args,
    });
    await promiseOf(app.redirectUri);
  });
  return mocks;
}

describe("the preview identity", () => {
  it(
    "reads exactly the app's group, the state container, the " + "state key and app registrations, nothing else",
    async () => {
      const { azure, graph } = await previewGrants();
      expect(azure.sort()).toEqual(
        [
          ["Reader", "resourceGroups/secretless-signin"],
          ["StorageBlobDataReader", "containers/pulumi-state"],
          ["KeyVaultCryptoUser", "keys/pulumi-state"],
        ].sort(),
      );
      expect(graph).toEqual([GraphAppRole.ApplicationReadAll]);
    },
  );

  it("cannot call the list actions that return keys, app settings or publishing profiles with Reader", () => {
    for (const action of [
      "Microsoft.Web/sites/config/list/action",
      "Microsoft.Web/sites/publishxml/action",
      "Microsoft.Cache/redisEnterprise/databases/listKeys/action",
      "Microsoft.Storage/storageAccounts/listKeys/action",
    ]) {
      expect(
        RoleActions.Reader!.some((pattern) => actionCovers(pattern, action)),
        action,
      ).toBe(false);
    }
    expect(actionCovers(RoleActions.Reader![0]!, "Microsoft.Web/sites/read")).toBe(true);
  });
});

describe("the app stack's state, which the preview identity reads and can decrypt", () => {
  it.each([
    ["one instance, deployed", { appPackage: { zipPath: "dist/app.zip", sha256: "a".repeat(64) } }],
    [
      "scaled out, admin consent, owners",
      { scaleOut: true, grantAdminConsent: true, appOwnerObjectIds: ["5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"] },
    ],
  ] as const)(
    "holds no secret value (%s): nothing the Key Vault key decrypts, no key or password input",
    async (_what, args) => {
      const mocks = await appStack(args as Partial<SecretlessWebAppArgs>);
      const resources = mocks.resources.filter((r) => r.type !== "pulumi:pulumi:Stack");
      expect(resources.length).toBeGreaterThan(8);
      for (const r of resources) {
        expect(secretPaths(r.inputs), `${r.type} ${r.name} inputs`).toEqual([]);
        expect(secretPaths(r.state), `${r.type} ${r.name} state`).toEqual([]);
        // Redis's `accessKeysAuthentication` is the switch that turns access keys off; it must say so.
        if ("accessKeysAuthentication" in r.inputs) expect(r.inputs.accessKeysAuthentication).toBe("Disabled");
        const keys =
          JSON.stringify(r.inputs).match(
            /"[^"]*(password|secret|accesskey|connectionstring|primarykey|sas)[^"]*":/gi,
          ) ?? [];
        expect(
          keys.filter((k) => k !== '"accessKeysAuthentication":'),
          `${r.type} ${r.name}`,
        ).toEqual([]);
      }
      // The site's app settings are in the checkpoint: each is one this project owns, and none carries a credential.
      const site = mocks.one(T.site);
      const owned = new Set<string>([
        ...Object.values(AzureAdSetting),
        ...Object.values(DownstreamApiSetting),
        ...Object.values(RedisSetting),
        ...Object.keys(RUN_FROM_PACKAGE_SETTINGS),
      ]);
      for (const { name } of site.inputs.siteConfig.appSettings as { name: string }[])
        expect(owned.has(name), name).toBe(true);
    },
  );

  it(
    "would see a secret: a value marked secret reaches the mock " + "engine with the marker this test looks for",
    async () => {
      const mocks = await attachMocks({});
      await runProgram(mocks, async () => {
        const probe = new resources.ResourceGroup("probe", {
          location: "westeurope",
          tags: { note: pulumi.secret("hidden") },
        });
        await promiseOf(probe.id);
      });
      expect(secretPaths(mocks.one(T.rg).inputs)).toEqual([".tags"]); // the secret taints the object that holds it
    },
  );

  it("declares no secret configuration key", () => {
    const project = load(readFileSync(join(ROOT, "Pulumi.yaml"), "utf8")) as {
      config: Record<string, { secret?: boolean }>;
    };
    expect(Object.entries(project.config).filter(([, v]) => v.secret)).toEqual([]);
  });
});
