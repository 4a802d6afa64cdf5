/**
 * Client authentication with a managed-identity token as `client_assertion`, checked the way Entra checks a
 * federated identity credential (notes/entra-fic.md §1, §5.5 and §6).
 *
 * Order of checks, and the error each one yields:
 * 1. a parseable JWT                                    else AADSTS50027
 * 2. `iss` equals the FIC issuer exactly                 else AADSTS700211
 * 3. signature by a key in the emulator's JWKS (RS256)   else AADSTS700027
 * 4. `nbf` ≤ now ≤ `exp` (five minutes' clock skew)      else AADSTS700024
 * 5. `sub` equals the FIC subject, case-sensitively      else AADSTS7002138 (differs only in case) / AADSTS700213
 * 6. `aud` is a FIC audience (or its GUID alias)         else AADSTS700212
 * 7. an app-only managed-identity token (`idtyp: app`)   else AADSTS700229
 * 8. the `ficNotPropagated` fault                        then AADSTS70021
 * The issuer comes before the signature because Entra first has to find a FIC by issuer to know whose keys to use.
 */
import { compactVerify, decodeJwt, decodeProtectedHeader, type JWTPayload } from "jose";
import { EntraError } from "./errors";
import { nowSeconds, TOKEN_EXCHANGE_APP_ID, TOKEN_EXCHANGE_URI } from "./tokens";
import type { EmulatorContext } from "./types";

/** `client_assertion_type` for a JWT assertion (RFC 7523 §2.2). */
export const JWT_BEARER_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/** Tolerated clock difference between the assertion's issuer and the STS. */
const CLOCK_SKEW_SECONDS = 300;

/** Audience URIs whose tokens carry a GUID `aud` instead (only the public-cloud exchange GUID is known). */
const AUDIENCE_ALIASES: Record<string, string> = { [TOKEN_EXCHANGE_URI]: TOKEN_EXCHANGE_APP_ID };

/**
 * Validates a client assertion against the registration's FICs (`federatedCredentials`, default `[fic]`): Entra finds
 * the FIC by the assertion's issuer, then its subject, then checks the audience. Throws an {@link EntraError} on the
 * first failure.
 */
export async function validateClientAssertion(ctx: EmulatorContext, assertion: string): Promise<JWTPayload> {
  const fics = ctx.registration.federatedCredentials ?? [ctx.registration.fic];

  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw new EntraError("invalid_client", 50027, "JWT token is invalid or malformed.");
  }

  const noMatch = (what: string, value: unknown) =>
    `No matching federated identity record found for presented assertion ${what} '${String(value)}'. ` +
    "Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. " +
    "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

  const byIssuer = fics.filter((f) => (f.issuer ?? ctx.issuer) === claims.iss);
  if (byIssuer.length === 0) throw new EntraError("invalid_client", 700211, noMatch("issuer", claims.iss));

  const key = ctx.keys.find(header.kid);
  const signatureValid =
    header.alg === "RS256" &&
    key !== undefined &&
    (await compactVerify(assertion, key.publicKey).then(
      () => true,
      () => false,
    ));
  if (!signatureValid) throw new EntraError("invalid_client", 700027, "Client assertion failed signature validation.");

  const now = nowSeconds();
  const nbf = claims.nbf ?? claims.iat ?? 0;
  if (typeof claims.exp !== "number" || now > claims.exp + CLOCK_SKEW_SECONDS || now < nbf - CLOCK_SKEW_SECONDS) {
    const iso = (s: number | undefined) => (typeof s === "number" ? new Date(s * 1000).toISOString() : "(none)");
    throw new EntraError(
      "invalid_client",
      700024,
      `Client assertion is not within its valid time range. Current time: ` +
        `${iso(now)}, assertion valid from ${iso(nbf)}, ` +
        `expiry time of assertion ${iso(claims.exp)}. Review the documentation at ` +
        "https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
    );
  }

  const bySubject = byIssuer.filter((f) => f.subject === claims.sub);
  if (bySubject.length === 0) {
    const sub = typeof claims.sub === "string" ? claims.sub.toLowerCase() : undefined;
    if (byIssuer.some((f) => f.subject.toLowerCase() === sub)) {
      throw new EntraError(
        "invalid_client",
        7002138,
        `${noMatch("subject", claims.sub)} The subject matches a federated identity credential only when compared ` +
          "case-insensitively; subjects are compared case-sensitively.",
      );
    }
    throw new EntraError("invalid_client", 700213, noMatch("subject", claims.sub));
  }

  const accepted = bySubject.flatMap((f) =>
    f.audiences.flatMap((a) => [a, ...(AUDIENCE_ALIASES[a] ? [AUDIENCE_ALIASES[a]] : [])]),
  );
  const audiences = ([] as unknown[]).concat(claims.aud ?? []);
  if (!audiences.some((a) => typeof a === "string" && accepted.includes(a))) {
    throw new EntraError("invalid_client", 700212, noMatch("audience", audiences.join(",")));
  }

  if (claims.idtyp !== "app") {
    throw new EntraError(
      "invalid_client",
      700229,
      "Forbidden token type: only app-only tokens issued to a managed identity (idtyp 'app') can be used as a " +
        "federated identity credential for an Entra issuer.",
    );
  }

  if (ctx.faults.ficNotPropagated) {
    throw new EntraError(
      "invalid_client",
      70021,
      `No matching federated identity record found for presented assertion. Assertion Issuer: '${claims.iss}'. ` +
        `Assertion Subject: '${claims.sub}'. Assertion Audience: '${audiences.join(",")}'. ` +
        "https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
    );
  }
  return claims;
}
