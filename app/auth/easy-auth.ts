/**
 * Easy Auth mode on the app's side: when App Service's built-in authentication signs users in, the platform injects
 * who the user is (`X-MS-CLIENT-PRINCIPAL…`) and the token store's tokens (`X-MS-TOKEN-AAD-…`) into each request.
 *
 * Those headers are whatever the client sent unless the platform is the one that set them, so the app trusts them only
 * when it knows it sits behind Easy Auth: the stack's `SignIn__AuthMode=easyAuth` AND, on App Service, the platform's
 * own read-only `WEBSITE_AUTH_ENABLED=True` (contract/easy-auth.ts cites both). Off App Service the only other trusted
 * front end is the local stand-in (local/easy-auth-proxy.ts), which says so with `EASY_AUTH_LOCAL_STAND_IN=true` and
 * is refused on App Service. Any other combination refuses to start. In the default mode the app strips every such
 * header before any route sees it (`platformIdentityHeaders`), so a spoofed one does nothing.
 */
import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import {
  AUTH_MODE_SETTING,
  EasyAuthHeader,
  PLATFORM_AUTH_ENABLED,
  isPlatformIdentityHeader,
} from "../../contract/easy-auth";
import type { Env } from "../hosting";

/** Set by the local stand-in (local/easy-auth-proxy.ts) for the app it fronts; refused on App Service. */
export const LOCAL_STAND_IN_SETTING = "EASY_AUTH_LOCAL_STAND_IN";

/** Who vouches for the identity headers when the app runs in Easy Auth mode. */
export interface EasyAuthMode {
  /** `app-service`: the platform, with authentication on. `local-stand-in`: the local Easy Auth stand-in. */
  readonly vouchedBy: "app-service" | "local-stand-in";
}

/** The value of an environment variable, its name compared without case (App Service settings are case-insensitive). */
const envValue = (env: Env, name: string): string | undefined => {
  const key = Object.keys(env).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : env[key]?.trim();
};

/**
 * Easy Auth mode when the settings ask for it and the platform (or the local stand-in) vouches for the headers;
 * undefined in the default mode. Pushes a problem, naming the setting and the fix, for every other combination.
 */
export function readEasyAuthMode(env: Env, problems: string[]): EasyAuthMode | undefined {
  const mode = envValue(env, AUTH_MODE_SETTING);
  if (mode === undefined || mode === "" || mode === "app") return undefined;
  if (mode !== "easyAuth") {
    problems.push(
      `${AUTH_MODE_SETTING} is "${mode.slice(0, 40)}"; set it to app (the app signs ` +
        `users in) or easyAuth (App Service authentication does).`,
    );
    return undefined;
  }
  const onAppService = !!envValue(env, "WEBSITE_HOSTNAME");
  const platformAuth = envValue(env, PLATFORM_AUTH_ENABLED);
  if (onAppService) {
    if (platformAuth?.toLowerCase() === "true") return { vouchedBy: "app-service" };
    problems.push(
      `${AUTH_MODE_SETTING} is easyAuth, but App Service authentication is off (${PLATFORM_AUTH_ENABLED} is ` +
        `${platformAuth === undefined ? "unset" : `"${platformAuth.slice(0, 20)}"`}), ` +
        "so the X-MS-CLIENT-PRINCIPAL headers would be whatever a client sends. Turn " +
        "authentication on (the stack's authMode easyAuth does) or set it to app.",
    );
    return undefined;
  }
  if (envValue(env, LOCAL_STAND_IN_SETTING) === "true") return { vouchedBy: "local-stand-in" };
  problems.push(
    `${AUTH_MODE_SETTING} is easyAuth, but this is not App Service and no Easy Auth stand-in fronts the app, so ` +
      `the X-MS-CLIENT-PRINCIPAL headers would be whatever a client sends. ` +
      "Run it locally with npm run dev -- --easy-auth, or set it to app.",
  );
  return undefined;
}

/** The signed-in user as Easy Auth describes them, with the token store's tokens when the platform passed them. */
export interface EasyAuthUser {
  /** The claims, named as in an ID token (`name`, `preferred_username`, `oid`, `tid`, …). */
  readonly claims: Record<string, string>;
  /** The token store's Microsoft Graph access token (`X-MS-TOKEN-AAD-ACCESS-TOKEN`), when there is one. */
  readonly accessToken: string | undefined;
  /** When that access token expires (`X-MS-TOKEN-AAD-EXPIRES-ON`), when the platform says. */
  readonly accessTokenExpiresOn: Date | undefined;
}

