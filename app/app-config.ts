import { graphBaseUrlForInstance } from "../contract/clouds";
import { callbackPathProblem, graphBaseUrlProblem, graphScopeProblem } from "../contract/rules";
import {
  AzureAdSetting,
  DownstreamApiSetting,
  GRAPH_USER_READ,
  HostingSetting,
  DEFAULT_CALLBACK_PATH,
  DEFAULT_TOKEN_EXCHANGE_URL,
  SIGNED_ASSERTION_FROM_MANAGED_IDENTITY,
  isGuid,
} from "../contract/settings";
import { IDENTITY_ENDPOINT_ANY_ORIGIN, parseUrl, readIdentityEndpoint, readPublicOrigins, type Env } from "./hosting";
import type { RedisTarget } from "./stores/redis-connection";
import { readSettings, settingKey, type Setting, type Settings } from "./env-settings";
import { readSessionSettings, type SessionBoundSettings } from "./sessions/limits";
import { readRedisTarget } from "./stores/redis-settings";
import { readTelemetrySettings, type TelemetrySettings } from "./telemetry/telemetry-settings";
import { readEasyAuthMode, type EasyAuthMode } from "./auth/easy-auth";

/** The app's settings, read once from the environment at start-up and validated (see {@link loadConfig}). */
export interface AppConfig {
  /** Entra instance (cloud) URL, always https and ending in "/", e.g. "https://login.microsoftonline.com/". */
  readonly instance: string;
  /** Directory (tenant) ID: a GUID, or a verified domain name such as "contoso.onmicrosoft.com". */
  readonly tenantId: string;
  /** Application (client) ID of the app registration. */
  readonly clientId: string;
  /** Path Entra posts the authorization response to. Defaults to "/signin-oidc". */
  readonly callbackPath: string;
  /**
   * Client ID of the user-assigned managed identity whose token is the client assertion ("" when the credential list
   * has no managed-identity entry).
   */
  readonly managedIdentityClientId: string;
  /** The ordered credential list (`AzureAd__ClientCredentials__N__…`): a token request uses the first that works. */
  readonly clientCredentials: readonly AppClientCredential[];
  /**
   * Resource the managed-identity token is requested for; the FIC's audience. Defaults to "api://AzureADTokenExchange".
   */
  readonly tokenExchangeUrl: string;
  /** TCP port the server listens on. Defaults to 8080. */
  readonly port: number;
  /** `${instance}${tenantId}`: msal-node's authority and the base of every Entra endpoint. */
  readonly authority: string;
  /**
   * App Service's managed-identity endpoint (`IDENTITY_ENDPOINT`), checked at start-up: plain http on a loopback or
   * link-local address unless {@link IDENTITY_ENDPOINT_ANY_ORIGIN} is "true". Undefined when the platform set none.
   */
  readonly identityEndpoint: string | undefined;
  /**
   * The origins browsers reach the app at, first the primary one: on App Service `https://${WEBSITE_HOSTNAME}`, else
   * PUBLIC_BASE_URL; then one per AllowedHosts entry. Every absolute URL the app builds is one of these, chosen by the
   * request's host; a request for any other host is refused.
   */
  readonly publicOrigins: readonly string[];
  /**
   * True on App Service (WEBSITE_HOSTNAME is set) or Azure Container Apps (CONTAINER_APP_NAME is set): the platform's
   * front end is the one proxy in front of the app, and the X-Forwarded-For entry it appends is the client's address.
   */
  readonly behindPlatformFrontEnd: boolean;
  /** Microsoft Graph, which the app calls as the signed-in user (`DownstreamApis__MicrosoftGraph__…`). */
  readonly graph: GraphConfig;
  /** The shared Redis for sessions (with their token caches) and pending sign-ins (`Redis__…`); undefined: memory. */
  readonly redis: RedisTarget | undefined;
  /**
   * `Sessions__MaxSessions` and `Sessions__MaxPerUser` when set; the rest of the session limits take their defaults.
   */
  readonly sessions: SessionBoundSettings;
  /**
   * Easy Auth mode (`SignIn__AuthMode=easyAuth`, vouched for by App Service's `WEBSITE_AUTH_ENABLED` or the local
   * stand-in): the platform signs users in and the app reads its identity headers (app/auth/easy-auth.ts). Undefined:
   * the app signs users in itself and drops those headers.
   */
  readonly easyAuth?: EasyAuthMode | undefined;
  /**
   * Telemetry to Application Insights (`APPLICATIONINSIGHTS_CONNECTION_STRING`, sent as the managed identity named by
   * `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`); undefined: telemetry is off (app/telemetry/).
   */
  readonly telemetry?: TelemetrySettings | undefined;
}

