import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/**
 * An offline stand-in for the Pulumi engine and the Azure/azuread providers: the seam every infrastructure test and
 * `npm run plan` (a shipped command, hence not under test/) evaluate the real program through. Each resource gets what its provider would compute, with
 * realistic, **distinct** IDs (a managed identity's clientId ≠ its principalId, an app's clientId ≠ its objectId), so a
 * swapped ID fails a test instead of passing by coincidence.
 */

export const SUBSCRIPTION_ID = "8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e";
/** An obviously made-up tenant: no real directory has this ID. */
export const TENANT_ID = "00000000-0000-4000-8000-00000000feed";
const DEPLOYER_OBJECT_ID = "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b";
/** Microsoft Graph's app (client) ID, the same in every cloud and tenant. */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** A stable GUID derived from `seed`, so IDs are realistic, distinct per resource and identical run to run. */
export function guidFrom(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The type tokens of everything the stack registers, by short name. */
export const T = {
  rg: "azure-native:resources:ResourceGroup",
  uami: "azure-native:managedidentity:UserAssignedIdentity",
  plan: "azure-native:web:AppServicePlan",
  site: "azure-native:web:WebApp",
  scm: "azure-native:web:WebAppScmAllowed",
  ftp: "azure-native:web:WebAppFtpAllowed",
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  owner: "azuread:index/applicationOwner:ApplicationOwner",
  fic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  redirect: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  grant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  command: "command:local:Command",
  redis: "azure-native:redisenterprise:RedisEnterprise",
  redisDb: "azure-native:redisenterprise:Database",
  redisAccess: "azure-native:redisenterprise:AccessPolicyAssignment",
} as const;

/** One resource the program registered, with the inputs it sent and the options it was created with. */
export interface RegisteredResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
  id?: string;
  state: Record<string, any>;
}

/** Options seen by the stack transform, keyed by `type::name`. */
interface SeenOptions {
  parentUrn?: string;
  deleteBeforeReplace?: boolean;
  /** URNs of the resources named in `dependsOn` (resources only; Outputs of resources are not followed). */
  dependsOn?: string[];
}

