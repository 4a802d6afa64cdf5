import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  ResponseMode,
  ServerError,
  type Configuration,
  type NodeSystemOptions,
} from "@azure/msal-node";
import { graphScopeForInstance } from "../../contract/clouds";
import { READINESS_ADVICE } from "../../contract/readiness";
import { isGuid } from "../../contract/settings";
import type { AppConfig } from "../config";
import { randomId } from "../store";
import { explainAadsts, extractAadstsCode, type SignInProblem } from "./aadsts";
import { IdTokenError, validateIdToken } from "./id-token";
import { ManagedIdentityError, type AssertionProvider } from "./managed-identity";
import { memoryPartition, partitionPlugin, type TokenCachePartition } from "./token-cache";

type LoggerOptions = NonNullable<NodeSystemOptions["loggerOptions"]>;

/**
 * The scopes of a sign-in: OpenID's, `offline_access` for a refresh token (msal-node adds it anyway), and the Microsoft
 * Graph permissions the app calls Graph with (`DownstreamApis__MicrosoftGraph__Scopes__N`, default `User.Read`), so
 * the user consents to them, if the tenant lets users consent, at sign-in.
 */
function signInScopes(config: AppConfig): string[] {
  return ["openid", "profile", "offline_access", ...config.graph.scopes];
}

/**
 * Hosts of Microsoft's own login endpoints, for which msal-node has built-in metadata. Any other host (the local
 * emulator, a private cloud) goes into `knownAuthorities`, or msal-node would ask the public cloud's
 * instance-discovery endpoint about it.
 */
