import {
  DEFAULT_READINESS_TIMEOUT_MINUTES,
  type PlanSku,
  READINESS_TIMEOUT_MINUTES,
  nodeVersions,
  planSkus,
  redisSkus,
  signInAudiences,
} from "./catalogue";
import { cloudNames, isCloudName } from "./clouds";
import { RESERVED_APP_PATHS, reservedRouteFor } from "./routes";
import { DEFAULT_CALLBACK_PATH, isGuid } from "./settings";

/**
 * Every rule a setting must pass, written once and applied by each layer that checks it: the stack parser
 * (components/stack-config.ts), the bootstrap's parser (bootstrap/bootstrap-config.ts), the components' argument checks
 * and the sample
 * app's start-up config (app/app-config.ts). The GitHub names and subjects are in github.ts beside this file.
 *
 * A rule returns undefined when the value is valid, or the problem: the value, what is wrong and the fix, but not the
 * key, which each layer names in its own words (`callbackPath`, `AzureAd__CallbackPath`, …).
 */

const WEB_APP_NAME = /^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,58}[a-zA-Z0-9])?$/;
const LOCATION = /^[a-z][a-z0-9]*$/;
// Resource group names: 1-90 of letters, digits, underscores, hyphens, periods and parentheses; no trailing period.
const RESOURCE_GROUP = /^[-\w.()]{0,89}[-\w()]$/u;
const PLAN_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([-\w.()]{1,90})\/providers\/Microsoft\.Web\/serverfarms\/([^/]+)$/i;
// One path segment: RFC 3986's unreserved characters. No "%" (an encoded "." or "/" would be decoded differently by
// browsers, proxies and the router), no ":" or "*" (route parameters and wildcards to the app's router).
const SEGMENT = /^[A-Za-z0-9._~-]+$/;

/** The App Service app (site) name: 2-60 letters, digits or hyphens, starting and ending with a letter or digit. */
export function webAppNameProblem(name: string): string | undefined {
  if (name.length < 2 || name.length > 60) {
    return `"${name}" is ${name.length} characters long; use 2-60 letters, digits or hyphens.`;
  }
  if (!WEB_APP_NAME.test(name)) {
    return `"${name}" may contain only letters, digits and hyphens, and must start and end with a letter or digit.`;
  }
  return undefined;
}

/** An Azure region's programmatic name, e.g. `westeurope`. */
export function locationProblem(location: string): string | undefined {
  return LOCATION.test(location)
    ? undefined
    : `"${location}" is not an Azure region name; use the lower-case name from \`az ` +
        `account list-locations -o table\`, e.g. westeurope.`;
}

/** An existing resource group's name. */
export function resourceGroupNameProblem(name: string): string | undefined {
  return RESOURCE_GROUP.test(name)
    ? undefined
    : `"${name}" is not a valid resource group name; use 1-90 letters, digits, "_", "-", ".", "(" or ` +
        `")", not ending in "." — or unset it to create a new group.`;
}

/** An existing App Service plan's ARM resource ID. */
export function planIdProblem(id: string): string | undefined {
  const match = PLAN_ID.exec(id);
  if (match && isGuid(match[1] ?? "")) return undefined;
  return (
    `"${id}" is not an App Service plan resource ID; expected ` +
    `/subscriptions/<subscription GUID>/resourceGroups/<group>/providers/Microsoft.Web/serverfarms/<plan> ` +
    "(az appservice plan show -g <group> -n <plan> --query id -o tsv)."
  );
}

/** The app registration's display name. */
export function displayNameProblem(name: string): string | undefined {
  return name.length > 120 ? `is ${name.length} characters long; Entra allows at most 120.` : undefined;
}

/** A supported cloud name, matched exactly: `public`, `usgov` or `china`. */
export function cloudProblem(cloud: string): string | undefined {
  return isCloudName(cloud) ? undefined : `"${cloud}" is not a supported cloud; use one of ${cloudNames.join(", ")}.`;
}

/** An app registration sign-in audience, matched exactly as Graph spells it. */
export function signInAudienceProblem(audience: string): string | undefined {
  return (signInAudiences as readonly string[]).includes(audience)
    ? undefined
    : `"${audience}" is not a sign-in audience; use one of ` +
        `${signInAudiences.join(", ")} (AzureADMyOrg is single tenant).`;
}

