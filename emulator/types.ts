/**
 * Public types of the Entra ID + App Service managed-identity emulator (re-exported by `emulator/index.ts`).
 */
import type { SigningKeys } from "./keys";

/** The test user the emulator signs in without asking (there is no login form). */
export interface EmulatorUser {
  /** Object id: the `oid` claim. */
  oid: string;
  /** Display name: the `name` claim. */
  name: string;
  /** Sign-in name: the `preferred_username` claim, also matched against `login_hint`; Graph's `userPrincipalName`. */
  preferredUsername: string;
  /** Graph `/me` `mail`; null for a user without a mailbox. Default: `preferredUsername`. */
  mail?: string | null;
  /** Graph `/me` `jobTitle`; null when unset. Default: "Mathematician". */
  jobTitle?: string | null;
}

/**
 * A federated identity credential on the app registration. The MI token presented as `client_assertion` must match
 * it exactly, as Entra requires (notes/entra-fic.md §1).
 */
export interface FederatedIdentityCredential {
  /** FIC name (informational). */
  name: string;
  /** Expected `iss`. Defaults to the emulator's own issuer, `${instance}${tenantId}/v2.0`, like Entra's formula. */
  issuer?: string;
  /** Expected `sub`, compared case-sensitively: the managed identity's principal (object) id, not its client id. */
  subject: string;
  /** Accepted audiences; `api://AzureADTokenExchange` also accepts its GUID alias, which MI tokens carry in `aud`. */
  audiences: string[];
}

/** The app registration, its FIC and the user-assigned managed identity (UAMI) the FIC trusts. */
export interface EmulatorRegistration {
  /** Directory (tenant) id, a GUID. Fixed once the emulator has started. */
  tenantId: string;
  /** The app registration's client (application) id, a GUID. */
  clientId: string;
  /** The registration's display name, as Entra's consent errors name it. Default "Secretless sample app". */
  displayName?: string;
  /**
   * Object id of the registration's service principal (enterprise application) in the tenant: the `oid` and `sub` of
   * the app-only tokens the client-credentials grant issues.
   */
  servicePrincipalId: string;
  /** Web-platform redirect URIs, matched exactly (scheme, host, port, path, case). */
  redirectUris: string[];
  /**
   * Allowed `post_logout_redirect_uri` values. When unset, computed on each request from `redirectUris`: each redirect
   * URI itself and its origin followed by "/".
   */
  postLogoutRedirectUris?: string[];
  /**
   * The app's front-channel logout URL; when set, the signed-out page loads it in an `<iframe>` as Entra does, with
   * `iss` and the ended session's `sid` added to its query (OpenID Connect Front-Channel Logout 1.0).
   */
  frontChannelLogoutUrl?: string;
  /** The federated identity credential. */
  fic: FederatedIdentityCredential;
  /** The user-assigned managed identity attached to the "App Service". */
  uami: {
    /** Client id: what the app passes as `client_id` to the MI endpoint (`ManagedIdentityClientId`). */
    clientId: string;
    /** Principal (object) id: the MI token's `sub`/`oid`, and what the FIC subject must be. */
    principalId: string;
    /** ARM resource id (`mi_res_id`). */
    resourceId: string;
  };
  /** The user every sign-in selects. */
  user: EmulatorUser;
}

/**
 * Registration values to override. Nested objects (`fic`, `uami`, `user`) are merged with the defaults, so
 * `{ fic: { subject: "…" } }` changes only the subject.
 */
export type RegistrationOverrides = Partial<Omit<EmulatorRegistration, "fic" | "uami" | "user">> & {
  fic?: Partial<FederatedIdentityCredential>;
  uami?: Partial<EmulatorRegistration["uami"]>;
  user?: Partial<EmulatorUser>;
};

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** Registration values to override (see {@link RegistrationOverrides}). */
  registration?: RegistrationOverrides;
  /** HTTPS port of the Entra endpoints. Default 0 (any free port). */
  port?: number;
  /** HTTP port of the MI endpoint. Default 0 (any free port). */
  miPort?: number;
  /** Lifetime of MI tokens in seconds. Default 86400 (24 h, like App Service). */
  tokenLifetimeSeconds?: number;
  /**
   * Lifetime of the user's (Graph) access tokens and the `expires_in` of user-grant responses, in seconds. Default
   * 3599, like Entra. Live afterwards as {@link RunningEmulator.accessTokenLifetimeSeconds}.
   */
  accessTokenLifetimeSeconds?: number;
}

/** Make the MI endpoint answer with an HTTP error, as during a platform incident. */
export interface ManagedIdentityFault {
  /** Status to answer with, e.g. 500, 503 or 429 (msal-node retries 404/408/429/500/503/504). */
  status: number;
  /** Adds a `Retry-After` header (seconds). */
  retryAfterSeconds?: number;
  /** Fail this many requests, then clear the fault (`faults.mi` becomes null). Default: fail until cleared. */
  times?: number;
}

/** Make the Graph stand-in answer with an HTTP error (same shape as {@link ManagedIdentityFault}). */
export type GraphFault = ManagedIdentityFault;

