/**
 * What the Entra endpoints share: the running emulator, the codes and refresh tokens they issued, and the IdP's
 * sign-in session (the emulator's one "browser").
 */
import type { ServerResponse } from "node:http";
import type { Request } from "../http";
import type { EmulatorContext, EmulatorUser } from "../types";

/** An authorization code, single-use, bound to the request that asked for it. */
export interface AuthorizationCode {
  clientId: string;
  redirectUri: string;
  scope: string;
  nonce?: string;
  codeChallenge?: string;
  codeChallengeMethod?: "S256" | "plain";
  user: EmulatorUser;
  expiresAt: number;
  redeemed: boolean;
}

/** What a refresh token stands for. */
export interface RefreshGrant {
  clientId: string;
  scope: string;
  user: EmulatorUser;
  expiresAt: number;
}

/** The one state object every Entra endpoint reads and writes. */
export interface EntraState {
  readonly ctx: EmulatorContext;
  readonly codes: Map<string, AuthorizationCode>;
  readonly refreshTokens: Map<string, RefreshGrant>;
  /** The user signed in at the IdP: set by a sign-in, cleared by logout; `prompt=none` needs it. */
  signedInUser: EmulatorUser | null;
}

/** An Entra endpoint: a route handler that also gets the shared state. */
export type EntraHandler = (state: EntraState, req: Request, res: ServerResponse) => Promise<void> | void;

export function createEntraState(ctx: EmulatorContext): EntraState {
  return { ctx, codes: new Map(), refreshTokens: new Map(), signedInUser: null };
}

/** Whether a path's tenant segment names the emulator's tenant; case-insensitive, as msal-node lower-cases it. */
export function tenantMatches(state: EntraState, segment: string | undefined): boolean {
  return segment?.toLowerCase() === state.ctx.tenantId.toLowerCase();
}

/** The caller's `client-request-id` (query or header), which Entra echoes as the correlation id. */
export function correlationIdOf(req: Request): string {
  return req.url.searchParams.get("client-request-id") ?? String(req.raw.headers["client-request-id"] ?? "");
}
