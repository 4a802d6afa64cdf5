/**
 * Token minting: managed-identity tokens (the client assertion), ID tokens (with the negative modes), app-only access
 * tokens and delegated Graph access tokens.
 * Claim sets follow the v2.0 token shapes in notes/entra-fic.md §1 and §5.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { SignJWT, UnsecuredJWT, type JWTPayload } from "jose";
import { DEFAULT_TOKEN_EXCHANGE_URL } from "../contract/settings";
import { createSigningKey, type SigningKey } from "./keys";
import type {
  EmulatorContext,
  EmulatorUser,
  IdTokenMode,
  MintGraphAccessTokenOptions,
  MintManagedIdentityTokenOptions,
  MintOperatorTokenOptions,
} from "./types";

/** App id of "AAD Token Exchange Endpoint: Public"; MI tokens for `api://AzureADTokenExchange` carry it as `aud`. */
export const TOKEN_EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936";

/** The public-cloud token-exchange audience URI a FIC names. */
export const TOKEN_EXCHANGE_URI = DEFAULT_TOKEN_EXCHANGE_URL;

/** Microsoft Graph's app id: the `aud` of Graph tokens asked for with short scopes (`User.Read`). */
export const GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000";

/** Microsoft Graph's resource URI: the `aud` of Graph tokens asked for with `https://graph.microsoft.com/User.Read`. */
export const GRAPH_RESOURCE = "https://graph.microsoft.com";

/** The `scp` Entra puts in a Graph token for `User.Read` with the OpenID scopes. */
const DEFAULT_GRAPH_SCP = "openid profile User.Read email";

/** Lifetime of ID and access tokens (Entra's default is about an hour). */
export const USER_TOKEN_LIFETIME_SECONDS = 3599;

/** The current time in epoch seconds (reads `Date`, so tests can move it with fake timers). */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** A short random opaque value, like Entra's `uti`/`rh`/`aio` claims. */
function opaque(bytes = 16): string {
  return randomBytes(bytes).toString("base64url");
}

/**
 * The `aud` an MI token gets for a resource. Only the public-cloud exchange URI has a known GUID alias; the USGov and
 * China exchange audiences keep their URI (their GUIDs are not documented).
 */
function audienceForResource(resource: string): string {
  return resource === TOKEN_EXCHANGE_URI ? TOKEN_EXCHANGE_APP_ID : resource;
}

/** Strips the `/.default` suffix MSAL-style scopes carry, leaving the resource URI. */
export function resourceFromScope(resourceOrScope: string): string {
  return resourceOrScope.endsWith("/.default") ? resourceOrScope.slice(0, -"/.default".length) : resourceOrScope;
}

async function sign(payload: JWTPayload, key: SigningKey): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "RS256", typ: "JWT", kid: key.kid }).sign(key.privateKey);
}

/** Applies overrides; an override of `undefined` deletes the claim. */
function withOverrides(claims: JWTPayload, overrides: Record<string, unknown> = {}): JWTPayload {
  const result: Record<string, unknown> = { ...claims, ...overrides };
  for (const [name, value] of Object.entries(overrides)) if (value === undefined) delete result[name];
  return result as JWTPayload;
}

/** An app-only v2.0 token for the UAMI, as App Service's MI endpoint returns it. */
export async function mintManagedIdentityToken(
  ctx: EmulatorContext,
  options: MintManagedIdentityTokenOptions = {},
): Promise<{ token: string; expiresOn: number }> {
  const { uami } = ctx.registration;
  const iat = nowSeconds() + (options.issuedAtOffsetSeconds ?? 0);
  const exp = iat + (options.lifetimeSeconds ?? ctx.tokenLifetimeSeconds);
  const claims = withOverrides(
    {
      aud: audienceForResource(resourceFromScope(options.resource ?? TOKEN_EXCHANGE_URI)),
      iss: ctx.issuer,
      iat,
      nbf: iat,
      exp,
      aio: opaque(),
      azp: uami.clientId,
      azpacr: "2", // 2 = authenticated by managed identity / certificate, as in real MI tokens
      appid: uami.clientId,
      idtyp: "app",
      oid: uami.principalId,
      rh: opaque(),
      sub: uami.principalId,
      tid: ctx.tenantId,
      uti: opaque(),
      ver: "2.0",
      xms_mirid: uami.resourceId,
    },
    options.claims,
  );
  return { token: await sign(claims, ctx.keys.current), expiresOn: exp };
}

