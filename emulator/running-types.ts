/**
 * Public types of starting and driving the emulator: its options, the running emulator's API, the token-minting
 * options and the request counters (re-exported by `types.ts`).
 */
import type { EmulatorFaults, IdTokenMode } from "./fault-types";
import type { SelfSignedCertificate } from "./certificate";
import type { EmulatorRegistration, RegistrationOverrides } from "./registration-types";

/** Options for {@link startEmulator}. */
export interface EmulatorOptions {
  /** Registration values to override (see {@link RegistrationOverrides}). */
  registration?: RegistrationOverrides;
  /** HTTPS port of the Entra endpoints. Default 0 (any free port). */
  port?: number;
  /** HTTP port of the MI endpoint. Default 0 (any free port). */
  miPort?: number;
  /**
   * The TLS certificate and key of the Entra endpoints, e.g. one kept from an earlier run so a browser's exception
   * for it still holds (`npm run dev` keeps one under `.local-dev/`). Default: a new one for each start.
   */
  certificate?: SelfSignedCertificate;
  /** Lifetime of MI tokens in seconds. Default 86400 (24 h, like App Service). */
  tokenLifetimeSeconds?: number;
  /**
   * Lifetime of the user's (Graph) access tokens and the `expires_in` of user-grant responses, in seconds. Default
   * 3599, like Entra. Live afterwards as {@link RunningEmulator.accessTokenLifetimeSeconds}.
   */
  accessTokenLifetimeSeconds?: number;
}

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

/**
 * Options for {@link RunningEmulator.mintOperatorToken}: the access token an operator's tool (Azure CLI,
 * `DefaultAzureCredential`) gets for Microsoft Graph or Azure Resource Manager.
 */
export interface MintOperatorTokenOptions {
  /** The resource (`aud`), e.g. `https://graph.microsoft.com` or a Resource Manager URL; `/.default` is dropped. */
  resource: string;
  /** The operator's object id (`oid`, `sub`). */
  oid: string;
  /** A delegated token's `scp` (space-separated), e.g. "Application.ReadWrite.All". */
  scp?: string;
  /** An app-only token's `roles` (then `idtyp` is `app`). */
  roles?: string[];
  /** Directory role template ids (`wids`), e.g. Application Administrator's. */
  wids?: string[];
  /** Seconds from `iat` to `exp`. Default 3599. */
  lifetimeSeconds?: number;
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
  /**
   * Signs an operator's access token for a resource, as Entra issues one to the Azure CLI (v1.0 shape: `iss`
   * `https://sts.windows.net/{tid}/`, `appid` = the Azure CLI's client id). The Graph stand-in and the fake ARM
   * (local/fake-arm.ts) accept it, each checking its own permission model.
   */
  mintOperatorToken(options: MintOperatorTokenOptions): Promise<string>;
  /**
   * Verifies an access token as a resource server of this tenant would: signature by a key of the JWKS, issuer
   * (`https://sts.windows.net/{tid}/`), `audience` (any of them), lifetime with five minutes' skew. Throws jose's
   * error otherwise; resolves with the claims.
   */
  verifyAccessToken(token: string, audience: string | string[]): Promise<Record<string, unknown>>;
  /** Request counters. */
  stats: EmulatorStats;
  /** Stops both servers (dropping open connections) and deletes the certificate file. */
  close(): Promise<void>;
}