const MICROSOFT_LOGIN_HOSTS = new Set([
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
interface AuthorityMetadata {
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
class AuthorityError extends Error {
  constructor(readonly reason: string) {
    super(`Authority unavailable: ${reason}`);
    this.name = "AuthorityError";
  }
}

/** One sign-in attempt's secrets, fresh for every redirect to Entra and kept server-side until the callback. */
export interface SignInAttempt {
  /** CSRF protection for the callback; also the key under which the attempt is kept server-side. */
  readonly state: string;
  /** Binds the ID token to this attempt. */
  readonly nonce: string;
  /** PKCE (S256): the verifier stays here, the challenge goes to Entra. */
  readonly codeVerifier: string;
  readonly codeChallenge: string;
  /** The redirect URI sent with the authorization request; the code can only be redeemed with the same one. */
  readonly redirectUri: string;
}

interface SignInClientOptions {
  readonly config: AppConfig;
  readonly assertion: AssertionProvider;
  readonly loggerOptions?: LoggerOptions;
  /** How long jose waits after fetching the JWKS before it refetches for an unknown `kid`. Defaults to 10 s. */
  readonly jwksCooldownMs?: number;
}

/** What a redeemed sign-in gives the session: the ID token's claims and the user's tokens. */
export interface RedeemedSignIn {
  readonly claims: JWTPayload;
  /** msal-node's account id (`uid.utid`), under which the tokens are cached. */
  readonly homeAccountId: string | undefined;
  /** msal-node's serialized cache holding only this user's tokens (ID, access and refresh token). */
  readonly tokenCache: string;
}

/** Talks to Entra: builds authorization URLs, redeems codes with the managed-identity assertion, validates ID tokens. */
export interface SignInClient {
  /** The authorization URL for an attempt (auth code + PKCE S256, response_mode=form_post). */
  authorizationUrl(attempt: SignInAttempt): Promise<string>;
  /** Redeems the code, validates the ID token and returns its claims with the user's tokens. */
  redeem(attempt: SignInAttempt, response: { code: string; state: string }): Promise<RedeemedSignIn>;
  /**
   * The user's Microsoft Graph access token from their session's cache, refreshed with the refresh token (and the
   * managed identity's token as the client assertion, again) once it is within five minutes of expiry. Throws
   * msal-node's errors: `InteractionRequiredAuthError` (no tokens, consent missing), `ServerError` (e.g. a revoked
   * refresh token, AADSTS50173), or a ManagedIdentityError.
   */
  graphAccessToken(partition: TokenCachePartition, homeAccountId: string): Promise<string>;
  /** The end-session URL that returns to `postLogoutRedirectUri`, or undefined when the authority has none. */
  endSessionUrl(postLogoutRedirectUri: string, loginHint?: string): Promise<string | undefined>;
  /** The authority's metadata (fetched once; a failure is retried on the next call). */
  metadata(): Promise<AuthorityMetadata>;
  /**
   * Proves the trust chain without a user: a client-credentials request for the cloud's Microsoft Graph `.default`
   * scope, authenticated by a fresh managed-identity token. Resolves when Entra issues the token (with no
   * permissions: the app is granted none); throws msal-node's error or a ManagedIdentityError otherwise.
   */
  proveTrustChain(): Promise<void>;
}

const cryptoProvider = new CryptoProvider();

/** A new sign-in attempt: random 256-bit state and nonce, and a PKCE pair from msal-node's CryptoProvider. */
export async function newSignInAttempt(redirectUri: string): Promise<SignInAttempt> {
  const { verifier, challenge } = await cryptoProvider.generatePkceCodes();
  return { state: randomId(), nonce: randomId(), codeVerifier: verifier, codeChallenge: challenge, redirectUri };
}

export function createSignInClient(options: SignInClientOptions): SignInClient {
  const { config, assertion } = options;
  const host = new URL(config.instance).host;
  const msalConfig = (extra: { document?: string; partition?: TokenCachePartition } = {}): Configuration => ({
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      // Called on every token request (a refresh too), so the assertion is always a current managed-identity token.
      clientAssertion: () => assertion.getAssertion(),
      knownAuthorities: MICROSOFT_LOGIN_HOSTS.has(host.toLowerCase()) ? [] : [host],
      ...(extra.document ? { authorityMetadata: extra.document } : {}),
    },
    ...(extra.partition ? { cache: { cachePlugin: partitionPlugin(extra.partition) } } : {}),
    system: options.loggerOptions ? { loggerOptions: options.loggerOptions } : {},
  });
  // Builds authorization URLs and proves the trust chain; it caches no user's tokens.
  const cca = new ConfidentialClientApplication(msalConfig());
  /**
   * An application for one request on one user's tokens (token-cache.ts says why): its cache is that partition, and
   * the authority's metadata is handed over, so creating it costs no request.
   */
  const forPartition = async (partition: TokenCachePartition): Promise<ConfidentialClientApplication> =>
    new ConfidentialClientApplication(msalConfig({ document: (await metadata()).document, partition }));

  const { metadata, keys } = authorityKeys(config, options.jwksCooldownMs ?? 10_000);
  const graphScope = graphScopeForInstance(config.instance);
  const scopes = signInScopes(config);

  return {
    metadata,

    async proveTrustChain() {
      const result = await cca.acquireTokenByClientCredential({
        scopes: [graphScope],
        // Always ask Entra: msal-node's cached app token would keep saying "ready" after the FIC broke.
        skipCache: true,
        // And with a token fresh from the endpoint: a cached one would hide an endpoint or identity that went away.
        clientAssertion: () => assertion.getAssertion({ fresh: true }),
      });
      if (!result?.accessToken) throw new AuthError("empty_response", "", "Entra answered the client-credentials request without a token");
    },

    async authorizationUrl(attempt) {
      return cca.getAuthCodeUrl({
        scopes,
        redirectUri: attempt.redirectUri,
        responseMode: ResponseMode.FORM_POST,
        codeChallenge: attempt.codeChallenge,
        codeChallengeMethod: "S256",
        state: attempt.state,
        nonce: attempt.nonce,
      });
    },

    async redeem(attempt, response) {
      const partition = memoryPartition();
      const result = await (await forPartition(partition)).acquireTokenByCode(
        {
          code: response.code,
          redirectUri: attempt.redirectUri,
          scopes,
          codeVerifier: attempt.codeVerifier,
          // msal-node 7 compares these with the response (state) and the ID token (nonce).
          state: attempt.state,
          nonce: attempt.nonce,
        },
        { code: response.code, state: response.state },
      );
      const meta = await metadata();
      const claims = await validateIdToken(result.idToken, await keys(), {
        issuer: meta.issuer,
        audience: config.clientId,
        tenantId: meta.tenantGuid,
        nonce: attempt.nonce,
      });
      return { claims, homeAccountId: result.account?.homeAccountId, tokenCache: partition.value };
    },

    async graphAccessToken(partition, homeAccountId) {
      const app = await forPartition(partition);
      const account = await app.getTokenCache().getAccountByHomeId(homeAccountId);
      if (!account) throw new InteractionRequiredAuthError("no_account_in_silent_request", "", "No tokens are kept for this session.");
      const result = await app.acquireTokenSilent({ account, scopes: [...config.graph.scopes] });
      if (!result.accessToken) throw new InteractionRequiredAuthError("no_tokens_found", "", "Entra answered without an access token.");
      return result.accessToken;
    },

    async endSessionUrl(postLogoutRedirectUri, loginHint) {
      const meta = await metadata();
      if (!meta.endSessionEndpoint) return undefined;
      const url = new URL(meta.endSessionEndpoint);
      url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
      url.searchParams.set("client_id", config.clientId);
      if (loginHint) url.searchParams.set("logout_hint", loginHint);
      return url.href;
    },
  };
}

/**
 * The authority's metadata, fetched once (a failure is retried on the next call), and jose's key set for its
 * jwks_uri, created once the metadata is known.
 */
function authorityKeys(config: AppConfig, jwksCooldownMs: number): { metadata(): Promise<AuthorityMetadata>; keys(): Promise<JWTVerifyGetKey> } {
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
    throw new AuthorityError(`GET ${url} failed${cause ? ` (${cause})` : ""}: check AzureAd__Instance and AzureAd__TenantId`);
  }
  const issuer = typeof body.issuer === "string" ? body.issuer : "";
  const jwksUri = typeof body.jwks_uri === "string" ? body.jwks_uri : "";
  const match = issuer.startsWith(config.instance) ? /^([0-9a-fA-F-]{36})\/v2\.0$/.exec(issuer.slice(config.instance.length)) : null;
  const tenantGuid = match?.[1] ?? "";
  if (!isGuid(tenantGuid)) {
    throw new AuthorityError(`the issuer "${issuer}" in ${url} is not ${config.instance}{tenant GUID}/v2.0`);
  }
  if (isGuid(config.tenantId) && tenantGuid.toLowerCase() !== config.tenantId.toLowerCase()) {
    throw new AuthorityError(`the issuer "${issuer}" in ${url} is not for tenant ${config.tenantId}`);
  }
  if (!jwksUri.startsWith("https://")) throw new AuthorityError(`${url} has no https jwks_uri`);
  const endSession = typeof body.end_session_endpoint === "string" ? body.end_session_endpoint : undefined;
  return { issuer, tenantGuid, jwksUri, ...(endSession ? { endSessionEndpoint: endSession } : {}), document: JSON.stringify(body) };
}

/**
 * Explains any failure of a sign-in for the error page: Entra's errors (through the AADSTS mapping), the managed
 * identity endpoint, the network, and rejected ID tokens. Nothing in the result contains a token or code.
 */
export function explainSignInFailure(error: unknown, config: AppConfig): SignInProblem {
  if (error instanceof IdTokenError) {
    return {
      status: 401,
      kind: "config",
      title: "The ID token from Entra was rejected.",
      fix: `The token failed validation because ${error.reason}. Check AzureAd__Instance, AzureAd__TenantId and AzureAd__ClientId, then sign in again.`,
    };
  }
  if (error instanceof ManagedIdentityError) {
    // The endpoint's URL and its answer stay in the log: the page names the setting to check and the fix.
    return { status: 503, kind: "transient", title: "The app could not get a token from its managed identity.", fix: READINESS_ADVICE[error.code].fix };
  }
  if (error instanceof AuthorityError) {
    return { status: 503, kind: "transient", title: "Entra's sign-in metadata could not be read.", fix: error.reason };
  }
  if (error instanceof ServerError || error instanceof InteractionRequiredAuthError) {
    // Entra's description of a token-endpoint error quotes the FIC's and the assertion's issuer and subject: it goes to
    // the log (the caller logs the error), the page shows the code and the fix. The browser never saw it either.
    const errorNo = Number(error.errorNo);
    const code = Number.isInteger(errorNo) && errorNo > 0 ? errorNo : extractAadstsCode(error.errorMessage);
    return explainAadsts({ error: error.errorCode, ...(code ? { errorCodes: [code] } : {}) });
  }
  if (error instanceof AuthError) {
    switch (error.errorCode) {
      case "nonce_mismatch":
        return { status: 401, kind: "user", title: "The ID token does not belong to this sign-in attempt (nonce mismatch).", fix: "Sign in again." };
      case "state_mismatch":
      case "state_not_found":
      case "invalid_state":
        return { status: 400, kind: "user", title: "The sign-in response does not belong to this sign-in attempt.", fix: "Sign in again." };
      case "network_error":
      case "no_network_connectivity":
      case "endpoints_resolution_error":
      case "openid_config_error":
        return {
          status: 503,
          kind: "transient",
          title: "Entra could not be reached.",
          fix: `The request to ${config.instance} failed (${error.errorCode}). Wait a moment and sign in again; if it persists check AzureAd__Instance and outbound network access.`,
        };
      default:
        return {
          status: 502,
          kind: "config",
          title: "Signing in failed.",
          fix: `msal-node reported "${error.errorCode}". Check the app settings and sign in again.`,
        };
    }
  }
  return { status: 500, kind: "config", title: "Signing in failed unexpectedly.", fix: "Try again; the server log has the details." };
}