/**
 * Entra's `sub` is pairwise: stable per user *and app*, so two apps cannot correlate users by it. A hash of both ids
 * reproduces that property.
 */
function pairwiseSubject(oid: string, clientId: string): string {
  return createHash("sha256").update(`${clientId}:${oid}`).digest("base64url");
}

/** A key nobody publishes, for the "bad-signature" and "unknown-kid" modes; created once, on first use. */
let strangerKey: Promise<SigningKey> | undefined;
/** The stranger's key, made once: a key the app has never seen. */
function strangerSigningKey() {
  if (!strangerKey) strangerKey = createSigningKey();
  return strangerKey;
}

/** The ID token of a sign-in, shaped by `mode` (see {@link IdTokenMode}). */
export async function mintIdToken(
  ctx: EmulatorContext,
  input: { user: EmulatorUser; clientId: string; sid: string; nonce?: string; mode: IdTokenMode },
): Promise<string> {
  const { user, clientId, sid, nonce, mode } = input;
  const iat = nowSeconds();
  const claims: JWTPayload = {
    aud: clientId,
    iss: ctx.issuer,
    iat,
    nbf: iat,
    exp: iat + USER_TOKEN_LIFETIME_SECONDS,
    name: user.name,
    ...(nonce !== undefined && { nonce }),
    oid: user.oid,
    preferred_username: user.preferredUsername,
    rh: opaque(),
    sid, // the IdP session, for front-channel logout
    sub: pairwiseSubject(user.oid, clientId),
    tid: ctx.tenantId,
    uti: opaque(),
    ver: "2.0",
    // Entra's login_hint optional claim is opaque; apps pass it back as logout_hint.
    login_hint: Buffer.from(`O.${user.oid}.${ctx.tenantId}.${user.preferredUsername}`).toString("base64url"),
    ...accessClaims(ctx, user),
  };

  switch (mode) {
    case "valid":
      return sign(claims, ctx.keys.current);
    case "bad-signature":
      // The current kid, so the app finds a key, but the signature is by a key it does not have.
      return sign(claims, { ...(await strangerSigningKey()), kid: ctx.keys.current.kid });
    case "unknown-kid":
      return sign(claims, await strangerSigningKey());
    case "alg-none":
      return new UnsecuredJWT(claims).encode();
    case "wrong-iss":
      return sign({ ...claims, iss: `https://sts.windows.net/${ctx.tenantId}/` }, ctx.keys.current);
    case "wrong-aud":
      return sign({ ...claims, aud: randomUUID() }, ctx.keys.current);
    case "wrong-tid":
      return sign({ ...claims, tid: randomUUID() }, ctx.keys.current);
    case "expired":
      return sign({ ...claims, iat: iat - 7200, nbf: iat - 7200, exp: iat - 3600 }, ctx.keys.current);
    case "nonce-mismatch":
      return sign({ ...claims, nonce: `not-${nonce ?? ""}${opaque(4)}` }, ctx.keys.current);
    case "missing-sub":
      return sign(withOverrides(claims, { sub: undefined }), ctx.keys.current);
  }
}

/**
 * An app-only access token (client-credentials grant) for `resource`, as Entra issues it to an app with no
 * permissions granted: no `roles`, no `scp`; `oid`/`sub` are the app's service principal.
 */
export async function mintAppAccessToken(
  ctx: EmulatorContext,
  input: { clientId: string; resource: string },
): Promise<string> {
  const iat = nowSeconds();
  const { servicePrincipalId } = ctx.registration;
  return sign(
    {
      aud: input.resource,
      iss: ctx.issuer,
      iat,
      nbf: iat,
      exp: iat + USER_TOKEN_LIFETIME_SECONDS,
      azp: input.clientId,
      azpacr: "2", // 2 = authenticated by a certificate or assertion (here the FIC)
      appid: input.clientId,
      idtyp: "app",
      oid: servicePrincipalId,
      rh: opaque(),
      sub: servicePrincipalId,
      tid: ctx.tenantId,
      uti: opaque(),
      ver: "2.0",
    },
    ctx.keys.current,
  );
}

