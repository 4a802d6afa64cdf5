import { DEFAULT_TOKEN_EXCHANGE_URL } from "./settings";

/**
 * The Azure clouds this project can target, and the two values of each that the secretless chain depends on.
 *
 * - `instance` is the Entra login host. The federated credential's issuer is `{instance}{tenantId}/v2.0`, and the app's
 *   `AzureAd__Instance` setting is the same value, so the two can never disagree.
 * - `tokenExchangeAudience` is the audience a managed-identity token must carry to be accepted as a client assertion:
 *   the FIC's only audience, and the app's `…__TokenExchangeUrl` setting.
 *
 * Source: https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 * (notes/entra-fic.md §1).
 */
interface CloudEndpoints {
  /** Entra login instance, with a trailing slash, as Microsoft.Identity.Web expects it. */
  readonly instance: string;
  /** Audience of the managed-identity token that the FIC accepts. */
  readonly tokenExchangeAudience: string;
  /**
   * The `azuread:environment` values that select this cloud (the provider's default, `global`, is the public cloud).
   */
  readonly azureadEnvironments: readonly string[];
  /** The `azure-native:environment` values that select this cloud (the provider's default is `public`). */
  readonly armEnvironments: readonly string[];
  /**
   * Entra scope of an Azure Resource Manager token in this cloud. The deploy step asks for it: App Service's SCM site
   * (Kudu) accepts ARM tokens once basic-auth publishing is off.
   */
  readonly resourceManagerScope: string;
  /**
   * Entra scope of an App Service token in this cloud: the audience the deploy step asks for first when it calls the
   * site's SCM (Kudu) host. Microsoft's own clients moved Kudu calls from the ARM audience to this one and call ARM
   * tokens for Kudu deprecated (microsoft/vscode-azuretools PR 2258 `appServiceEnvironment.ts`: public
   * `https://appservice.azure.com` (app ID abfa0a7c-a6b6-4736-8310-5855508787cd),
   * Fairfax `https://appservice.azure.us`, AzureChinaCloud `https://appservice.azure.cn`; Azure/azure-cli PR 31988 "`az
   * webapp deploy`: Change
   * get_bearer_token to use App Service Audience"). The deploy step falls back to {@link resourceManagerScope} once
   * when Kudu answers 401.
   */
  readonly appServiceScope: string;
  /**
   * Entra scope of an app-only Microsoft Graph token in this cloud. The app's `/readyz` asks for it with the managed
   * identity's token as its credential: Entra issues it (with no permissions) only when the FIC matches.
   */
  readonly graphScope: string;
  /**
   * Microsoft Graph's v1.0 endpoint in this cloud: the default of the app's `DownstreamApis__MicrosoftGraph__BaseUrl`,
   * where it reads the signed-in user's profile (`GET {graphBaseUrl}/me`). Source:
   * https://learn.microsoft.com/graph/deployments#microsoft-graph-and-graph-explorer-service-root-endpoints
   */
  readonly graphBaseUrl: string;
  /**
   * Entra scope of a token for Azure Managed Redis (Microsoft Entra authentication: the token is the password, the
   * identity's object ID the user name). Microsoft documents `https://redis.azure.com/.default` for the public cloud
   * and
   * Azure China (docs.azure.cn/redis/entra-for-authentication), and the service's app ID
   * `acca5fbb-b7e4-4009-81f1-37e38fd66d78`, which Microsoft.Azure.StackExchangeRedis asks for in every cloud; that app
   * ID
   * is used where no URI is documented.
   */
  readonly redisScope: string;
}

