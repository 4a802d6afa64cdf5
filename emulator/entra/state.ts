/**
 * What the Entra endpoints share: the running emulator, the codes and refresh tokens they issued, and the IdP's
 * sign-in session (the emulator's one "browser").
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import type { Request } from "../http";
import type { EmulatorContext, EmulatorUser } from "../types";

/** An authorization code, single-use, bound to the request that asked for it. */
interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  user: EmulatorUser;
  /** The sign-in session the code was issued in; its ID tokens carry it as `sid`. */
  sid: string;
  expiresAt: number;
  redeemed: boolean;
}

/** What a refresh token stands for. */
interface RefreshGrant {
  clientId: string;
  scope: string;
  user: EmulatorUser;
  sid: string;
  /** When it was issued, in epoch milliseconds (Entra's AADSTS50173 message names it). */
  issuedAt: number;
  expiresAt: number;
  /** When it was revoked, in epoch milliseconds; set by {@link revokeRefreshTokens}. */
  revokedAt?: number;
}

/**
 * The IdP's sign-in session, as Entra keeps it in its own cookie: the user and the session id that ID tokens carry as
 * `sid` and that logout sends to the app's front-channel logout URL (OpenID Connect Front-Channel Logout 1.0).
 */
interface SignInSession {
  user: EmulatorUser;
  sid: string;
}

/** The one state object every Entra endpoint reads and writes. */
export interface EntraState {
  readonly ctx: EmulatorContext;
  readonly codes: Map<string, AuthorizationCode>;
  readonly refreshTokens: Map<string, RefreshGrant>;
  /** Started by a sign-in, ended by logout; `prompt=none` needs it. */
  session: SignInSession | null;
}

/** An Entra endpoint: a route handler that also gets the shared state. */
export type EntraHandler = (state: EntraState, req: Request, res: ServerResponse) => Promise<void> | void;

export function createEntraState(ctx: EmulatorContext): EntraState {
  return { ctx, codes: new Map(), refreshTokens: new Map(), session: null };
}

/** The open sign-in session (single sign-on: a second sign-in keeps its `sid`), or a new one for `user`. */
export function signInSession(state: EntraState, user: EmulatorUser): SignInSession {
  state.session ??= { user, sid: randomUUID() };
  return state.session;
}

/** Whether a path's tenant segment names the emulator's tenant; case-insensitive, as msal-node lower-cases it. */
export function tenantMatches(state: EntraState, segment: string | undefined): boolean {
  return segment?.toLowerCase() === state.ctx.tenantId.toLowerCase();
}

/** The caller's `client-request-id` (query or header), which Entra echoes as the correlation id. */
export function correlationIdOf(req: Request): string {
  return req.url.searchParams.get("client-request-id") ?? String(req.raw.headers["client-request-id"] ?? "");
}

/**
 * Revokes the refresh tokens of one user (object id, case-insensitive) or of everyone and ends their IdP session, as
 * Graph's `revokeSignInSessions` does. Returns how many refresh tokens it revoked.
 */
export function revokeRefreshTokens(state: EntraState, userOid?: string): number {
  const affects = (user: EmulatorUser) => userOid === undefined || user.oid.toLowerCase() === userOid.toLowerCase();
  const now = Date.now();
  let revoked = 0;
  for (const grant of state.refreshTokens.values()) {
    if (grant.revokedAt === undefined && affects(grant.user)) {
      grant.revokedAt = now;
      revoked++;
    }
  }
  if (state.session && affects(state.session.user)) state.session = null;
  return revoked;
}
