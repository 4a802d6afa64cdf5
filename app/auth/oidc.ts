/**
 * The sign-in client: msal-node with the managed identity's token as its client assertion, for the authorization URL,
 * the code redemption (then the ID token checked with jose against the authority's keys), the user's Graph token, the
 * end-session URL and the trust-chain proof. The authority's metadata and keys are in authority.ts; how a failure is
 * explained to the user is in sign-in-failure.ts.
 */
import type { JWTPayload } from "jose";
import {
  AuthError,
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  ResponseMode,
  type Configuration,
  type NodeSystemOptions,
} from "@azure/msal-node";
import { graphScopeForInstance } from "../../contract/clouds";
import { type AppClientCredential, type AppConfig, CLIENT_SECRET_SOURCE } from "../app-config";
import type { UsedCredential } from "../../contract/readiness";
import { randomId } from "../random-id";
import { type AuthorityMetadata, MICROSOFT_LOGIN_HOSTS, authorityKeys } from "./authority";
import { validateIdToken } from "./id-token";
import { type AssertionProvider, ManagedIdentityError } from "./managed-identity";
import { memoryPartition, partitionPlugin, type TokenCachePartition } from "./token-cache";

export { explainSignInFailure } from "./sign-in-failure";

type LoggerOptions = NonNullable<NodeSystemOptions["loggerOptions"]>;

/**
 * The scopes of a sign-in: OpenID's, `offline_access` for a refresh token (msal-node adds it anyway), and the Microsoft
 * Graph permissions the app calls Graph with (`DownstreamApis__MicrosoftGraph__Scopes__N`, default `User.Read`), so
 * the user consents to them, if the tenant lets users consent, at sign-in.
 */
function signInScopes(config: AppConfig): string[] {
  return ["openid", "profile", "offline_access", ...config.graph.scopes];
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

/**
 * Talks to Entra: builds authorization URLs, redeems codes with the managed-identity assertion, validates ID tokens.
 */
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
   * scope, authenticated by the first credential of the list that works (a fresh managed-identity token first).
   * Resolves with that credential's index and source type when Entra issues the token (with no permissions: the app
   * is granted none); throws the first credential's error (msal-node's or a ManagedIdentityError) otherwise.
   */
  proveTrustChain(): Promise<UsedCredential>;
}

const cryptoProvider = new CryptoProvider();

/** A new sign-in attempt: random 256-bit state and nonce, and a PKCE pair from msal-node's CryptoProvider. */
export async function newSignInAttempt(redirectUri: string): Promise<SignInAttempt> {
  const { verifier, challenge } = await cryptoProvider.generatePkceCodes();
  return { state: randomId(), nonce: randomId(), codeVerifier: verifier, codeChallenge: challenge, redirectUri };
}

/**
 * msal-node's configuration: the managed identity's token as the client assertion, and, for one user's request, that
 * user's cache partition and the authority's metadata (so creating the application costs no request).
 */
function msalConfiguration(
  options: SignInClientOptions,
  credential: AppClientCredential,
  extra: { document?: string; partition?: TokenCachePartition } = {},
): Configuration {
  const { config, assertion } = options;
  const host = new URL(config.instance).host;
  return {
    auth: {
      clientId: config.clientId,
      authority: config.authority,
      ...(credential.sourceType === CLIENT_SECRET_SOURCE
        ? { clientSecret: credential.secret() }
        : // Called on every token request (a refresh too), so the assertion is always a current managed-identity token.
          { clientAssertion: () => assertion.getAssertion() }),
      knownAuthorities: MICROSOFT_LOGIN_HOSTS.has(host.toLowerCase()) ? [] : [host],
      ...(extra.document ? { authorityMetadata: extra.document } : {}),
    },
    ...(extra.partition ? { cache: { cachePlugin: partitionPlugin(extra.partition) } } : {}),
    system: options.loggerOptions ? { loggerOptions: options.loggerOptions } : {},
  };
}

/**
 * The trust-chain proof: a client-credentials request for the cloud's Graph `.default` scope, straight to Entra and
 * with a managed-identity token fresh from the endpoint.
 */
async function proveTrustChain(
  cca: ConfidentialClientApplication,
  credential: AppClientCredential,
  graphScope: string,
  assertion: AssertionProvider,
): Promise<void> {
  const result = await cca.acquireTokenByClientCredential({
    scopes: [graphScope],
    // Always ask Entra: msal-node's cached app token would keep saying "ready" after the FIC broke.
    skipCache: true,
    // And with a token fresh from the endpoint: a cached one would hide an endpoint or identity that went away.
    ...(credential.sourceType === CLIENT_SECRET_SOURCE
      ? {}
      : { clientAssertion: () => assertion.getAssertion({ fresh: true }) }),
  });
  if (!result?.accessToken)
    throw new AuthError("empty_response", "", "Entra answered the client-credentials request without a token");
}

