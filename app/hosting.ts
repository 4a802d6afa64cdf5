/**
 * The settings App Service itself gives the app: where browsers reach it (WEBSITE_HOSTNAME, plus AllowedHosts for
 * custom domains, or PUBLIC_BASE_URL elsewhere) and where its managed identity answers (IDENTITY_ENDPOINT). Both are
 * checked at start-up, because the app builds redirect URIs from the first and sends its X-IDENTITY-HEADER to the
 * second.
 */
import { allowedHostsProblem, hostNameProblem, publicBaseUrlProblem, splitAllowedHosts } from "../contract/rules";
import { HostingSetting } from "../contract/settings";

/** Environment variables in the shape `process.env` has. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The opt-in that lets `IDENTITY_ENDPOINT` be any http(s) origin (a test double over https, another host). */
export const IDENTITY_ENDPOINT_ANY_ORIGIN = "IDENTITY_ENDPOINT_ANY_ORIGIN";

/**
 * App Service sets `IDENTITY_ENDPOINT` to a plain-http URL on the worker itself: `http://127.0.0.1:41xxx/MSI/token/`
 * on Windows, `http://169.254.129.x:8081/msi/token` (link-local) on Linux — older Linux workers reported the
 * container network's gateway, `http://172.16.2.6:8081/msi/token` (Azure/azure-sdk-for-js#11595) — and
 * `http://localhost:42356/msi/token` on Container Apps. The app sends its `X-IDENTITY-HEADER` there and uses the token
 * it gets back without checking a signature, so
 * anything else (a public host, https to elsewhere) is refused unless explicitly allowed.
 */
export function readIdentityEndpoint(env: Env, problems: string[]): string | undefined {
  const raw = env.IDENTITY_ENDPOINT?.trim();
  const optIn = env[IDENTITY_ENDPOINT_ANY_ORIGIN]?.trim().toLowerCase();
  if (optIn !== undefined && optIn !== "" && optIn !== "true" && optIn !== "false") {
    problems.push(
      `${IDENTITY_ENDPOINT_ANY_ORIGIN} is "${env[IDENTITY_ENDPOINT_ANY_ORIGIN]}": ` +
        `set it to true or false, or leave it unset (false).`,
    );
  }
  if (!raw) return undefined;
  const problem = identityEndpointProblem(raw, optIn === "true");
  if (problem) problems.push(`IDENTITY_ENDPOINT ${problem}`);
  return problem ? undefined : raw;
}

/** Why `raw` is not an acceptable managed-identity endpoint, or undefined when it is. */
export function identityEndpointProblem(raw: string, anyOrigin: boolean): string | undefined {
  const url = parseUrl(raw);
  if (!url) return `is not a URL ("${raw}"): App Service sets it; remove any app setting that overrides it.`;
  if (url.username || url.password || url.search || url.hash) {
    return (
      `must not carry credentials, a query or a fragment ` +
      `("${url.origin}${url.pathname}…"): App Service sets a plain URL; remove the ` +
      `override.`
    );
  }
  if (anyOrigin) {
    return /^https?:$/.test(url.protocol) ? undefined : `must be an http or https URL ("${raw}").`;
  }
  if (url.protocol !== "http:" || !isLocalHost(url.hostname)) {
    return (
      `is "${raw}", not App Service's local endpoint (plain http on a loopback or link-local address, e.g. ` +
      `http://169.254.129.2:8081/msi/token): the app would send its X-IDENTITY-HEADER there. Remove the app setting ` +
      `that overrides it, or set ${IDENTITY_ENDPOINT_ANY_ORIGIN}=true if this endpoint is really meant.`
    );
  }
  return undefined;
}

/**
 * Loopback (localhost, 127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), or the 172.16.0.0/12 container
 * network older App Service Linux workers put the endpoint on: reachable only from this host or its container bridge,
 * never a public origin. Refusing the last would stop the deployed app from starting on such a worker.
 */
function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  if (/^fe[89ab][0-9a-f]:/.test(host)) return true;
  const octets = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host)?.slice(1).map(Number);
  if (!octets || octets.some((o) => o > 255)) return false;
  const [a, b] = octets as [number, number];
  return a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31);
}

/**
 * The app's public origins, from configuration only (see {@link AppConfig.publicOrigins}). App Service sets
 * WEBSITE_HOSTNAME and always serves https; PUBLIC_BASE_URL is for runs elsewhere and is refused on App Service, so
 * one deployment has one source of truth. AllowedHosts entries take the primary origin's scheme and port.
 */
export function readPublicOrigins(env: Env, problems: string[]): { origins: string[]; onAppService: boolean } {
  const websiteHostname = env[HostingSetting.WebsiteHostname]?.trim() || undefined;
  const publicBaseUrl = env[HostingSetting.PublicBaseUrl]?.trim() || undefined;
  const allowedHostsName = Object.keys(env).find(
    (name) => name.toLowerCase() === HostingSetting.AllowedHosts.toLowerCase(),
  );
  const allowedHosts = (allowedHostsName && env[allowedHostsName]) || "";
  const onAppService = websiteHostname !== undefined;

  let primary: URL | undefined;
  if (websiteHostname !== undefined) {
    const problem = hostNameProblem(websiteHostname);
    if (problem)
      problems.push(`${HostingSetting.WebsiteHostname} ${problem} App Service sets it to the app's default host name.`);
    else primary = new URL(`https://${websiteHostname}`);
    if (publicBaseUrl !== undefined) {
      problems.push(
        `${HostingSetting.PublicBaseUrl} is set on App Service (WEBSITE_HOSTNAME is ${websiteHostname}): remove ` +
          `it; the app is served at https://${websiteHostname}, and custom domains go in ` +
          `${HostingSetting.AllowedHosts}.`,
      );
    }
  } else if (publicBaseUrl !== undefined) {
    const problem = publicBaseUrlProblem(publicBaseUrl);
    if (problem) problems.push(`${HostingSetting.PublicBaseUrl} ${problem}`);
    else primary = new URL(publicBaseUrl);
  } else {
    problems.push(
      `${HostingSetting.PublicBaseUrl} is missing: set it to the URL browsers open, e.g. http://localhost:3000 ` +
        `(on App Service the platform sets ${HostingSetting.WebsiteHostname} instead). The app builds its redirect ` +
        `URI from it, never from request headers.`,
    );
  }

  const allowedProblem = allowedHostsProblem(allowedHosts);
  if (allowedProblem) problems.push(`${allowedHostsName ?? HostingSetting.AllowedHosts} ${allowedProblem}`);
  if (!primary || allowedProblem) return { origins: [], onAppService };

  const origins = [primary.origin];
  for (const host of splitAllowedHosts(allowedHosts)) {
    const url = new URL(primary.origin);
    url.hostname = host;
    const problem = primary.protocol === "http:" ? publicBaseUrlProblem(url.origin) : undefined;
    if (problem)
      problems.push(`${allowedHostsName} entry "${host}" would be served over http like ${primary.origin}: ${problem}`);
    else if (!origins.includes(url.origin)) origins.push(url.origin);
  }
  return { origins, onAppService };
}

/** `value` as a URL, or undefined when it is not one. */
export function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}
