import { beforeAll, describe, expect, it } from "vitest";
import { BuiltInRole } from "../../bootstrap/roles";
import { type AzureMocks, SUBSCRIPTION_ID, TENANT_ID, promiseOf, runProgram } from "../../offline/azure-mocks";
import {
  B,
  GRAPH_APP_ROLE_IDS,
  GRAPH_SP_OBJECT_ID,
  attachBootstrapMocks,
  readBootstrapStack,
} from "../../offline/bootstrap-mocks";

/**
 * The real bootstrap program (bootstrap/index.ts) evaluated against the offline engine with the example stack's values.
 * Every wiring fact CI's sign-in and least privilege rest on is asserted on what the program registered.
 */

let mocks: AzureMocks;
let program: typeof import("../../bootstrap/index.js");

beforeAll(async () => {
  mocks = await attachBootstrapMocks(readBootstrapStack("example"));
  program = await runProgram(mocks, () => import("../../bootstrap/index.js"));
  await promiseOf(program.AZURE_DEPLOY_CLIENT_ID);
});

const identity = (which: "preview" | "deploy") =>
  mocks.resources.find((r) => r.type === B.uami && r.name === `ci-${which}-uami`)!;
const rg = (name: string) => `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${name}`;
const roleId = (guid: string) =>
  `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const CONTAINER =
  `${rg("secretless-ci-state")}/providers/Microsoft.Storage/storageAccounts/contosopulumistate` +
  "/blobServices/default/containers/pulumi-state";
const KEY = `${rg("secretless-ci-state")}/providers/Microsoft.KeyVault/vaults/contoso-pulumi-kv/keys/pulumi-state`;

describe("the federated identity credentials", () => {
  it.each([
    ["preview", "repo:contoso/secretless-signin:pull_request"],
    ["deploy", "repo:contoso/secretless-signin:environment:production"],
  ] as const)("let the %s identity be signed in to only by the GitHub job whose subject is %s", (which, subject) => {
    const fic = mocks.resources.find((r) => r.type === B.fic && r.name === `ci-${which}-github`)!;
    expect(fic.inputs).toMatchObject({
      issuer: "https://token.actions.githubusercontent.com",
      subject,
      audiences: ["api://AzureADTokenExchange"],
      resourceName: identity(which).state.name,
      resourceGroupName: "secretless-ci-state",
    });
    expect(mocks.options.get(`${B.fic}::${fic.name}`)?.deleteBeforeReplace).toBe(true);
  });

  it("keeps the two identities distinct, each with exactly one credential", () => {
    expect(mocks.ofType(B.uami)).toHaveLength(2);
    expect(mocks.ofType(B.fic)).toHaveLength(2);
    expect(identity("preview").state.principalId).not.toBe(identity("deploy").state.principalId);
  });
});

describe("the Azure role assignments", () => {
  const expected: [who: "preview" | "deploy", role: keyof typeof BuiltInRole, scope: string][] = [
    ["preview", "Reader", rg("secretless-signin")],
    ["preview", "StorageBlobDataReader", CONTAINER],
    ["preview", "KeyVaultCryptoUser", KEY],
    ["deploy", "WebsiteContributor", rg("secretless-signin")],
    ["deploy", "WebPlanContributor", rg("secretless-signin")],
    ["deploy", "ManagedIdentityContributor", rg("secretless-signin")],
    ["deploy", "ManagedIdentityOperator", rg("secretless-signin")],
    ["deploy", "AzureManagedRedisContributor", rg("secretless-signin")],
    ["deploy", "StorageBlobDataContributor", CONTAINER],
    ["deploy", "KeyVaultCryptoUser", KEY],
  ];

  it.each(expected)(
    "grant the %s identity %s on %s, as a service principal, deleted before replaced",
    (who, role, scope) => {
      const principalId = identity(who).state.principalId;
      const matches = mocks
        .ofType(B.role)
        .filter((r) => r.inputs.principalId === principalId && r.inputs.roleDefinitionId === roleId(BuiltInRole[role]));
      expect(matches).toHaveLength(1);
      expect(matches[0]!.inputs.scope).toBe(scope);
      expect(matches[0]!.inputs.principalType).toBe("ServicePrincipal");
      expect(mocks.options.get(`${B.role}::${matches[0]!.name}`)?.deleteBeforeReplace).toBe(true);
    },
  );

  it("grant nothing else: no subscription scope, no Owner, no role that can assign roles", () => {
    expect(mocks.ofType(B.role)).toHaveLength(expected.length);
    for (const r of mocks.ofType(B.role)) expect(r.inputs.scope).not.toBe(`/subscriptions/${SUBSCRIPTION_ID}`);
  });
});

describe("the Microsoft Graph application permissions", () => {
  it.each([
    ["preview", "Application.Read.All"],
    ["deploy", "Application.ReadWrite.OwnedBy"],
  ] as const)("give the %s identity %s, with the role ID looked up on Graph's service principal", (who, value) => {
    const assignments = mocks
      .ofType(B.appRole)
      .filter((r) => r.inputs.principalObjectId === identity(who).state.principalId);
    expect(assignments).toHaveLength(1);
    expect(assignments[0]!.inputs).toMatchObject({
      appRoleId: GRAPH_APP_ROLE_IDS[value],
      resourceObjectId: GRAPH_SP_OBJECT_ID,
    });
    expect(mocks.options.get(`${B.appRole}::${assignments[0]!.name}`)?.deleteBeforeReplace).toBe(true);
  });

  it("never grant Application.ReadWrite.All, and make no app owner when no existing app is named", () => {
    expect(mocks.ofType(B.appRole).map((r) => r.inputs.appRoleId)).not.toContain(
      GRAPH_APP_ROLE_IDS["Application.ReadWrite.All"],
    );
    expect(mocks.ofType(B.owner)).toHaveLength(0);
  });
});

describe("the state store", () => {
  it("accepts Entra tokens only: shared key off, no public blobs, TLS 1.2, HTTPS only", () => {
    expect(mocks.one(B.account).inputs).toMatchObject({
      accountName: "contosopulumistate",
      resourceGroupName: "secretless-ci-state",
      allowSharedKeyAccess: false,
      defaultToOAuthAuthentication: true,
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
    });
    expect(mocks.one(B.container).inputs).toMatchObject({
      containerName: "pulumi-state",
      accountName: "contosopulumistate",
      publicAccess: "None",
    });
  });

  it(
    "keeps every checkpoint write and delete recoverable: versioning, " +
      "blob and container soft delete, no early purge",
    () => {
      const service = mocks.one(B.blobService);
      expect(service.inputs).toEqual({
        resourceGroupName: "secretless-ci-state",
        accountName: "contosopulumistate",
        blobServicesName: "default",
        isVersioningEnabled: true,
        deleteRetentionPolicy: { enabled: true, days: 30, allowPermanentDelete: false },
        containerDeleteRetentionPolicy: { enabled: true, days: 30 },
      });
      // The container (the checkpoints' home) is created once they are on.
      const dependsOn = mocks.options.get(`${B.container}::${mocks.one(B.container).name}`)?.dependsOn ?? [];
      expect(dependsOn.some((urn) => urn.endsWith(`${B.blobService}::${service.name}`))).toBe(true);
    },
  );

  it("keeps the secrets key in an RBAC vault with purge protection, in the identities' tenant", () => {
    expect(mocks.one(B.vault).inputs.properties).toMatchObject({
      tenantId: TENANT_ID,
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      enableSoftDelete: true,
    });
    expect(mocks.one(B.vault).inputs.properties.accessPolicies).toBeUndefined();
    expect(mocks.one(B.key).inputs).toMatchObject({ vaultName: "contoso-pulumi-kv", keyName: "pulumi-state" });
    expect(mocks.one(B.key).inputs.properties).toMatchObject({
      kty: "RSA",
      keyOps: expect.arrayContaining(["encrypt", "decrypt"]),
    });
  });

  it("lets no resource take a key, password, SAS or connection string as an input", () => {
    const keys = (v: unknown): string[] =>
      v && typeof v === "object" ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : [];
    const names = mocks.resources.flatMap((r) => keys(r.inputs));
    expect(names.length).toBeGreaterThan(50);
    expect(
      names.filter((k) => /password|secret|sas|connectionstring|accountkey|clientcertificate|privatekey/i.test(k)),
    ).toEqual([]);
  });
});

describe("the outputs", () => {
  it(
    "are exactly the repository variables the workflows read, " + "with the values CI signs in and logs in with",
    async () => {
      const outputs = Object.fromEntries(
        await Promise.all(
          Object.entries(program).map(
            async ([k, v]) => [k, typeof v === "string" ? v : await promiseOf(v as any)] as const,
          ),
        ),
      );
      expect(outputs).toEqual({
        AZURE_TENANT_ID: TENANT_ID,
        AZURE_SUBSCRIPTION_ID: SUBSCRIPTION_ID,
        AZURE_PREVIEW_CLIENT_ID: identity("preview").state.clientId,
        AZURE_DEPLOY_CLIENT_ID: identity("deploy").state.clientId,
        PULUMI_BACKEND_URL: "azblob://pulumi-state?storage_account=contosopulumistate",
        PULUMI_SECRETS_PROVIDER: "azurekeyvault://contoso-pulumi-kv.vault.azure.net/keys/pulumi-state",
        PULUMI_STACK: "dev",
      });
      expect(outputs.AZURE_PREVIEW_CLIENT_ID).not.toBe(identity("preview").state.principalId);
    },
  );
});
