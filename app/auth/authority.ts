/**
 * The authority: its OpenID configuration (fetched once, checked against the configured instance and tenant) and
 * jose's key set for its jwks_uri, which the ID tokens are verified with.
 */
import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";
import { isGuid } from "../../contract/settings";
import type { AppConfig } from "../app-config";

/**
 * Hosts of Microsoft's own login endpoints, for which msal-node has built-in metadata. Any other host (the local
 * emulator, a private cloud) goes into `knownAuthorities`, or msal-node would ask the public cloud's
 * instance-discovery endpoint about it.
 */
export const MICROSOFT_LOGIN_HOSTS = new Set([
  "login.microsoftonline.com",
  "login.windows.net",
  "login.microsoft.com",
  "sts.windows.net",
  "login.microsoftonline.us",
  "login.usgovcloudapi.net",
  "login-us.microsoftonline.com",
  "login.partner.microsoftonline.cn",
  "login.chinacloudapi.cn",
  "login.microsoftonline.de",
  "login.sovcloud-identity.fr",
  "login.sovcloud-identity.de",
  "login.sovcloud-identity.sg",
]);

/** The parts of the authority's OpenID configuration the app uses. */
export interface AuthorityMetadata {
  /** `${Instance}${tenant GUID}/v2.0`: the exact `iss` of this tenant's ID tokens. */
  readonly issuer: string;
  /** The tenant GUID (resolved from the issuer when TenantId is a domain name). */
  readonly tenantGuid: string;
  readonly jwksUri: string;
  readonly endSessionEndpoint?: string;
  /** The OpenID configuration document as fetched: msal-node's `authorityMetadata`, so it never fetches it again. */
  readonly document: string;
}

/** The authority's OpenID configuration could not be fetched or is not what this tenant's should be. */
export class AuthorityError extends Error {
  constructor(readonly reason: string) {
    super(`Authority unavailable: ${reason}`);
    this.name = "AuthorityError";
  }
}

/**
 * The authority's metadata, fetched once (a failure is retried on the next call), and jose's key set for its
 * jwks_uri, created once the metadata is known.
 */
export function authorityKeys(
  config: AppConfig,
  jwksCooldownMs: number,
): { metadata(): Promise<AuthorityMetadata>; keys(): Promise<JWTVerifyGetKey> } {
  let metadataPromise: Promise<AuthorityMetadata> | undefined;
  let jwks: JWTVerifyGetKey | undefined;
  const metadata = (): Promise<AuthorityMetadata> => {
    if (!metadataPromise) {
      const request = fetchMetadata(config);
      metadataPromise = request;
      request.catch(() => {
        if (metadataPromise === request) metadataPromise = undefined;
      });
    }
    return metadataPromise;
  };
  const keys = async (): Promise<JWTVerifyGetKey> => {
    const meta = await metadata();
    jwks ??= createRemoteJWKSet(new URL(meta.jwksUri), {
      cooldownDuration: jwksCooldownMs,
      timeoutDuration: 10_000,
    });
    return jwks;
  };

  return { metadata, keys };
}

async function fetchMetadata(config: AppConfig): Promise<AuthorityMetadata> {
  const url = `${config.authority}/v2.0/.well-known/openid-configuration`;
  let body: Record<string, unknown>;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000), headers: { accept: "application/json" } });
    if (!response.ok) throw new AuthorityError(`GET ${url} answered HTTP ${response.status}`);
    body = (await response.json()) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof AuthorityError) throw error;
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    throw new AuthorityError(
      `GET ${url} failed${cause ? ` (${cause})` : ""}: check AzureAd__Instance and AzureAd__TenantId`,
    );
  }
  const issuer = typeof body.issuer === "string" ? body.issuer : "";
  const jwksUri = typeof body.jwks_uri === "string" ? body.jwks_uri : "";
  const match = issuer.startsWith(config.instance)
    ? /^([0-9a-fA-F-]{36})\/v2\.0$/.exec(issuer.slice(config.instance.length))
    : null;
  const tenantGuid = match?.[1] ?? "";
  if (!isGuid(tenantGuid)) {
    throw new AuthorityError(`the issuer "${issuer}" in ${url} is not ${config.instance}{tenant GUID}/v2.0`);
  }
  if (isGuid(config.tenantId) && tenantGuid.toLowerCase() !== config.tenantId.toLowerCase()) {
    throw new AuthorityError(`the issuer "${issuer}" in ${url} is not for tenant ${config.tenantId}`);
  }
  if (!jwksUri.startsWith("https://")) throw new AuthorityError(`${url} has no https jwks_uri`);
  const endSession = typeof body.end_session_endpoint === "string" ? body.end_session_endpoint : undefined;
  return {
    issuer,
    tenantGuid,
    jwksUri,
    ...(endSession ? { endSessionEndpoint: endSession } : {}),
    document: JSON.stringify(body),
  };
}