/**
 * Fault-injection switches. The object is live: set a field at any time and the next request sees it.
 */
export interface EmulatorFaults {
  /** MI endpoint answers `{statusCode, message, correlationId}` with this status. Default null. */
  mi: ManagedIdentityFault | null;
  /** MI endpoint resets every connection (the client sees ECONNRESET / "fetch failed") until set back to false. */
  miDown: boolean;
  /**
   * The Graph stand-in (`graphBaseUrl`) answers every request with this status and Graph's error body
   * (`serviceNotAvailable`, `generalException`, …), e.g. `{ status: 503, retryAfterSeconds: 2 }`. Default null.
   */
  graph: GraphFault | null;
  /** The Graph stand-in drops every request without an answer (the client sees "fetch failed") until set back. */
  graphDown: boolean;
  /**
   * Nobody has consented to the app's Microsoft Graph permissions. A sign-in asking for a Graph scope is sent back to
   * the app with `error=consent_required` and AADSTS65001 (the emulator's sign-in is always silent, and Entra answers a
   * silent request so); a code or refresh-token redemption asking for one gets 400 `invalid_grant`, AADSTS65001,
   * `suberror: consent_required` (msal-node: InteractionRequiredAuthError). Sign-ins with only the OpenID scopes work
   * and get an access token without Graph permissions. Default false.
   */
  consentMissing: boolean;
  /**
   * Token endpoint rejects otherwise valid assertions with AADSTS70021 "No matching federated identity record found",
   * which is what Entra answers for a few minutes after a FIC is created (propagation delay).
   */
  ficNotPropagated: boolean;
  /**
   * Token endpoint outage. `true`: the connection is dropped without an answer. `"503"`: it answers 503
   * `temporarily_unavailable` (AADSTS90033) with `Retry-After: 1` — note msal-node then throttles an identical
   * request client-side for the Retry-After time. Other endpoints keep working.
   */
  tokenEndpointDown: boolean | "503";
  /**
   * Authorize endpoint sends this error back to the app instead of a code (after client and redirect URI checks),
   * e.g. `{ error: "access_denied", description: "AADSTS65004: User declined to consent to access the app." }`.
   */
  authorizeError: { error: string; description: string } | null;
}

/**
 * What the `id_token` in token responses looks like. Every mode other than "valid" breaks exactly one check an
 * app must make (OIDC Core §3.1.3.7):
 * - "bad-signature": signed by a stranger's key under the current `kid`;
 * - "alg-none": unsigned (`alg: none`);
 * - "wrong-iss": `iss` is the v1 issuer `https://sts.windows.net/{tid}/`;
 * - "wrong-aud": `aud` is another app's client id;
 * - "wrong-tid": `tid` is another tenant (issuer unchanged);
 * - "expired": `exp` an hour ago;
 * - "nonce-mismatch": `nonce` differs from the one sent to /authorize;
 * - "unknown-kid": signed by a key whose `kid` is not in the JWKS;
 * - "missing-sub": no `sub` claim.
 */
export type IdTokenMode =
  | "valid"
  | "bad-signature"
  | "alg-none"
  | "wrong-iss"
  | "wrong-aud"
  | "wrong-tid"
  | "expired"
  | "nonce-mismatch"
  | "unknown-kid"
  | "missing-sub";