/** The v1.0 issuer of Graph's tokens: Graph accepts v1.0 access tokens, so Entra issues those for it. */
export function graphIssuer(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/**
 * A delegated access token for Microsoft Graph, shaped like Entra's: a v1.0 token (`iss` sts.windows.net, `appid`,
 * `upn`), `aud` Graph's app id or URI (as the scopes were asked for), `scp` the granted permissions. Apps must treat it
 * as opaque; only the Graph stand-in checks it.
 */
export async function mintGraphAccessToken(
  ctx: EmulatorContext,
  input: { user: EmulatorUser; clientId: string; sid?: string; options?: MintGraphAccessTokenOptions },
): Promise<{ token: string; lifetimeSeconds: number }> {
  const { user, clientId, sid, options = {} } = input;
  const iat = nowSeconds() + (options.issuedAtOffsetSeconds ?? 0);
  const lifetimeSeconds = options.lifetimeSeconds ?? ctx.accessTokenLifetimeSeconds;
  const claims = withOverrides(
    {
      aud: options.audience ?? GRAPH_APP_ID,
      iss: graphIssuer(ctx.tenantId),
      iat,
      nbf: iat,
      exp: iat + lifetimeSeconds,
      acct: 0,
      acr: "1",
      aio: opaque(),
      amr: ["pwd"],
      appid: clientId,
      appidacr: "2", // 2 = the client authenticated with a certificate or assertion (here the FIC)
      idtyp: "user",
      name: user.name,
      oid: user.oid,
      rh: opaque(),
      scp: options.scp ?? DEFAULT_GRAPH_SCP,
      ...(sid !== undefined && { sid }),
      sub: pairwiseSubject(user.oid, GRAPH_APP_ID),
      tid: ctx.tenantId,
      unique_name: user.preferredUsername,
      upn: user.preferredUsername,
      uti: opaque(),
      ver: "1.0",
    },
    options.claims,
  );
  return { token: await sign(claims, ctx.keys.current), lifetimeSeconds };
}

/** Entra's JWT limit on the `groups` claim; beyond it the token carries the overage marker instead. */
export const GROUPS_OVERAGE_LIMIT = 200;

/**
 * The `roles` claim (the assigned app roles' values, left out when there are none) and, when the registration asks
 * for security groups, `groups` or, beyond {@link GROUPS_OVERAGE_LIMIT}, the overage marker `_claim_names` /
 * `_claim_sources` pointing at the user's getMemberObjects (Entra's "groups overage claim").
 */
function accessClaims(ctx: EmulatorContext, user: EmulatorUser): JWTPayload {
  const roles = user.roles ?? [];
  const groups = user.groups ?? [];
  const claims: JWTPayload = roles.length > 0 ? { roles: [...roles] } : {};
  if (!ctx.registration.securityGroupClaims || groups.length === 0) return claims;
  if (groups.length <= GROUPS_OVERAGE_LIMIT) return { ...claims, groups: [...groups] };
  const endpoint = `https://graph.windows.net/${ctx.tenantId}/users/${user.oid}/getMemberObjects`;
  return { ...claims, _claim_names: { groups: "src1" }, _claim_sources: { src1: { endpoint } } };
}

/** The Azure CLI's public client id: the `appid` of the tokens an operator's `az login` session gets. */
export const AZURE_CLI_APP_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46";

/** An operator's access token for Graph or ARM, in Entra's v1.0 shape (see RunningEmulator.mintOperatorToken). */
export async function mintOperatorToken(ctx: EmulatorContext, options: MintOperatorTokenOptions): Promise<string> {
  const iat = nowSeconds();
  const app = options.roles !== undefined;
  return sign(
    {
      aud: resourceFromScope(options.resource),
      iss: graphIssuer(ctx.tenantId),
      iat,
      nbf: iat,
      exp: iat + (options.lifetimeSeconds ?? USER_TOKEN_LIFETIME_SECONDS),
      appid: AZURE_CLI_APP_ID,
      appidacr: "0",
      idtyp: app ? "app" : "user",
      oid: options.oid,
      sub: options.oid,
      tid: ctx.tenantId,
      uti: opaque(),
      ver: "1.0",
      ...(app ? { roles: options.roles } : { scp: options.scp ?? "user_impersonation" }),
      ...(options.wids ? { wids: options.wids } : {}),
    },
    ctx.keys.current,
  );
}
