import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { bootstrapConfigKeys } from "../bootstrap/bootstrap-config";
import { type AzureMocks, SUBSCRIPTION_ID, TENANT_ID, attachMocks, guidFrom } from "./azure-mocks";
import { azureProject, readStackConfig } from "./language-host";

/**
 * The shared offline engine (offline/azure-mocks.ts, reused unchanged) switched to the bootstrap project and taught
 * what the bootstrap's own resource types and invokes compute, with realistic, distinct IDs.
 */

export const BOOTSTRAP_PROJECT = "secretless-ci-bootstrap";
export const BOOTSTRAP_DIR = join(__dirname, "..", "bootstrap");
/** Microsoft Graph's well-known application ID, as azuread's published-app-IDs list returns it. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";
/** The object ID of Graph's service principal in the mock tenant (it differs per tenant in reality). */
export const GRAPH_SP_OBJECT_ID = guidFrom("graph-service-principal");
/** Graph's app-role IDs by value, as the mock tenant reports them. */
export const GRAPH_APP_ROLE_IDS: Record<string, string> = {
  "Application.Read.All": guidFrom("graph-role:Application.Read.All"),
  "Application.ReadWrite.OwnedBy": guidFrom("graph-role:Application.ReadWrite.OwnedBy"),
  "Application.ReadWrite.All": guidFrom("graph-role:Application.ReadWrite.All"),
};

/** The type tokens of everything the bootstrap registers, by short name. */
export const B = {
  rg: "azure-native:resources:ResourceGroup",
  uami: "azure-native:managedidentity:UserAssignedIdentity",
  fic: "azure-native:managedidentity:FederatedIdentityCredential",
  account: "azure-native:storage:StorageAccount",
  container: "azure-native:storage:BlobContainer",
  vault: "azure-native:keyvault:Vault",
  key: "azure-native:keyvault:Key",
  role: "azure-native:authorization:RoleAssignment",
  appRole: "azuread:index/appRoleAssignment:AppRoleAssignment",
  owner: "azuread:index/applicationOwner:ApplicationOwner",
  blobService: "azure-native:storage:BlobServiceProperties",
  githubProvider: "pulumi:providers:github",
  environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
  branchPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
} as const;

function compute(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult | undefined {
  const i = args.inputs;
  const arm = (provider: string, name: string) =>
    `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${i.resourceGroupName}/providers/${provider}/${name}`;
  switch (args.type) {
    case B.fic:
      return {
        id: arm(
          "Microsoft.ManagedIdentity/userAssignedIdentities",
          `${i.resourceName}/federatedIdentityCredentials/${i.federatedIdentityCredentialResourceName}`,
        ),
        state: { ...i, name: i.federatedIdentityCredentialResourceName },
      };
    case B.account:
      return {
        id: arm("Microsoft.Storage/storageAccounts", i.accountName),
        state: {
          ...i,
          name: i.accountName,
          primaryEndpoints: { blob: `https://${i.accountName}.blob.core.windows.net/` },
        },
      };
    case B.container:
      return {
        id: arm(
          "Microsoft.Storage/storageAccounts",
          `${i.accountName}/blobServices/default/containers/${i.containerName}`,
        ),
        state: { ...i, name: i.containerName },
      };
    case B.vault:
      return {
        id: arm("Microsoft.KeyVault/vaults", i.vaultName),
        state: {
          ...i,
          name: i.vaultName,
          properties: { ...i.properties, vaultUri: `https://${i.vaultName}.vault.azure.net/` },
        },
      };
    case B.key: {
      const uri = `https://${i.vaultName}.vault.azure.net/keys/${i.keyName}`;
      return {
        id: arm("Microsoft.KeyVault/vaults", `${i.vaultName}/keys/${i.keyName}`),
        state: {
          ...i,
          name: i.keyName,
          keyUri: uri,
          keyUriWithVersion: `${uri}/${guidFrom(args.name).replace(/-/g, "")}`,
        },
      };
    }
    case B.role: {
      const name = guidFrom(`${args.name}:assignment`);
      return { id: `${i.scope}/providers/Microsoft.Authorization/roleAssignments/${name}`, state: { ...i, name } };
    }
    case B.appRole:
      return { id: `${i.resourceObjectId}/appRoleAssignedTo/${guidFrom(args.name)}`, state: { ...i } };
    case B.blobService:
      return {
        id: arm("Microsoft.Storage/storageAccounts", `${i.accountName}/blobServices/default`),
        state: { ...i, name: "default" },
      };
    // The GitHub provider's IDs, as terraform-provider-github forms them: `repo:environment` and a numeric policy ID.
    case B.environment:
      return { id: `${i.repository}:${i.environment}`, state: { ...i } };
    case B.branchPolicy:
      return {
        id: `${i.repository}:${i.environment}:${parseInt(guidFrom(args.name).slice(0, 6), 16)}`,
        state: { ...i },
      };
    default:
      return undefined;
  }
}

/**
 * Attaches the offline engine for the bootstrap project. `config` keys without a namespace go in the bootstrap's.
 * attachMocks installs the registration hook (parents, deleteBeforeReplace); a second `setMocks` on the same mocks
 * switches the project name, which `new pulumi.Config()` reads.
 */
export async function attachBootstrapMocks(config: Record<string, string>, stack = "test"): Promise<AzureMocks> {
  const mocks = await attachMocks({}, stack);
  await pulumi.runtime.setMocks(mocks, BOOTSTRAP_PROJECT, stack, false);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `${BOOTSTRAP_PROJECT}:${k}`, v])),
  );

  const newResource = mocks.newResource.bind(mocks);
  mocks.newResource = (args) => {
    const computed = compute(args);
    if (!computed) return newResource(args);
    mocks.resources.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      custom: args.custom ?? true,
      id: computed.id,
      state: computed.state,
    });
    return computed;
  };
  const call = mocks.call.bind(mocks);
  mocks.call = (args) => {
    switch (args.token) {
      case "azure-native:authorization:getClientConfig":
        mocks.calls.push({ token: args.token, inputs: args.inputs });
        return {
          clientId: guidFrom("bootstrapper-client"),
          objectId: guidFrom("bootstrapper"),
          subscriptionId: SUBSCRIPTION_ID,
          tenantId: TENANT_ID,
        };
      case "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds":
        mocks.calls.push({ token: args.token, inputs: args.inputs });
        return {
          id: "published",
          result: { MicrosoftGraph: GRAPH_APP_ID, AzureKeyVault: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093" },
        };
      case "azuread:index/getServicePrincipal:getServicePrincipal":
        mocks.calls.push({ token: args.token, inputs: args.inputs });
        if (args.inputs.clientId !== GRAPH_APP_ID) throw new Error(`no service principal for ${args.inputs.clientId}`);
        return {
          id: GRAPH_SP_OBJECT_ID,
          objectId: GRAPH_SP_OBJECT_ID,
          clientId: GRAPH_APP_ID,
          appRoleIds: GRAPH_APP_ROLE_IDS,
        };
      default:
        return call(args);
    }
  };
  return mocks;
}

/** The bootstrap project (bootstrap/), for the language-host runner and `npm run plan:bootstrap`. */
export const bootstrapProject = azureProject(
  BOOTSTRAP_DIR,
  BOOTSTRAP_PROJECT,
  bootstrapConfigKeys,
  attachBootstrapMocks,
);

/** A bootstrap stack file's config (bootstrap/Pulumi.<stack>.yaml), flattened as the engine hands it over. */
export function readBootstrapStack(stack: string): Record<string, string> {
  return readStackConfig(stack, bootstrapProject);
}
