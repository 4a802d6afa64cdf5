import * as pulumi from "@pulumi/pulumi";
import { computeAzureState } from "./azure-state";
import { DEPLOYER_OBJECT_ID, GRAPH_APP_ID, SUBSCRIPTION_ID, TENANT_ID, guidFrom } from "./ids";

export { GRAPH_APP_ID, SUBSCRIPTION_ID, TENANT_ID, guidFrom };

/**
 * An offline stand-in for the Pulumi engine and the Azure/azuread providers: the seam every infrastructure test and
 * `npm run plan` (a shipped command, hence not under test/) evaluate the real program through. Each resource gets what
 * its provider would compute, with realistic, **distinct** IDs (a managed identity's clientId ≠ its principalId, an
 * app's clientId ≠ its objectId), so a swapped ID fails a test instead of passing by coincidence.
 */

/** The type tokens of everything the stack registers, by short name. */
export const T = {
  rg: "azure-native:resources:ResourceGroup",
  uami: "azure-native:managedidentity:UserAssignedIdentity",
  plan: "azure-native:web:AppServicePlan",
  site: "azure-native:web:WebApp",
  scm: "azure-native:web:WebAppScmAllowed",
  ftp: "azure-native:web:WebAppFtpAllowed",
  slot: "azure-native:web:WebAppSlot",
  slotScm: "azure-native:web:WebAppScmAllowedSlot",
  slotFtp: "azure-native:web:WebAppFtpAllowedSlot",
  slotLogs: "azure-native:web:WebAppDiagnosticLogsConfigurationSlot",
  slotSettings: "azure-native:web:WebAppSlotConfigurationNames",
  app: "azuread:index/applicationRegistration:ApplicationRegistration",
  sp: "azuread:index/servicePrincipal:ServicePrincipal",
  owner: "azuread:index/applicationOwner:ApplicationOwner",
  fic: "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential",
  redirect: "azuread:index/applicationRedirectUris:ApplicationRedirectUris",
  apiAccess: "azuread:index/applicationApiAccess:ApplicationApiAccess",
  grant: "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
  appRole: "azuread:index/applicationAppRole:ApplicationAppRole",
  roleAssignment: "azuread:index/appRoleAssignment:AppRoleAssignment",
  command: "command:local:Command",
  redis: "azure-native:redisenterprise:RedisEnterprise",
  redisDb: "azure-native:redisenterprise:Database",
  redisAccess: "azure-native:redisenterprise:AccessPolicyAssignment",
  // Hosting on Container Apps.
  registry: "azure-native:containerregistry:Registry",
  roleAssignmentArm: "azure-native:authorization:RoleAssignment",
  environment: "azure-native:app:ManagedEnvironment",
  containerApp: "azure-native:app:ContainerApp",
  // Telemetry: the Log Analytics workspace and the diagnostic settings that send platform logs to it.
  workspace: "azure-native:operationalinsights:Workspace",
  diagnosticSetting: "azure-native:monitor:DiagnosticSetting",
  appInsights: "azure-native:applicationinsights:Component",
  azureRole: "azure-native:authorization:RoleAssignment",
} as const;

/** What `getApplication` returns of an existing registration (the fields the stack reads, and a few more). */
export interface ExistingApplication {
  clientId: string;
  objectId: string;
  displayName: string;
  signInAudience: string;
  webs: { redirectUris: string[] }[];
}

/** What `web.getWebApp` returns of an existing site (what ARM's GET reports; never its app settings). */
export interface ExistingWebApp {
  id: string;
  name: string;
  resourceGroup: string;
  kind: string;
  location: string;
  defaultHostName: string;
  sku: string;
  extendedLocation?: { name: string; type: string };
  identity?: { type: string; userAssignedIdentities?: Record<string, object> };
}

/** The registration the example adopt stack (Pulumi.adopt.yaml) adopts: it already has a redirect URI of its own. */
export const ADOPTED_APP: ExistingApplication = {
  clientId: guidFrom("contoso-orders:app-client"),
  objectId: guidFrom("contoso-orders:app-object"),
  displayName: "Contoso Orders",
  signInAudience: "AzureADMyOrg",
  webs: [{ redirectUris: ["https://orders.contoso.com/signin-oidc"] }],
};