/**
 * Easy Auth's claim mapping turns some claims into long URIs (App Service docs, "Decode the client principal header":
 * "These claims go through a default claims-mapping process"); the page and /me use the ID token's short names.
 */
const CLAIM_NAMES: Record<string, string> = {
  "http://schemas.microsoft.com/identity/claims/objectidentifier": "oid",
  "http://schemas.microsoft.com/identity/claims/tenantid": "tid",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "sub",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress": "email",
  "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn": "upn",
  "http://schemas.microsoft.com/identity/claims/identityprovider": "idp",
  "http://schemas.microsoft.com/claims/authnmethodsreferences": "amr",
  "http://schemas.microsoft.com/identity/claims/scope": "scp",
};

const MAX_PRINCIPAL_BYTES = 16 * 1024;
const MAX_CLAIMS = 100;

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  const v = headers[name];
  return typeof v === "string" && v !== "" ? v : undefined;
};

/**
 * The user from `X-MS-CLIENT-PRINCIPAL` (base64 JSON `{ auth_typ, claims: [{ typ, val }], name_typ, role_typ }`, App
 * Service docs, "Work with user identities in Azure App Service authentication"), or undefined when it is missing,
 * malformed, not from the Microsoft provider (`auth_typ` and `X-MS-CLIENT-PRINCIPAL-IDP` `aad`), or disagrees with
 * `X-MS-CLIENT-PRINCIPAL-ID`. Call it only in Easy Auth mode: anywhere else every header here is attacker-chosen.
 */
export function easyAuthUser(headers: Record<string, string | string[] | undefined>): EasyAuthUser | undefined {
  const encoded = header(headers, EasyAuthHeader.Principal);
  if (!encoded || encoded.length > MAX_PRINCIPAL_BYTES || !/^[A-Za-z0-9+/=_-]+$/.test(encoded)) return undefined;
  let principal: { auth_typ?: unknown; claims?: unknown };
  try {
    principal = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as typeof principal;
  } catch {
    return undefined;
  }
  const list = principal?.claims;
  if (principal?.auth_typ !== "aad" || !Array.isArray(list) || list.length > MAX_CLAIMS) return undefined;
  if (header(headers, EasyAuthHeader.PrincipalIdp) !== "aad") return undefined;
  const claims: Record<string, string> = {};
  for (const c of principal.claims as { typ?: unknown; val?: unknown }[]) {
    if (typeof c?.typ !== "string" || typeof c.val !== "string") return undefined;
    const name = CLAIM_NAMES[c.typ] ?? c.typ;
    if (!(name in claims)) claims[name] = c.val;
  }
  const id = header(headers, EasyAuthHeader.PrincipalId);
  if (!claims.oid || (id !== undefined && id !== claims.oid)) return undefined;
  claims.name ??= header(headers, EasyAuthHeader.PrincipalName) ?? "";
  const expires = header(headers, EasyAuthHeader.ExpiresOn);
  const expiresOn = expires === undefined ? undefined : new Date(expires);
  return {
    claims,
    accessToken: header(headers, EasyAuthHeader.AccessToken),
    accessTokenExpiresOn: expiresOn && !Number.isNaN(expiresOn.getTime()) ? expiresOn : undefined,
  };
}

/**
 * Removes every platform identity and token header from each request before any route sees it. Registered in the
 * default mode (app.ts): there, nobody vouches for them, so they are dropped, never read.
 */
async function stripPlatformIdentityHeaders(app: FastifyInstance): Promise<void> {
  app.addHook("onRequest", async (req) => {
    const spoofed = Object.keys(req.headers).filter(isPlatformIdentityHeader);
    if (spoofed.length === 0) return;
    for (const name of spoofed) delete req.headers[name];
    const msg = "dropped platform identity headers: Easy Auth does not front this app";
    req.log.info({ headers: spoofed.slice(0, 10) }, msg);
  });
}

export const platformIdentityHeaders = fp(stripPlatformIdentityHeaders, { name: "platform-identity-headers" });