/** Where Microsoft Graph is and which delegated scopes its access token is asked for. */
export interface GraphConfig {
  /**
   * `DownstreamApis__MicrosoftGraph__BaseUrl` without a trailing "/". Defaults to the instance's cloud's v1.0 endpoint.
   */
  readonly baseUrl: string;
  /** `DownstreamApis__MicrosoftGraph__Scopes__0…N`, in order. Defaults to `["User.Read"]`. */
  readonly scopes: readonly string[];
}

/** Thrown by {@link loadConfig}; `problems` holds one line per bad setting, each naming the key and the fix. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid app settings (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n- ` +
        `${problems.join("\n- ")}`,
    );
    this.name = "ConfigError";
  }
}

export type { Env };

// A DNS name with at least one dot, e.g. contoso.onmicrosoft.com or login.contoso.com.
const DOMAIN = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const MULTI_TENANT = new Set(["common", "organizations", "consumers"]);
const DEFAULT_PORT = 8080;

/**
 * Reads the app's settings from environment variables named like Microsoft.Identity.Web's configuration
 * (see contract/settings.ts), following ASP.NET's environment-variable conventions: `__` and `:` are the same
 * separator, names are case-insensitive, and `ClientCredentials__N__…` is item N of a list, tried in index order
 * (see {@link readCredentials}).
 *
 * Every problem is collected and thrown together as one {@link ConfigError}.
 */
export function loadConfig(env: Env): AppConfig {
  const problems: string[] = [];
  const settings = readSettings(env, problems);
  const get = (name: string): string | undefined => settings.get(settingKey(name))?.value;
  const nameOf = (name: string): string => settings.get(settingKey(name))?.name ?? name;
  const report = (name: string, problem: string | undefined) => problem && problems.push(`${nameOf(name)} ${problem}`);

  const instance = readInstance(get(AzureAdSetting.Instance));
  report(AzureAdSetting.Instance, instance.problem);
  const tenantId = get(AzureAdSetting.TenantId) ?? "";
  report(AzureAdSetting.TenantId, tenantIdProblem(tenantId));
  const clientId = get(AzureAdSetting.ClientId) ?? "";
  report(AzureAdSetting.ClientId, clientIdProblem(clientId));
  const callbackPath = get(AzureAdSetting.CallbackPath) || DEFAULT_CALLBACK_PATH;
  const callbackProblem = callbackPathProblem(callbackPath);
  report(AzureAdSetting.CallbackPath, callbackProblem && `is invalid: ${callbackProblem}`);
  if (get("AzureAd__ClientSecret") !== undefined) {
    report(
      "AzureAd__ClientSecret",
      "is set, but this app never uses a client secret: remove it (the " +
        "managed identity's token is the credential).",
    );
  }
  const credential = readCredentials(settings, problems);
  const port = readPort(env.PORT);
  if (port.problem) problems.push(`PORT ${port.problem}`);
  const identityEndpoint = readIdentityEndpoint(env, problems);
  const hosting = readPublicOrigins(env, problems);
  const graph = readGraph(settings, instance.value, problems);
  const redis = readRedisTarget(settings, instance.value, problems);
  const sessions = readSessionSettings(settings, problems);
  const easyAuth = readEasyAuthMode(env, problems);
  const telemetry = readTelemetrySettings(env, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    instance: instance.value,
    tenantId,
    clientId,
    callbackPath,
    managedIdentityClientId: credential.managedIdentityClientId,
    tokenExchangeUrl: credential.tokenExchangeUrl,
    clientCredentials: credential.clientCredentials,
    port: port.value,
    authority: `${instance.value}${tenantId}`,
    identityEndpoint,
    publicOrigins: hosting.origins,
    behindPlatformFrontEnd: hosting.onAppService || !!env[HostingSetting.ContainerAppName]?.trim(),
    graph,
    redis,
    sessions,
    easyAuth,
    telemetry,
  };
}

/**
 * `DownstreamApis__MicrosoftGraph__BaseUrl` and `…__Scopes__N`, as Microsoft.Identity.Web binds them: unset, the base
 * URL is the cloud's Graph (by the instance's host) and the scope `User.Read`.
 */