/** The Linux site the example adopt stack adopts, in West Europe, wearing a system-assigned identity already. */
export const ADOPTED_SITE: ExistingWebApp = {
  id: `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/contoso-orders-rg/providers/Microsoft.Web/sites/contoso-orders`,
  name: "contoso-orders",
  resourceGroup: "contoso-orders-rg",
  kind: "app,linux",
  location: "West Europe",
  defaultHostName: "contoso-orders.azurewebsites.net",
  sku: "Basic",
  identity: { type: "SystemAssigned" },
};

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

  /**
   * Existing app registrations `getApplication` finds in the directory, by client ID, and existing web apps
   * `web.getWebApp` finds, by `group/name`: what a stack adopts (Pulumi.adopt.yaml). Tests may change them; one
   * not listed is not found, as Graph and ARM answer for another tenant's registration or a missing site.
   */
  existingApplications: Record<string, ExistingApplication> = { [ADOPTED_APP.clientId]: { ...ADOPTED_APP } };
  existingWebApps: Record<string, ExistingWebApp> = {
    [`${ADOPTED_SITE.resourceGroup}/${ADOPTED_SITE.name}`]: { ...ADOPTED_SITE },
  };

  newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
    const { id, state } = computeAzureState(args, this.identityTenantId);
    this.resources.push({
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      custom: args.custom ?? true,
      id,
      state,
    });
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
        if (clientId !== this.publishedAppIds.MicrosoftGraph)
          throw new Error(`no service principal with clientId ${clientId} in the mock directory`);
        return {
          ...this.graphServicePrincipal,
          id: this.graphServicePrincipal.objectId,
          clientId,
          applicationTenantId: "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
        };
      }
      case "azuread:index/getApplication:getApplication": {
        const app = this.existingApplications[String(args.inputs.clientId ?? "").toLowerCase()];
        if (!app) throw new Error(`Application not found: no application with client ID ${args.inputs.clientId}`);
        return { ...app, id: `/applications/${app.objectId}` };
      }
      case "azure-native:web:getWebApp": {
        const site = this.existingWebApps[`${args.inputs.resourceGroupName}/${args.inputs.name}`];
        if (!site) throw new Error(`ResourceNotFound: Microsoft.Web/sites/${args.inputs.name} was not found`);
        return { ...site };
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
}

/**
 * Resolves an Output's value (there is no public `Output.promise()`); never assert inside an `apply` you do not await.
 */
export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) =>
    output.apply((v) => {
      resolve(v);
      return v;
    }),
  );
}

/** The project name of Pulumi.yaml: config keys are `<project>:<key>`. */
export const PROJECT = "secretless-entra-webapp";

/**
 * Records each resource's options (parent, deleteBeforeReplace) on the way into the engine. The mock engine only sees
 * a resource's inputs; the options are read here, at the SDK's one registration entry point, which
 * `@pulumi/pulumi/resource.js` calls through its module object. Installed once per process, and reporting to the
 * mocks attached last, which it reads off the SDK's module: a test runner that loads this file afresh for each test
 * file while keeping @pulumi/pulumi loaded (vitest without isolation) must not leave the hook reporting to old mocks.
 */
function hookRegistrations(mocks: AzureMocks): void {
  const runtimeResource = require("@pulumi/pulumi/runtime/resource") as {
    registerResource: (...args: any[]) => void;
    __secretlessHooked?: boolean;
    __secretlessRecording?: { options: AzureMocks["options"] };
  };
  runtimeResource.__secretlessRecording = mocks;
  if (runtimeResource.__secretlessHooked) return;
  const original = runtimeResource.registerResource;
  runtimeResource.registerResource = function (this: unknown, ...args: any[]) {
    const [, parent, type, name, , , , , opts] = args as [
      unknown,
      pulumi.Resource | undefined,
      string,
      string,
      unknown,
      unknown,
      unknown,
      unknown,
      pulumi.CustomResourceOptions,
    ];
    const mocks = runtimeResource.__secretlessRecording;
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
  hookRegistrations(mocks);
  recordDependencies(mocks);
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