export const clouds = {
  public: {
    instance: "https://login.microsoftonline.com/",
    tokenExchangeAudience: DEFAULT_TOKEN_EXCHANGE_URL,
    azureadEnvironments: ["global", "public"],
    armEnvironments: ["public"],
    resourceManagerScope: "https://management.azure.com/.default",
    appServiceScope: "https://appservice.azure.com/.default",
    graphScope: "https://graph.microsoft.com/.default",
    graphBaseUrl: "https://graph.microsoft.com/v1.0",
    redisScope: "https://redis.azure.com/.default",
  },
  usgov: {
    instance: "https://login.microsoftonline.us/",
    tokenExchangeAudience: "api://AzureADTokenExchangeUSGov",
    azureadEnvironments: ["usgovernment", "usgovernmentl4", "usgovernmentl5", "dod"],
    armEnvironments: ["usgovernment"],
    resourceManagerScope: "https://management.usgovcloudapi.net/.default",
    appServiceScope: "https://appservice.azure.us/.default",
    graphScope: "https://graph.microsoft.us/.default",
    graphBaseUrl: "https://graph.microsoft.us/v1.0",
    redisScope: "acca5fbb-b7e4-4009-81f1-37e38fd66d78/.default",
  },
  china: {
    instance: "https://login.chinacloudapi.cn/",
    tokenExchangeAudience: "api://AzureADTokenExchangeChina",
    azureadEnvironments: ["china"],
    armEnvironments: ["china"],
    resourceManagerScope: "https://management.chinacloudapi.cn/.default",
    appServiceScope: "https://appservice.azure.cn/.default",
    graphScope: "https://microsoftgraph.chinacloudapi.cn/.default",
    graphBaseUrl: "https://microsoftgraph.chinacloudapi.cn/v1.0",
    redisScope: "https://redis.azure.com/.default",
  },
} as const satisfies Record<string, CloudEndpoints>;

/** The name of a supported cloud: `public`, `usgov` or `china`. */
export type CloudName = keyof typeof clouds;

export const cloudNames = Object.keys(clouds) as CloudName[];

/** The cloud a stack or component targets when none is named. */
export const DEFAULT_CLOUD: CloudName = "public";

export function isCloudName(value: string): value is CloudName {
  return Object.hasOwn(clouds, value);
}

/** The issuer a FIC must name to trust managed-identity tokens of `tenantId` in `cloud`. */
export function federatedIssuer(cloud: CloudName, tenantId: string): string {
  return `${clouds[cloud].instance}${tenantId}/v2.0`;
}

/**
 * The Microsoft Graph `.default` scope of the cloud whose Entra instance is `instance` (compared by host). Any other
 * instance (the local emulator, which accepts any `<resource>/.default`) gets the public cloud's.
 */
export function graphScopeForInstance(instance: string): string {
  return clouds[cloudOfInstance(instance)].graphScope;
}

/**
 * Microsoft Graph's v1.0 endpoint in the cloud whose Entra instance is `instance` (compared by host); the public
 * cloud's for any other instance. The app's default for `DownstreamApis__MicrosoftGraph__BaseUrl`.
 */
export function graphBaseUrlForInstance(instance: string): string {
  return clouds[cloudOfInstance(instance)].graphBaseUrl;
}

/**
 * The Azure Managed Redis `.default` scope of the cloud whose Entra instance is `instance` (as {@link
 * graphScopeForInstance}).
 */
export function redisScopeForInstance(instance: string): string {
  return clouds[cloudOfInstance(instance)].redisScope;
}

/**
 * The App Service `.default` scope of the cloud whose Azure Resource Manager scope is `resourceManagerScope`, or
 * undefined for a scope of no known cloud (then the deploy step asks for the ARM scope only).
 */
export function appServiceScopeForResourceManagerScope(resourceManagerScope: string): string | undefined {
  const scope = resourceManagerScope.toLowerCase();
  const name = cloudNames.find((n) => clouds[n].resourceManagerScope === scope);
  return name ? clouds[name].appServiceScope : undefined;
}

/** The cloud whose Entra instance has `instance`'s host; the public cloud for any other (the local emulator). */
function cloudOfInstance(instance: string): CloudName {
  const host = new URL(instance).host.toLowerCase();
  return cloudNames.find((name) => new URL(clouds[name].instance).host === host) ?? DEFAULT_CLOUD;
}
