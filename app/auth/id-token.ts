import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";

/** What a valid ID token from this app's tenant must say (OpenID Connect Core 3.1.3.7, plus Entra's `tid`). */
export interface IdTokenExpectations {
  /** Exact `iss`: `${Instance}${tenant GUID}/v2.0`. */
  readonly issuer: string;
  /** `aud` must be the app's client ID. */
  readonly audience: string;
  /** `tid` must be this tenant GUID. */
  readonly tenantId: string;
  /** `nonce` must be the one sent with this sign-in attempt. */
  readonly nonce: string;
  /** Allowed clock skew for `exp`/`nbf`/`iat`. Defaults to 60 seconds. */
  readonly clockToleranceSeconds?: number;
  /** "Now", for tests. */
  readonly currentDate?: Date;
}

/**
 * The ID token was rejected; `reason` says which check failed and is safe to show (no token content beyond claim
 * names).
 */
export class IdTokenError extends Error {
  constructor(readonly reason: string) {
    super(`ID token rejected: ${reason}`);
    this.name = "IdTokenError";
  }
}

/** Entra signs ID tokens with RS256; anything else (including "none") is refused before any key is looked up. */
const ALGORITHMS = ["RS256"];

/**
 * Verifies an ID token's signature against the authority's keys and checks its claims. msal-node only decodes the
 * ID token (it checks the nonce and nothing else), so this is the app's only real check of who signed in.
 */
export async function validateIdToken(
  idToken: string,
  keys: JWTVerifyGetKey,
  expected: IdTokenExpectations,
): Promise<JWTPayload> {
  let alg: string | undefined;
  try {
    alg = decodeProtectedHeader(idToken).alg;
  } catch {
    throw new IdTokenError("it is not a well-formed JWT");
  }
  if (!alg || !ALGORITHMS.includes(alg)) {
    throw new IdTokenError(`it is signed with algorithm "${alg ?? "(none)"}"; only RS256 is accepted`);
  }

  const toleranceSeconds = expected.clockToleranceSeconds ?? 60;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keys, {
      algorithms: ALGORITHMS,
      issuer: expected.issuer,
      audience: expected.audience,
      clockTolerance: toleranceSeconds,
      requiredClaims: ["iss", "aud", "exp", "iat", "sub"],
      ...(expected.currentDate ? { currentDate: expected.currentDate } : {}),
    }));
  } catch (error) {
    throw new IdTokenError(explain(error, expected));
  }

  // OIDC Core 3.1.3.7 (4, 5): with a list of audiences, `azp` must be present; when present, it must be this client.
  if ((Array.isArray(payload.aud) || payload.azp !== undefined) && payload.azp !== expected.audience) {
    throw new IdTokenError(
      payload.azp === undefined
        ? "its audience is a list and it names no authorized party (azp)"
        : `its authorized party (azp "${String(payload.azp)}") is not this app's client ID "${expected.audience}"`,
    );
  }
  // jose checks `iat` is a number, not that it is in the past (only with maxTokenAge): a token from the future is
  // forged
  // or comes from a clock that cannot be trusted.
  const now = Math.floor((expected.currentDate ?? new Date()).getTime() / 1000);
  if (typeof payload.iat === "number" && payload.iat > now + toleranceSeconds) {
    throw new IdTokenError("its issued-at time (iat) is in the future");
  }
  if (payload.tid !== expected.tenantId) {
    throw new IdTokenError(`its tenant (tid "${String(payload.tid)}") is not this app's tenant "${expected.tenantId}"`);
  }
  if (payload.nonce !== expected.nonce) {
    throw new IdTokenError("its nonce does not match this sign-in attempt (replayed or injected token)");
  }
  if (payload.ver !== undefined && payload.ver !== "2.0") {
    throw new IdTokenError(`it is a v${String(payload.ver)} token; the v2.0 endpoint was expected`);
  }
  return payload;
}

function explain(error: unknown, expected: IdTokenExpectations): string {
  if (error instanceof errors.JWTExpired) return "it has expired (exp is in the past)";
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case "iss":
        return `its issuer is not "${expected.issuer}"`;
      case "aud":
        return `its audience is not this app's client ID "${expected.audience}"`;
      case "nbf":
        return "it is not valid yet (nbf is in the future)";
      case "iat":
        return "its issued-at time (iat) is invalid";
      default:
        return `claim "${error.claim}" is invalid (${error.reason})`;
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return "its signature does not verify with the authority's keys";
  if (error instanceof errors.JWKSNoMatchingKey) return "it is signed with a key (kid) the authority does not publish";
  if (error instanceof errors.JOSEAlgNotAllowed) return "it is signed with an algorithm other than RS256";
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JOSEError) {
    return `it could not be verified (${error.code})`;
  }
  return "it could not be verified (the authority's keys could not be fetched)";
}
