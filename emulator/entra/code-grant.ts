/**
 * The user grants of the token endpoint: redeeming an authorization code (with its PKCE verifier) and a refresh token,
 * each answered with access, ID and (for offline_access) refresh tokens.
 */
import { createHash, randomBytes } from "node:crypto";
import { EntraError, requiredParameter as required } from "../errors";
import { grantedScopes, parseScopes, scopeError } from "../scopes";
import { mintGraphAccessToken, mintIdToken, nowSeconds } from "../tokens";
import type { EmulatorUser } from "../types";
import type { EntraState } from "./state";

/** Refresh-token lifetime (Entra's default for web apps is 90 days). */
const REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 3600;

/** What a grant hands on to the tokens it issues. */
interface UserGrant {
  clientId: string;
  scope: string;
  user: EmulatorUser;
  sid: string;
  nonce?: string | undefined;
}

export async function redeemCode(state: EntraState, form: URLSearchParams): Promise<Record<string, unknown>> {
  const code = required(form, "code");
  const redirectUri = required(form, "redirect_uri");
  const record = state.codes.get(code);
  if (record?.redeemed) {
    throw new EntraError(
      "invalid_grant",
      54005,
      "OAuth2 Authorization code was already redeemed, please retry with a " +
        "new valid code or use an existing refresh token.",
    );
  }
  if (!record || nowSeconds() > record.expiresAt) {
    throw new EntraError(
      "invalid_grant",
      70008,
      "The provided authorization code or refresh token has expired due to inactivity. Send a new " +
        "interactive authorization request for this user and resource.",
    );
  }
  if (record.clientId.toLowerCase() !== form.get("client_id")!.toLowerCase()) {
    throw new EntraError(
      "invalid_grant",
      70000,
      "The provided value for the 'code' parameter is not valid: it was issued to another application.",
    );
  }
  if (record.redirectUri !== redirectUri) {
    throw new EntraError(
      "invalid_grant",
      500112,
      `The reply address '${redirectUri}' does not match the reply address ` +
        `'${record.redirectUri}' provided when requesting Authorization code.`,
    );
  }
  if (record.codeChallenge !== undefined) {
    const verifier = form.get("code_verifier") ?? "";
    const derived =
      record.codeChallengeMethod === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
    if (derived !== record.codeChallenge) {
      throw new EntraError(
        "invalid_grant",
        501481,
        "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
      );
    }
  }
  record.redeemed = true;
  const { clientId, user, sid, nonce } = record;
  return issueTokens(state, form, { clientId, scope: form.get("scope") ?? record.scope, user, sid, nonce });
}

export async function redeemRefreshToken(state: EntraState, form: URLSearchParams): Promise<Record<string, unknown>> {
  const record = state.refreshTokens.get(required(form, "refresh_token"));
  if (!record) {
    throw new EntraError(
      "invalid_grant",
      9002313,
      "Invalid request. Request is malformed or invalid. - The reason: the refresh token is not valid.",
    );
  }
  if (record.clientId.toLowerCase() !== form.get("client_id")!.toLowerCase()) {
    throw new EntraError("invalid_grant", 70000, "The provided refresh token was issued to another application.");
  }
  if (nowSeconds() > record.expiresAt) {
    throw new EntraError("invalid_grant", 700082, "The refresh token has expired due to inactivity.");
  }
  if (record.revokedAt !== undefined) {
    // Entra's timestamps here carry seven fractional digits.
    const iso = (ms: number) => new Date(ms).toISOString().replace("Z", "0000Z");
    throw new EntraError(
      "invalid_grant",
      50173,
      "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have " +
        `changed or reset their password. The grant was issued on '${iso(record.issuedAt)}' and the TokensValidFrom ` +
        `date (before which tokens are not valid) for this user is '${iso(record.revokedAt)}'.`,
    );
  }
  const { clientId, user, sid } = record;
  return issueTokens(state, form, { clientId, scope: form.get("scope") ?? record.scope, user, sid });
}

async function issueTokens(
  state: EntraState,
  form: URLSearchParams,
  grant: UserGrant,
): Promise<Record<string, unknown>> {
  const { ctx } = state;
  const requested = [...new Set(grant.scope.split(" ").filter(Boolean))];
  const sorted = parseScopes(grant.scope);
  const refused = scopeError(ctx, sorted);
  if (refused) throw refused;
  const { scp, scope } = grantedScopes(sorted, !ctx.faults.consentMissing);
  const { token, lifetimeSeconds } = await mintGraphAccessToken(ctx, {
    user: grant.user,
    clientId: grant.clientId,
    sid: grant.sid,
    options: { scp, audience: sorted.audience },
  });
  const body: Record<string, unknown> = {
    token_type: "Bearer",
    scope,
    expires_in: lifetimeSeconds,
    ext_expires_in: lifetimeSeconds,
    access_token: token,
  };
  if (requested.includes("offline_access")) {
    const refreshToken = `1.${randomBytes(48).toString("base64url")}`;
    state.refreshTokens.set(refreshToken, {
      clientId: grant.clientId,
      scope: requested.join(" "),
      user: grant.user,
      sid: grant.sid,
      issuedAt: Date.now(),
      expiresAt: nowSeconds() + REFRESH_TOKEN_TTL_SECONDS,
    });
    body.refresh_token = refreshToken;
  }
  if (requested.includes("openid")) {
    body.id_token = await mintIdToken(ctx, {
      user: grant.user,
      clientId: grant.clientId,
      sid: grant.sid,
      ...(grant.nonce !== undefined && { nonce: grant.nonce }),
      mode: ctx.idTokenMode,
    });
  }
  // msal-node asks for client_info=1 and derives its home account id (uid.utid) from it.
  if (form.get("client_info") === "1") {
    body.client_info = Buffer.from(JSON.stringify({ uid: grant.user.oid, utid: ctx.tenantId })).toString("base64url");
  }
  return body;
}
