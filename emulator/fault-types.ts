/**
 * Public types of the emulator's misbehaviour switches: fault injection and the `id_token` modes (re-exported by
 * `types.ts`).
 */

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