export class AzureMocks implements pulumi.runtime.Mocks {
  readonly resources: RegisteredResource[] = [];
  readonly calls: { token: string; inputs: Record<string, any> }[] = [];
  readonly options = new Map<string, SeenOptions>();
  /**
   * What the engine is told each registration depends on, keyed by `type::name`: the URNs of the resources its input
   * Outputs come from plus its `dependsOn` (components expanded to their resources; the parent is not a dependency).
   */
  readonly dependencies = new Map<string, string[]>();
  /** What the azuread provider's `getClientConfig` returns; tests may change it before the program runs. */
  clientConfig = { tenantId: TENANT_ID, clientId: guidFrom("deployer-client"), objectId: DEPLOYER_OBJECT_ID };
  /** Tenant a managed identity reports; tests may change it to prove the cross-tenant check. */
  identityTenantId = TENANT_ID;
  /** What `getApplicationPublishedAppIds` returns (a few of the provider's entries); tests may change it. */
  publishedAppIds: Record<string, string> = {
    MicrosoftGraph: GRAPH_APP_ID,
    AzureActiveDirectoryGraph: "00000002-0000-0000-c000-000000000000",
    Office365ExchangeOnline: "00000002-0000-0ff1-ce00-000000000000",
  };
  /**
   * Microsoft Graph's service principal in the directory, as `getServicePrincipal` returns it. Its object ID and the
   * permission IDs are made up here (derived GUIDs, not Graph's real ones), so a test passing proves the program
   * used the looked-up values rather than pasted ones.
   */
  graphServicePrincipal = {
    objectId: guidFrom("graph:sp-object"),
    displayName: "Microsoft Graph",
    oauth2PermissionScopeIds: {
      "User.Read": guidFrom("graph:scope:User.Read"),
      "User.ReadBasic.All": guidFrom("graph:scope:User.ReadBasic.All"),
      "Mail.Read": guidFrom("graph:scope:Mail.Read"),
    } as Record<string, string>,
    appRoleIds: { "User.Read.All": guidFrom("graph:role:User.Read.All") } as Record<string, string>,
  };

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const { id, state } = this.compute(args);
    this.resources.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true, id, state });
    return { id, state };
  }

  call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
    this.calls.push({ token: args.token, inputs: args.inputs });
    switch (args.token) {
      case "azuread:index/getClientConfig:getClientConfig":
        return { ...this.clientConfig, id: this.clientConfig.tenantId };
      case "azuread:index/getApplicationPublishedAppIds:getApplicationPublishedAppIds":
        return { id: "appIds", result: { ...this.publishedAppIds } };
      case "azuread:index/getServicePrincipal:getServicePrincipal": {
        const clientId = args.inputs.clientId as string | undefined;
        if (clientId !== this.publishedAppIds.MicrosoftGraph) throw new Error(`no service principal with clientId ${clientId} in the mock directory`);
        return { ...this.graphServicePrincipal, id: this.graphServicePrincipal.objectId, clientId, applicationTenantId: "f8cdef31-a31e-4b4a-93e4-5f571e91255a" };
      }
      default:
        throw new Error(`unknown function ${args.token}`);
    }
  }

  /** Every registered resource of `type`. */
  ofType(type: string): RegisteredResource[] {
    return this.resources.filter((r) => r.type === type);
  }

  /** The single registered resource of `type`; throws when there is none or more than one. */
  one(type: string): RegisteredResource {
    const found = this.ofType(type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0]!;
  }

  private compute(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, any> } {
    const i = args.inputs;
    const rg = (i.resourceGroupName as string | undefined) ?? "rg";
    const arm = (provider: string, name: string) =>
      `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${rg}/providers/${provider}/${name}`;
    // Azure names resources the program leaves unnamed after the logical name plus a random suffix.
    const autoName = `${args.name}${createHash("sha256").update(args.name).digest("hex").slice(0, 7)}`;
    switch (args.type) {
      case "azure-native:resources:ResourceGroup": {
        const name = (i.resourceGroupName as string | undefined) ?? autoName;
        return { id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/${name}`, state: { ...i, name } };
      }
      case "azure-native:managedidentity:UserAssignedIdentity": {
        const name = (i.resourceName as string | undefined) ?? autoName;
        return {
          id: arm("Microsoft.ManagedIdentity/userAssignedIdentities", name),
          state: {
            ...i,
            name,
            clientId: guidFrom(`${args.name}:uami-client`),
            principalId: guidFrom(`${args.name}:uami-principal`),
            tenantId: this.identityTenantId,
          },
        };
      }
      case "azure-native:web:AppServicePlan": {
        const name = (i.name as string | undefined) ?? autoName;
        return { id: arm("Microsoft.Web/serverfarms", name), state: { ...i, name } };
      }
      case "azure-native:web:WebApp": {
        const name = (i.name as string | undefined) ?? autoName;
        const region = String(i.location ?? "westeurope").toLowerCase();
        // A secure unique default host name carries a hash and the region, so it can never be guessed from the name.
        const label = i.autoGeneratedDomainNameLabelScope
          ? `${name}-${createHash("sha256").update(name).digest("hex").slice(0, 16)}`
          : name;
        const suffix = i.autoGeneratedDomainNameLabelScope ? `${region}-01.azurewebsites.net` : "azurewebsites.net";
        const host = `${label}.${suffix}`;
        // The SCM (Kudu) host carries the same hash: `<label>.scm.<suffix>`, reported as the Repository host name.
        const scmHost = `${label}.scm.${suffix}`;
        return {
          id: arm("Microsoft.Web/sites", name),
          state: {
            ...i,
            name,
            defaultHostName: host,
            hostNames: [host],
            enabledHostNames: [host, scmHost],
            hostNameSslStates: [
              { name: host, hostType: "Standard", sslState: "Disabled" },
              { name: scmHost, hostType: "Repository", sslState: "Disabled" },
            ],
            state: "Running",
          },
        };
      }
      case "azure-native:web:WebAppScmAllowed":
      case "azure-native:web:WebAppFtpAllowed": {
        const kind = args.type.endsWith("ScmAllowed") ? "scm" : "ftp";
        return { id: arm("Microsoft.Web/sites", `${i.name}/basicPublishingCredentialsPolicies/${kind}`), state: { ...i } };
      }
      case "azure-native:redisenterprise:RedisEnterprise": {
        const name = (i.clusterName as string | undefined) ?? autoName;
        const region = String(i.location ?? "westeurope").toLowerCase();
        return { id: arm("Microsoft.Cache/redisEnterprise", name), state: { ...i, name, hostName: `${name}.${region}.redis.azure.net` } };
      }
      case "azure-native:redisenterprise:Database": {
        const name = (i.databaseName as string | undefined) ?? "default";
        return { id: arm("Microsoft.Cache/redisEnterprise", `${i.clusterName}/databases/${name}`), state: { port: 10000, ...i, name } };
      }
      case "azure-native:redisenterprise:AccessPolicyAssignment": {
        const name = (i.accessPolicyAssignmentName as string | undefined) ?? autoName;
        return { id: arm("Microsoft.Cache/redisEnterprise", `${i.clusterName}/databases/${i.databaseName}/accessPolicyAssignments/${name}`), state: { ...i, name } };
      }
      case "azuread:index/applicationRegistration:ApplicationRegistration": {
        const objectId = guidFrom(`${args.name}:app-object`);
        return {
          id: `/applications/${objectId}`,
          state: { ...i, objectId, clientId: guidFrom(`${args.name}:app-client`), publisherDomain: "contoso.onmicrosoft.com" },
        };
      }
      case "azuread:index/servicePrincipal:ServicePrincipal": {
        const objectId = guidFrom(`${args.name}:sp-object`);
        return { id: `/servicePrincipals/${objectId}`, state: { ...i, objectId, applicationTenantId: TENANT_ID } };
      }
      case "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential": {
        const credentialId = guidFrom(`${args.name}:fic`);
        const objectId = String(i.applicationId).replace("/applications/", "");
        return { id: `${objectId}/federatedIdentityCredential/${credentialId}`, state: { ...i, credentialId } };
      }
      case "azuread:index/applicationRedirectUris:ApplicationRedirectUris":
        return { id: `${i.applicationId}/redirectUris/${i.type}`, state: { ...i } };
      case "azuread:index/applicationApiAccess:ApplicationApiAccess":
        return { id: `${i.applicationId}/apiAccess/${i.apiClientId}`, state: { ...i } };
      case "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant":
        // Graph's oauth2PermissionGrant IDs are opaque base64url strings.
        return { id: `/oauth2PermissionGrants/${createHash("sha256").update(args.name).digest("base64url").slice(0, 43)}`, state: { ...i } };
      case "azuread:index/applicationOwner:ApplicationOwner":
        return { id: `${i.applicationId}/owners/${i.ownerObjectId}`, state: { ...i } };
      case "command:local:Command":
        // The command does not run under mocks; its outputs are empty.
        return { id: `${args.name}-id`, state: { ...i, stdout: "", stderr: "" } };
      default:
        // Component resources and anything else: echo the inputs.
        return { id: args.custom ? `${args.name}-id` : undefined, state: { ...i } };
    }
  }
}

/** Resolves an Output's value (there is no public `Output.promise()`); never assert inside an `apply` you do not await. */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((v) => (resolve(v), v)));
}

/** The project name of Pulumi.yaml: config keys are `<project>:<key>`. */
export const PROJECT = "secretless-entra-webapp";

/** The mocks that the registration hook below reports to: the last ones attached in this process. */
let recording: AzureMocks | undefined;

/**
 * Records each resource's options (parent, deleteBeforeReplace) on the way into the engine. The mock engine only sees
 * a resource's inputs; the options are read here, at the SDK's one registration entry point, which
 * `@pulumi/pulumi/resource.js` calls through its module object. Installed once per process.
 */
function hookRegistrations(): void {
  const runtimeResource = require("@pulumi/pulumi/runtime/resource") as {
    registerResource: (...args: any[]) => void;
    __secretlessHooked?: boolean;
  };
  if (runtimeResource.__secretlessHooked) return;
  const original = runtimeResource.registerResource;
  runtimeResource.registerResource = function (this: unknown, ...args: any[]) {
    const [, parent, type, name, , , , , opts] = args as [unknown, pulumi.Resource | undefined, string, string, unknown, unknown, unknown, unknown, pulumi.CustomResourceOptions];
    const mocks = recording;
    if (mocks) {
      const key = `${type}::${name}`;
      const seen: SeenOptions = { deleteBeforeReplace: opts?.deleteBeforeReplace };
      mocks.options.set(key, seen);
      parent?.urn.apply((urn) => (seen.parentUrn = urn));
      const dependsOn = opts?.dependsOn;
      if (dependsOn !== undefined) {
        seen.dependsOn = [];
        for (const dependency of Array.isArray(dependsOn) ? dependsOn : [dependsOn]) {
          if (pulumi.Resource.isInstance(dependency)) dependency.urn.apply((urn) => seen.dependsOn!.push(urn));
        }
      }
    }
    return original.apply(this, args);
  };
  runtimeResource.__secretlessHooked = true;
}

/**
 * Attaches the mocks to Pulumi's runtime (awaited, before the program is imported) and sets the stack configuration.
 * `config` keys without a namespace are put in the project's.
 */
export async function attachMocks(config: Record<string, string>, stack = "test"): Promise<AzureMocks> {
  const mocks = new AzureMocks();
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, false);
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [k.includes(":") ? k : `${PROJECT}:${k}`, v])),
  );
  hookRegistrations();
  recordDependencies(mocks);
  recording = mocks;
  return mocks;
}

/** Reads each registration's dependency URNs off the request the SDK sends the (mock) monitor. */
function recordDependencies(mocks: AzureMocks): void {
  type Request = { getType(): string; getName(): string; getDependenciesList(): string[] };
  const settings = require("@pulumi/pulumi/runtime/settings") as {
    getMonitor(): { registerResource(req: Request, callback: unknown): unknown };
  };
  const monitor = settings.getMonitor();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    mocks.dependencies.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
    return original(req, callback);
  };
}

/**
 * Runs `load` (which imports or builds the program) inside a root stack resource, as the CLI's language host does.
 * Resolves with what `load` returned once every registration has completed.
 */
export async function runProgram<T>(_mocks: AzureMocks, load: () => Promise<T>): Promise<T> {
  let loaded: T | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    loaded = await load();
    return loaded;
  });
  await settle();
  return loaded as T;
}

/**
 * Waits until every registration the program started has completed: resources fed by other resources' outputs (the
 * redirect URIs wait for the web app's host name) register late. Uses the same RPC barrier Pulumi's own `cmd/run`
 * awaits before it reports a program done (`runtime/settings.js` `waitForRPCs`, not part of the typed API).
 */
export async function settle(): Promise<void> {
  const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
  await settings.waitForRPCs();
}