/** The SKU `value` names, in any letter case, in ARM's spelling; undefined when it names none. */
export function findPlanSku(value: string): PlanSku | undefined {
  return (Object.keys(planSkus) as PlanSku[]).find((sku) => sku.toLowerCase() === value.toLowerCase());
}

/** A Linux App Service plan SKU this project knows, in any letter case (`p1v3` is `P1v3`). */
export function planSkuProblem(value: string): string | undefined {
  return findPlanSku(value)
    ? undefined
    : `"${value}" is not a known Linux App Service plan SKU; use one of ${Object.keys(planSkus).join(", ")}.`;
}

/** A Node.js major App Service offers on Linux, as a number or a string of digits. */
export function nodeVersionProblem(value: number | string): string | undefined {
  const ok = /^\d+$/.test(String(value)) && (nodeVersions as readonly number[]).includes(Number(value));
  return ok ? undefined : `"${value}" is not a supported Node.js runtime; use ${nodeVersions.join(" or ")}.`;
}

/** The readiness wait's bound: whole minutes from 1 to 120, as a number or a string of digits. */
export function readinessTimeoutProblem(value: number | string): string | undefined {
  const { min, max } = READINESS_TIMEOUT_MINUTES;
  const ok = /^\d+$/.test(String(value)) && Number(value) >= min && Number(value) <= max;
  return ok
    ? undefined
    : `"${value}" is not a whole number of minutes from ${min} to ${max} (default ` +
        `${DEFAULT_READINESS_TIMEOUT_MINUTES}); to skip the wait instead, set waitForReady to false.`;
}

/** An Azure Managed Redis SKU this project knows, matched exactly as ARM spells it (`Balanced_B0`). */
export function redisSkuProblem(value: string): string | undefined {
  return (redisSkus as readonly string[]).includes(value)
    ? undefined
    : `"${value}" is not an Azure Managed Redis SKU; use e.g. Balanced_B0 (the smallest), ` +
        `Balanced_B1 or MemoryOptimized_M10 (all: ${redisSkus.join(", ")}).`;
}

/**
 * The number of instances: a whole number from 1 to what the plan's tier allows. More than one needs `scaleOut`
 * (sessions in Redis), since each instance would otherwise hold its own users' sessions; and only a plan this stack
 * creates is scaled by it (an existing plan is scaled by its owner).
 */
export function instanceCountProblem(
  value: number | string,
  planSku: PlanSku,
  onExistingPlan: boolean,
  scaleOut: boolean,
): string | undefined {
  const max = planSkus[planSku].maxInstances;
  if (!/^\d+$/.test(String(value)) || Number(value) < 1)
    return `"${value}" is not a whole number of instances of at least 1.`;
  const count = Number(value);
  if (onExistingPlan)
    return (
      "is set, but the app runs on an existing plan (existingPlanId): " +
      "scale that plan itself, and unset instanceCount."
    );
  if (count > 1 && !scaleOut) {
    return (
      `is ${count} but scaleOut is false: each instance would keep its own users' sessions in memory. Set ` +
      `scaleOut to true (sessions in Azure Managed Redis), or instanceCount to 1.`
    );
  }
  if (count > max)
    return (
      `is ${count}, but the ${planSku} plan runs at most ${max} instance${max === 1 ? "" : "s"}; ` +
      `choose a larger planSku or fewer instances.`
    );
  return undefined;
}

/** Always On, which the Free tier forbids. */
export function alwaysOnProblem(alwaysOn: boolean, planSku: PlanSku, onExistingPlan: boolean): string | undefined {
  return alwaysOn && !onExistingPlan && !planSkus[planSku].alwaysOn
    ? `is true but the ${planSku} plan does not allow Always On; set alwaysOn ` +
        `to false or choose a Basic or higher planSku.`
    : undefined;
}

/**
 * A path the app serves (the callback, the health check): "/" or "/"-separated segments of letters, digits, "-", "_",
 * "." and "~". No empty segment ("//", a trailing "/"), no "." or ".." segment (browsers resolve them away), and
 * nothing that is not part of a path (query, fragment, spaces, "\"). `example` is shown in the fix.
 */