/** Options for {@link RunningEmulator.mintManagedIdentityToken}. */
export interface MintManagedIdentityTokenOptions {
  /** Resource the token is "for"; default `api://AzureADTokenExchange` (aud = its GUID alias). */
  resource?: string;
  /** Seconds from `iat` to `exp`; default the emulator's `tokenLifetimeSeconds`. */
  lifetimeSeconds?: number;
  /** Shifts `iat`/`nbf` from now, in seconds (negative = in the past). Default 0. */
  issuedAtOffsetSeconds?: number;
  /** Claims to add or replace; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
}

/** Options for {@link RunningEmulator.mintGraphAccessToken}. */
export interface MintGraphAccessTokenOptions {
  /** The `scp` claim. Default "openid profile User.Read email", as Entra issues it for `User.Read`. */
  scp?: string;
  /** Default Graph's app id `00000003-0000-0000-c000-000000000000` (the form short scopes such as `User.Read` get). */
  audience?: string;
  /** Seconds from `iat` to `exp`; default the emulator's `accessTokenLifetimeSeconds`. */
  lifetimeSeconds?: number;
  /** Shifts `iat`/`nbf` from now, in seconds (negative = in the past). Default 0. */
  issuedAtOffsetSeconds?: number;
  /** Claims to add or replace; a claim set to `undefined` is removed. */
  claims?: Record<string, unknown>;
}

/** Counters, for tests that assert how often something was called. */
export interface EmulatorStats {
  /** Requests to the MI endpoint's /msi/token (including failed ones). */
  miRequests: number;
  /** Requests to the token endpoint (including failed ones). */
  tokenRequests: number;
  /**
   * Token requests with `grant_type=client_credentials` (including failed ones, and those an outage fault dropped),
   * e.g. to prove that an app's readiness probe single-flights its trust-chain check.
   */
  clientCredentialsRequests: number;
  /** Requests to the authorize endpoint (including failed ones). */
  authorizeRequests: number;
  /** Token requests with `grant_type=refresh_token` (including failed ones and dropped ones), e.g. silent refreshes. */
  refreshTokenRequests: number;
  /** Requests to the Graph stand-in (including rejected ones and those a fault failed or dropped). */
  graphRequests: number;
}

/** A started emulator. Close it when done. */
export interface RunningEmulator {
  /** `https://localhost:<port>/`, with a trailing slash like `https://login.microsoftonline.com/`. */
  instance: string;
  /** The registration's tenant id. */
  tenantId: string;
  /** `${instance}${tenantId}`: the authority msal-node is given. */
  authority: string;
  /** `${instance}${tenantId}/v2.0`: the `iss` of every token, and the FIC's default issuer. */
  issuer: string;
  /** The self-signed TLS certificate (SAN DNS:localhost, IP:127.0.0.1, IP:::1), PEM. */
  caCertPem: string;
  /** Path of a temp file holding `caCertPem` (for `NODE_EXTRA_CA_CERTS`); removed on close. */
  caCertPath: string;
  /** `http://127.0.0.1:<miPort>/msi/token` (plain http, like App Service's IDENTITY_ENDPOINT). */
  identityEndpoint: string;
  /** The value the MI endpoint expects in `X-IDENTITY-HEADER`; random per start. */
  identityHeader: string;
  /**
   * The resolved registration (defaults filled in). It is live: change `redirectUris`, `frontChannelLogoutUrl`,
   * `fic` … at any time (e.g. once the app's port is known) and the next request sees it.
   */
  registration: EmulatorRegistration;
  /** Replaces `registration.redirectUris`: the usual call once an app listening on port 0 knows its URL. */
  setRedirectUris(redirectUris: string[]): void;
  /**
   * The environment a sample app needs to run against this emulator: `AzureAd__*` settings (contract/settings.ts),
   * `IDENTITY_ENDPOINT`, `IDENTITY_HEADER` and `NODE_EXTRA_CA_CERTS`. `callbackPath` defaults to "/signin-oidc".
   */
  appEnv(opts?: { callbackPath?: string }): Record<string, string>;
  /** Live fault-injection switches, all off at start. */
  faults: EmulatorFaults;
  /** Live: the shape of the next `id_token`s. "valid" at start. */
  idTokenMode: IdTokenMode;
  /**
   * Turns every misbehaviour off again: `faults` back to their start values (in place), `idTokenMode` to "valid" and
   * `accessTokenLifetimeSeconds` to its start value.
   */
  resetFaults(): void;
  /** Makes a new signing key current; the previous ones stay in the JWKS for two more rotations. */
  rotateKeys(): Promise<void>;
  /**
   * Signs an MI token exactly as the MI endpoint would, with optional changes (past `exp`, other claims), for
   * testing client-assertion rejections without waiting.
   */
  mintManagedIdentityToken(options?: MintManagedIdentityTokenOptions): Promise<string>;
  /**
   * `${instance}graph/v1.0`: the Microsoft Graph stand-in, the value for `DownstreamApis__MicrosoftGraph__BaseUrl`
   * (Graph's own is `https://graph.microsoft.com/v1.0`). It serves `GET /me`, checking the access token as Graph does.
   */
  graphBaseUrl: string;
  /** Live: lifetime in seconds of the user access tokens issued from now on (see {@link EmulatorOptions}). */
  accessTokenLifetimeSeconds: number;
  /**
   * Revokes the refresh tokens issued so far, of one user (by object id) or of everyone, like Graph's
   * `revokeSignInSessions`: redeeming one answers 400 `invalid_grant` AADSTS50173, and the user's IdP session ends.
   * Returns how many refresh tokens it revoked. Tokens issued afterwards work.
   */
  revokeRefreshTokens(userOid?: string): number;
  /**
   * Signs a delegated Graph access token for the registration's user exactly as the token endpoint would, with
   * optional changes (past `exp`, other `aud` or `scp`), for testing how the Graph stand-in and an app react.
   */
  mintGraphAccessToken(options?: MintGraphAccessTokenOptions): Promise<string>;
  /** Request counters. */
  stats: EmulatorStats;
  /** Stops both servers (dropping open connections) and deletes the certificate file. */
  close(): Promise<void>;
}

/**
 * What request handlers need from the running emulator. Internal: the public surface is {@link RunningEmulator}.
 * @internal
 */
export interface EmulatorContext {
  readonly instance: string;
  readonly tenantId: string;
  readonly issuer: string;
  readonly identityHeader: string;
  readonly registration: EmulatorRegistration;
  readonly faults: EmulatorFaults;
  readonly idTokenMode: IdTokenMode;
  readonly stats: EmulatorStats;
  readonly keys: SigningKeys;
  readonly tokenLifetimeSeconds: number;
  readonly accessTokenLifetimeSeconds: number;
}