/** The authority's end-session URL returning to `postLogoutRedirectUri`, or undefined when it has none. */
function endSessionUrlOf(
  meta: AuthorityMetadata,
  clientId: string,
  postLogoutRedirectUri: string,
  loginHint?: string,
): string | undefined {
  if (!meta.endSessionEndpoint) return undefined;
  const url = new URL(meta.endSessionEndpoint);
  url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
  url.searchParams.set("client_id", clientId);
  if (loginHint) url.searchParams.set("logout_hint", loginHint);
  return url.href;
}

/**
 * Entra's answers that reject the client's credential itself, not the request: the next credential of the list may
 * work. Microsoft.Identity.Web does the same: on an invalid client certificate or signed assertion it skips that
 * credential and retries with the next (`IsInvalidClientCertificateOrSignedAssertionError` in
 * AzureAD/microsoft-identity-web, src/Microsoft.Identity.Web.TokenAcquisition/TokenAcquisition.cs). A credential
 * that cannot even be produced (the managed-identity endpoint fails) is skipped too, as its credential loader does.
 * Entra authenticates the client before it looks at the code, so a rejected credential leaves the code unredeemed.
 */
export function isCredentialRejection(error: unknown): boolean {
  if (error instanceof ManagedIdentityError) return true;
  return error instanceof AuthError && error.errorCode === "invalid_client";
}

/** The list's entries, or the managed identity alone for a config built without a list. */
function credentialList(config: AppConfig): readonly AppClientCredential[] {
  return config.clientCredentials?.length
    ? config.clientCredentials
    : [{ index: 0, sourceType: "SignedAssertionFromManagedIdentity" }];
}

/**
 * Runs `request` with each credential in order until one is not rejected (see {@link isCredentialRejection}); any
 * other error ends the walk. When all are rejected, the first one's error is thrown: it is the credential meant to
 * work.
 */
async function withFirstWorking<T>(
  credentials: readonly AppClientCredential[],
  request: (credential: AppClientCredential) => Promise<T>,
): Promise<{ value: T; used: UsedCredential }> {
  let first: unknown;
  for (const credential of credentials) {
    try {
      return { value: await request(credential), used: { index: credential.index, sourceType: credential.sourceType } };
    } catch (error) {
      if (!isCredentialRejection(error)) throw error;
      first ??= error;
    }
  }
  throw first;
}

export function createSignInClient(options: SignInClientOptions): SignInClient {
  const { config } = options;
  const credentials = credentialList(config);
  // One application per credential: builds authorization URLs and proves the trust chain; it caches no user's tokens.
  const ccas = new Map(credentials.map((c) => [c, new ConfidentialClientApplication(msalConfiguration(options, c))]));
  const cca = ccas.get(credentials[0]!)!;
  /**
   * An application for one request on one user's tokens (token-cache.ts says why): its cache is that partition, and
   * the authority's metadata is handed over, so creating it costs no request.
   */
  const forPartition = async (
    partition: TokenCachePartition,
    credential: AppClientCredential,
  ): Promise<ConfidentialClientApplication> =>
    new ConfidentialClientApplication(
      msalConfiguration(options, credential, { document: (await metadata()).document, partition }),
    );

  const { metadata, keys } = authorityKeys(config, options.jwksCooldownMs ?? 10_000);
  const graphScope = graphScopeForInstance(config.instance);
  const scopes = signInScopes(config);

  return {
    metadata,

    proveTrustChain: async () =>
      (await withFirstWorking(credentials, (c) => proveTrustChain(ccas.get(c)!, c, graphScope, options.assertion)))
        .used,

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
      const { value: result } = await withFirstWorking(credentials, async (credential) =>
        (await forPartition(partition, credential)).acquireTokenByCode(
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
        ),
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
      // A refresh presents the client's credential again: the first of the list that works.
      const { value: result } = await withFirstWorking(credentials, async (credential) => {
        const app = await forPartition(partition, credential);
        const account = await app.getTokenCache().getAccountByHomeId(homeAccountId);
        if (!account)
          throw new InteractionRequiredAuthError(
            "no_account_in_silent_request",
            "",
            "No tokens are kept for this session.",
          );
        return app.acquireTokenSilent({ account, scopes: [...config.graph.scopes] });
      });
      if (!result.accessToken)
        throw new InteractionRequiredAuthError("no_tokens_found", "", "Entra answered without an access token.");
      return result.accessToken;
    },

    async endSessionUrl(postLogoutRedirectUri, loginHint) {
      return endSessionUrlOf(await metadata(), config.clientId, postLogoutRedirectUri, loginHint);
    },
  };
}