function readGraph(settings: Settings, instance: string, problems: string[]): GraphConfig {
  const baseUrlSetting = settings.get(settingKey(DownstreamApiSetting.GraphBaseUrl));
  const rawBaseUrl = baseUrlSetting?.value || (instance ? graphBaseUrlForInstance(instance) : "");
  const baseProblem = rawBaseUrl ? graphBaseUrlProblem(rawBaseUrl) : undefined;
  if (baseProblem) problems.push(`${baseUrlSetting?.name ?? DownstreamApiSetting.GraphBaseUrl} ${baseProblem}`);

  const prefix = "downstreamapis:microsoftgraph:";
  const scopes = new Map<number, Setting>();
  for (const [k, setting] of settings) {
    if (!k.startsWith(prefix) || k === settingKey(DownstreamApiSetting.GraphBaseUrl)) continue;
    const match = /^scopes:(\d+)$/.exec(k.slice(prefix.length));
    if (!match) {
      problems.push(
        `${setting.name} is not a setting this app reads: use ` +
          `${DownstreamApiSetting.GraphBaseUrl} or DownstreamApis__MicrosoftGraph__Scopes__<number>.`,
      );
      continue;
    }
    const problem = graphScopeProblem(setting.value);
    if (problem) problems.push(`${setting.name} ${problem}`);
    else scopes.set(Number(match[1]), setting);
  }
  const ordered = [...scopes.entries()].sort(([a], [b]) => a - b).map(([, s]) => s.value);
  return { baseUrl: rawBaseUrl.replace(/\/+$/, ""), scopes: ordered.length > 0 ? ordered : [GRAPH_USER_READ] };
}

/**
 * The Entra instance: any https URL (public cloud, sovereign clouds, the local emulator); "/" appended when missing.
 */
function readInstance(raw: string | undefined): { value: string; problem?: string } {
  if (!raw)
    return {
      value: "",
      problem: "is missing: set it to the Entra instance URL, e.g. https://login.microsoftonline.com/.",
    };
  const url = parseUrl(raw);
  if (!url)
    return { value: "", problem: `is not a URL ("${raw}"): set it to e.g. https://login.microsoftonline.com/.` };
  if (url.protocol !== "https:") {
    return { value: "", problem: `must use https ("${raw}"): Entra and msal-node only accept https authorities.` };
  }
  if (url.search || url.hash || url.username || url.password) {
    return {
      value: "",
      problem:
        `must not carry a query, fragment or credentials ("${raw}"): use just the ` +
        `origin, e.g. https://login.microsoftonline.com/.`,
    };
  }
  return { value: url.href.endsWith("/") ? url.href : `${url.href}/` };
}

function tenantIdProblem(tenantId: string): string | undefined {
  if (!tenantId) return "is missing: set it to the directory (tenant) ID GUID of the app registration.";
  if (MULTI_TENANT.has(tenantId.toLowerCase())) {
    return (
      `is "${tenantId}": this app is single-tenant; set the directory ` +
      `(tenant) ID GUID or its verified domain name.`
    );
  }
  if (!isGuid(tenantId) && !DOMAIN.test(tenantId)) {
    return (
      `is "${tenantId}": set the directory (tenant) ID GUID (or a verified ` +
      `domain name such as contoso.onmicrosoft.com).`
    );
  }
  return undefined;
}

function clientIdProblem(clientId: string): string | undefined {
  if (!clientId) return "is missing: set it to the application (client) ID GUID of the app registration.";
  if (!isGuid(clientId))
    return `is "${clientId}", not a GUID: set the application (client) ID of the app registration.`;
  return undefined;
}

function readPort(raw: string | undefined): { value: number; problem?: string } {
  if (raw === undefined || raw === "") return { value: DEFAULT_PORT };
  const port = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
  if (port >= 1 && port <= 65535) return { value: port };
  return {
    value: DEFAULT_PORT,
    problem: `is "${raw}": set a whole number from 1 to 65535, or leave it unset for ${DEFAULT_PORT}.`,
  };
}

/** One entry of the ordered credential list, as the app uses it. The secret is a function: it never serializes. */
export type AppClientCredential =
  | {
      /** N of `AzureAd__ClientCredentials__N__…`: what `/readyz` reports, with the source type. */
      readonly index: number;
      readonly sourceType: typeof SIGNED_ASSERTION_FROM_MANAGED_IDENTITY;
    }
  | {
      readonly index: number;
      readonly sourceType: typeof CLIENT_SECRET_SOURCE;
      /** The client secret, read from the environment; never logged, printed or sent anywhere but Entra. */
      readonly secret: () => string;
    };

/** Microsoft.Identity.Web's `CredentialSource.ClientSecret`. */
export const CLIENT_SECRET_SOURCE = "ClientSecret";

/** The sources this app can use, and the numbers .NET's enum binder also accepts for them. */
const SOURCE_TYPES: ReadonlyMap<string, AppClientCredential["sourceType"]> = new Map([
  [SIGNED_ASSERTION_FROM_MANAGED_IDENTITY.toLowerCase(), SIGNED_ASSERTION_FROM_MANAGED_IDENTITY],
  ["7", SIGNED_ASSERTION_FROM_MANAGED_IDENTITY],
  [CLIENT_SECRET_SOURCE.toLowerCase(), CLIENT_SECRET_SOURCE],
  ["6", CLIENT_SECRET_SOURCE],
] as const);