export function appPathProblem(path: string, example: string): string | undefined {
  const fix = `use a path such as "${example}"`;
  if (!path.startsWith("/")) return `"${path}" must start with "/"; ${fix}.`;
  if (path === "/") return undefined;
  const segments = path.slice(1).split("/");
  if (segments.some((s) => s === "")) return `"${path}" has an empty segment ("//" or a trailing "/"); ${fix}.`;
  if (segments.some((s) => !SEGMENT.test(s))) {
    return (
      `"${path}" may contain only letters, digits, "-", "_", "." and "~" between single "/" ` +
      `(no query, fragment, spaces, "%", ":" or "*"); ${fix}.`
    );
  }
  if (segments.some((s) => s === "." || s === ".."))
    return `"${path}" has a "." or ".." segment, which browsers resolve away; ${fix}.`;
  return undefined;
}

/**
 * The OpenID Connect callback path: an app path that is none of the app's own routes in any letter case (so `/ME` is
 * refused as well as `/me`). Reserved routes may hold `:param` segments and a final `*`, as the router spells them.
 */
export function callbackPathProblem(
  path: string,
  reservedRoutes: readonly string[] = RESERVED_APP_PATHS,
): string | undefined {
  const shape = appPathProblem(path, DEFAULT_CALLBACK_PATH);
  if (shape) return shape;
  const route = reservedRouteFor(path, reservedRoutes);
  return route === undefined
    ? undefined
    : `"${path}" is one of the app's own routes (${route}, in any letter case); use "${DEFAULT_CALLBACK_PATH}".`;
}

// A host name as a browser sends it, without a port: DNS labels (letters, digits, inner hyphens), an IPv4 address, or
// an IPv6 address in brackets.
const HOST_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const IPV6_HOST = /^\[[0-9a-f:.]+\]$/i;

/** True for host names that reach only this machine: `localhost` (and `*.localhost`), 127.0.0.0/8 and `[::1]`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127(?:\.\d{1,3}){3}$/.test(h) || h === "[::1]";
}

/** One host name the app answers to (WEBSITE_HOSTNAME, an AllowedHosts entry): no scheme, port, path or wildcard. */
export function hostNameProblem(host: string): string | undefined {
  if (host.includes("*")) {
    return (
      `"${host}" is a wildcard; list each host name the app is reached at (a wildcard ` +
      `would let any request pick the host of the redirect URI).`
    );
  }
  if (!HOST_NAME.test(host) && !IPV6_HOST.test(host)) {
    return `"${host}" is not a host name; use just the name, e.g. www.contoso.com (no scheme, port or path).`;
  }
  return undefined;
}

/**
 * ASP.NET's `AllowedHosts`: host names separated by ";" (empty entries ignored), each passing {@link hostNameProblem}.
 */
export function allowedHostsProblem(value: string): string | undefined {
  const problems = splitAllowedHosts(value)
    .map(hostNameProblem)
    .filter((p): p is string => p !== undefined);
  return problems.length > 0 ? problems.join(" ") : undefined;
}

/** The entries of an `AllowedHosts` value, trimmed, empty ones dropped. */
export function splitAllowedHosts(value: string): string[] {
  return value
    .split(";")
    .map((h) => h.trim())
    .filter((h) => h !== "");
}

/**
 * The public base URL of a run outside App Service: an http(s) origin (an optional trailing "/" only), http only for a
 * loopback host (http://localhost:3000), since cookies and tokens would otherwise cross the network in clear.
 */
export function publicBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `"${value}" is not a URL; set the URL browsers open, e.g. http://localhost:3000.`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return `"${value}" must be an http or https URL, e.g. http://localhost:3000.`;
  if (
    url.username ||
    url.password ||
    url.search ||
    url.hash ||
    url.pathname !== "/" ||
    value.includes("?") ||
    value.includes("#")
  ) {
    return `"${value}" must be just an origin (scheme, host and port), e.g. http://localhost:3000.`;
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return (
      `"${value}" uses http on a host that is not loopback; use https, or ` +
      `http only with localhost, 127.0.0.1 or [::1].`
    );
  }
  return undefined;
}

/**
 * Microsoft Graph's base URL (`DownstreamApis__MicrosoftGraph__BaseUrl`): an https URL without credentials, query or
 * fragment, e.g. https://graph.microsoft.com/v1.0. The app sends the user's Graph access token there, so plain http is
 * refused everywhere, loopback included (the local emulator's Graph is https too).
 */
