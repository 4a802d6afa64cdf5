/**
 * The app-settings contract shared by the infrastructure (which writes these settings onto the web app), the sample
 * app (which reads them at start-up) and the local emulator (which produces the same settings for a local run).
 *
 * Names follow Microsoft.Identity.Web's configuration schema as environment variables: `:` becomes `__` and list
 * items are numbered (`ClientCredentials__0__…`), see
 * https://learn.microsoft.com/entra/workload-id/workload-identity-federation-config-app-trust-managed-identity
 */
export const AzureAdSetting = {
  Instance: "AzureAd__Instance",
  TenantId: "AzureAd__TenantId",
  ClientId: "AzureAd__ClientId",
  CallbackPath: "AzureAd__CallbackPath",
  SourceType: "AzureAd__ClientCredentials__0__SourceType",
  ManagedIdentityClientId: "AzureAd__ClientCredentials__0__ManagedIdentityClientId",
  TokenExchangeUrl: "AzureAd__ClientCredentials__0__TokenExchangeUrl",
} as const;

/**
 * The downstream API the app calls as the signed-in user, in Microsoft.Identity.Web's `DownstreamApis` shape (an
 * ASP.NET app reads the same names): Microsoft Graph's base URL and the scopes its access token is asked for
 * (`Scopes__0`, `Scopes__1`, …). See
 * https://learn.microsoft.com/entra/identity-platform/scenario-web-app-call-api-app-configuration
 */
export const DownstreamApiSetting = {
  GraphBaseUrl: "DownstreamApis__MicrosoftGraph__BaseUrl",
  GraphScopes0: "DownstreamApis__MicrosoftGraph__Scopes__0",
} as const;

/** The delegated Microsoft Graph permission the app needs to read the signed-in user's profile (`GET /me`). */
export const GRAPH_USER_READ = "User.Read";

/**
 * The `DownstreamApis__MicrosoftGraph__…` settings: Graph's base URL of the cloud and the one scope the app asks for.
 * The scope is the short form (`User.Read`), which Entra resolves to Microsoft Graph (app ID
 * 00000003-0000-0000-c000-000000000000) and which Microsoft.Identity.Web's own samples use.
 */
export function graphSettings<T>(v: { baseUrl: T; scope?: T }): Record<string, T | string> {
  return {
    [DownstreamApiSetting.GraphBaseUrl]: v.baseUrl,
    [DownstreamApiSetting.GraphScopes0]: v.scope ?? GRAPH_USER_READ,
  };
}

/**
 * Where the app is reached: every absolute URL the app builds (redirect URI, post-logout redirect URI, the origin on
 * the home page) comes from these, never from a request header. See app/README.md.
 */
export const HostingSetting = {
  /** Set by App Service itself to the app's default host name (e.g. `myapp.azurewebsites.net`); https is implied. */
  WebsiteHostname: "WEBSITE_HOSTNAME",
  /**
   * Extra host names the app answers to (custom domains), `;`-separated and without ports, as ASP.NET's host filtering
   * reads `AllowedHosts`. Wildcards are refused: every host must be a real one.
   */
  AllowedHosts: "AllowedHosts",
  /** Outside App Service (a local run): the URL browsers open, e.g. `http://localhost:3000`. */
  PublicBaseUrl: "PUBLIC_BASE_URL",
  /**
   * Set by Azure Container Apps itself to the container app's name (built-in variables, "Apps":
   * https://learn.microsoft.com/azure/container-apps/environment-variables#built-in-environment-variables). Its
   * ingress is then the one proxy in front of the app.
   */
  ContainerAppName: "CONTAINER_APP_NAME",
} as const;

/**
 * Where the app keeps sessions and pending sign-ins when the stack scales out (`scaleOut: true`): Azure Managed Redis,
 * reached over TLS with the managed identity's Entra token as the password. Unset: one instance, in memory. None of
 * these is a secret: the password is fetched from the managed-identity endpoint and never stored.
 */
export const RedisSetting = {
  /** The Redis host name, e.g. `sessions-ab12.westeurope.redis.azure.net`. Setting it turns the Redis store on. */
  HostName: "Redis__HostName",
  /** Its TLS port; defaults to Azure Managed Redis's 10000. */
  Port: "Redis__Port",
  /** The managed identity's principal (object) ID: the Redis user its access policy assignment names. */
  UserName: "Redis__UserName",
} as const;

/** The only credential source this project supports: the managed identity's token is the client assertion. */
export const SIGNED_ASSERTION_FROM_MANAGED_IDENTITY = "SignedAssertionFromManagedIdentity";

/**
 * What the `AzureAd__…` settings say, before they are named: plain strings for a local run, Pulumi inputs in a stack.
 */
interface AzureAdValues<T> {
  instance: T;
  tenantId: T;
  clientId: T;
  callbackPath: T;
  managedIdentityClientId: T;
  tokenExchangeUrl: T;
}

/** The complete `AzureAd__…` settings map the app loads, with the managed identity's token as the only credential. */
export function azureAdSettings<T>(v: AzureAdValues<T>): Record<string, T | string> {
  return {
    [AzureAdSetting.Instance]: v.instance,
    [AzureAdSetting.TenantId]: v.tenantId,
    [AzureAdSetting.ClientId]: v.clientId,
    [AzureAdSetting.CallbackPath]: v.callbackPath,
    [AzureAdSetting.SourceType]: SIGNED_ASSERTION_FROM_MANAGED_IDENTITY,
    [AzureAdSetting.ManagedIdentityClientId]: v.managedIdentityClientId,
    [AzureAdSetting.TokenExchangeUrl]: v.tokenExchangeUrl,
  };
}

/** Microsoft.Identity.Web's default token-exchange audience (public cloud). */
export const DEFAULT_TOKEN_EXCHANGE_URL = "api://AzureADTokenExchange";

/** ASP.NET's default OpenID Connect callback path. */
export const DEFAULT_CALLBACK_PATH = "/signin-oidc";

// The app's own paths live with its route table, so the reserved list cannot drift from the routes it registers.
export { DEFAULT_FRONT_CHANNEL_LOGOUT_PATH, HEALTH_CHECK_PATH, RESERVED_APP_PATHS } from "./routes";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` has the 8-4-4-4-12 hex shape of an Entra/ARM GUID (any case): tenant, client and object IDs. */
export function isGuid(value: string): boolean {
  return GUID.test(value);
}