/**
 * Reads the whole `AzureAd__ClientCredentials__N__…` list in index order, as Microsoft.Identity.Web does: it uses the
 * first credential that works and, when Entra rejects one, the next ("Specify multiple credentials with automatic
 * fallback", https://learn.microsoft.com/entra/msidweb/authentication/credentials-overview). This app supports
 * `SignedAssertionFromManagedIdentity` (one user-assigned identity) and `ClientSecret`; any other source is refused
 * by name, so a list never silently loses an entry. The managed identity's client ID and audience are those of the
 * list's managed-identity entry ("" and the default audience when the list has none, e.g. before a migration).
 */
function readCredentials(
  settings: Settings,
  problems: string[],
): { managedIdentityClientId: string; tokenExchangeUrl: string; clientCredentials: AppClientCredential[] } {
  const prefix = "azuread:clientcredentials:";
  const items = new Map<number, Map<string, Setting>>();
  for (const [k, setting] of settings) {
    if (!k.startsWith(prefix)) continue;
    const [index, property, ...rest] = k.slice(prefix.length).split(":");
    if (!index || !/^\d+$/.test(index) || !property || rest.length > 0) {
      problems.push(
        `${setting.name} is not a credential setting: use ` +
          `AzureAd__ClientCredentials__<number>__<Property>, e.g. ` +
          `${AzureAdSetting.SourceType}.`,
      );
      continue;
    }
    const item = items.get(Number(index)) ?? new Map<string, Setting>();
    item.set(property, setting);
    items.set(Number(index), item);
  }
  const result = {
    managedIdentityClientId: "",
    tokenExchangeUrl: DEFAULT_TOKEN_EXCHANGE_URL,
    clientCredentials: [] as AppClientCredential[],
  };
  if (items.size === 0) {
    problems.push(
      `${AzureAdSetting.SourceType} is missing: set it to ${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY} ` +
        `(with ${AzureAdSetting.ManagedIdentityClientId}).`,
    );
    return result;
  }

  let managedIdentityIndex: number | undefined;
  for (const [index, item] of [...items.entries()].sort(([a], [b]) => a - b)) {
    const at = (property: string): string => `AzureAd__ClientCredentials__${index}__${property}`;
    const sourceSetting = item.get("sourcetype");
    // .NET binds the enum by name, case-insensitively, or by its number.
    const sourceType = SOURCE_TYPES.get((sourceSetting?.value ?? "").toLowerCase());
    if (!sourceType) {
      problems.push(
        sourceSetting
          ? `${sourceSetting.name} is "${sourceSetting.value}", a source this app does not support: set it to ` +
              `${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY} or ${CLIENT_SECRET_SOURCE} (no certificates), or remove ` +
              `credential ${index}.`
          : `${at("SourceType")} is missing: set it to ${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY} (with ` +
              `${at("ManagedIdentityClientId")}) or ${CLIENT_SECRET_SOURCE}.`,
      );
      continue;
    }
    if (sourceType === CLIENT_SECRET_SOURCE) {
      const secret = item.get("clientsecret");
      if (!secret?.value) {
        problems.push(`${at("ClientSecret")} is missing or empty: set it, or remove the ClientSecret entry.`);
        continue;
      }
      const value = secret.value;
      result.clientCredentials.push({ index, sourceType, secret: () => value });
      continue;
    }
    if (managedIdentityIndex !== undefined) {
      problems.push(
        `${at("SourceType")} is a second ${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY} entry (the first is index ` +
          `${managedIdentityIndex}): this app signs in with one user-assigned identity; remove one of them.`,
      );
      continue;
    }
    managedIdentityIndex = index;
    result.clientCredentials.push({ index, sourceType });
    const managedIdentityClientId = item.get("managedidentityclientid")?.value ?? "";
    if (!managedIdentityClientId) {
      problems.push(
        `${at("ManagedIdentityClientId")} is missing: set it to the client ID of the user-assigned managed ` +
          `identity (only user-assigned identities can be an app's credential).`,
      );
    } else if (!isGuid(managedIdentityClientId)) {
      problems.push(
        `${item.get("managedidentityclientid")?.name} is "${managedIdentityClientId}", not a GUID: ` +
          `set the client ID of the user-assigned managed identity.`,
      );
    }
    const tokenExchangeUrl = item.get("tokenexchangeurl")?.value || DEFAULT_TOKEN_EXCHANGE_URL;
    const parsed = parseUrl(tokenExchangeUrl);
    if (!parsed || !/^(api|https):$/.test(parsed.protocol)) {
      problems.push(
        `${item.get("tokenexchangeurl")?.name ?? at("TokenExchangeUrl")} is "${tokenExchangeUrl}": set the ` +
          `federated credential's audience, e.g. ${DEFAULT_TOKEN_EXCHANGE_URL}, or leave it unset.`,
      );
    }
    Object.assign(result, { managedIdentityClientId, tokenExchangeUrl });
  }
  return result;
}