export function graphBaseUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return (
      `"${value}" is not a URL; set Microsoft Graph's endpoint, e.g. ` +
      `https://graph.microsoft.com/v1.0, or leave it unset for the cloud's.`
    );
  }
  if (url.protocol !== "https:") {
    return (
      `"${value}" must use https: the app sends the user's access token ` +
      `there. Use e.g. https://graph.microsoft.com/v1.0.`
    );
  }
  if (url.username || url.password || url.search || url.hash || value.includes("?") || value.includes("#")) {
    return (
      `"${value}" must not carry credentials, a query or a fragment; use just the ` +
      `endpoint, e.g. https://graph.microsoft.com/v1.0.`
    );
  }
  return undefined;
}

/** The OpenID scopes a sign-in always asks for; not a permission on Microsoft Graph. */
const OPENID_SCOPES = ["openid", "profile", "email", "offline_access"];

/**
 * One delegated Microsoft Graph scope (`DownstreamApis__MicrosoftGraph__Scopes__N`): a single scope without spaces,
 * short (`User.Read`) or with Graph's URI (`https://graph.microsoft.com/User.Read`), not one of the OpenID scopes.
 */
export function graphScopeProblem(value: string): string | undefined {
  if (value === "" || /\s/.test(value)) {
    return `"${value}" is not one scope; set one permission per item, e.g. User.Read (Scopes__0, Scopes__1, …).`;
  }
  if (OPENID_SCOPES.includes(value.toLowerCase())) {
    return `"${value}" is an OpenID scope the app asks for anyway; set a Microsoft Graph permission such as User.Read.`;
  }
  return undefined;
}

/**
 * An Entra object ID (a user's, a service principal's, an app registration's): a GUID. `how` says where to read one.
 */
export function objectIdProblem(id: string, how = "az ad signed-in-user show --query id -o tsv"): string | undefined {
  return isGuid(id) ? undefined : `"${id}" is not an object ID: it must be a GUID (${how}).`;
}

// Azure's naming rules for the state store
// (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules).
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
const BLOB_CONTAINER = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
const KEY_VAULT = /^(?=.{3,24}$)[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/;
const KEY_VAULT_KEY = /^[A-Za-z0-9-]{1,127}$/;
// Pulumi stack names: letters, digits, "_", "." and "-" (the CLI's own rule), up to 100 here.
const STACK = /^[A-Za-z0-9_.-]{1,100}$/;

/** A storage account name: 3-24 lower-case letters and digits, unique across Azure. */
export function storageAccountNameProblem(name: string): string | undefined {
  return STORAGE_ACCOUNT.test(name)
    ? undefined
    : `"${name}" is not a storage account name; use 3-24 lower-case letters and ` +
        `digits, unique across Azure, e.g. contosopulumistate.`;
}

/** A blob container name: 3-63 lower-case letters, digits and single hyphens, a letter or digit at each end. */
export function blobContainerNameProblem(name: string): string | undefined {
  return BLOB_CONTAINER.test(name)
    ? undefined
    : `"${name}" is not a blob container name; use 3-63 lower-case letters, digits and ` +
        `single hyphens, starting and ending with a letter or digit.`;
}

/** A Key Vault name: 3-24 letters, digits and single hyphens, starting with a letter, ending with a letter or digit. */
export function keyVaultNameProblem(name: string): string | undefined {
  return KEY_VAULT.test(name)
    ? undefined
    : `"${name}" is not a Key Vault name; use 3-24 letters, digits and single hyphens, starting with a ` +
        `letter and ending with a letter or digit, unique across Azure.`;
}

/** A Key Vault key name: 1-127 letters, digits and hyphens. */
export function keyVaultKeyNameProblem(name: string): string | undefined {
  return KEY_VAULT_KEY.test(name)
    ? undefined
    : `"${name}" is not a Key Vault key name; use 1-127 letters, digits and hyphens.`;
}

/** A Pulumi stack name. */
export function stackNameProblem(name: string): string | undefined {
  return STACK.test(name)
    ? undefined
    : `"${name}" is not a Pulumi stack name; use letters, digits, "_", "." or "-", e.g. dev.`;
}

/** One of a fixed list of words, matched exactly; `what` names the kind of value, `why` explains the choice. */
export function oneOfProblem(value: string, allowed: readonly string[], what: string, why = ""): string | undefined {
  return allowed.includes(value) ? undefined : `"${value}" is not ${what}; use ${allowed.join(" or ")}${why}.`;
}
