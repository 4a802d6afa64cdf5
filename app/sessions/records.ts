/** What the app keeps server-side for a signed-in user and for a sign-in in progress, and the stores holding them. */
import type { JWTPayload } from "jose";
import type { SignInAttempt } from "../auth/oidc";
import type { Stores } from "../stores/types";
import type { TrustChain } from "../views";

/**
 * A signed-in user's server-side session. The cookie carries only its random id. Every field is JSON-serialisable:
 * a shared store writes the record whole (see `Sessions.save`, decorators.ts).
 */
export interface Session {
  readonly id: string;
  readonly claims: JWTPayload;
  /** Per-session token the sign-out form must echo (CSRF). */
  readonly csrfToken: string;
  /** Entra's session id (`sid` claim), for front-channel logout. */
  readonly sid?: string;
  readonly loginHint?: string;
  readonly trust: TrustChain;
  /** msal-node's account id (`uid.utid`) of the user, to find their tokens in {@link Session.tokenCache}. */
  readonly homeAccountId?: string;
  /**
   * The user's tokens (ID, Graph access and refresh token) as msal-node's serialized cache, "" when none: part of the
   * session record, so they end with it and a shared store keeps them for every instance. Never sent to the browser
   * or logged.
   */
  readonly tokenCache: string;
}

/** What the stores keep for one sign-in attempt. */
export interface KeptSignInAttempt {
  readonly attempt: SignInAttempt;
  readonly returnUrl: string;
}

/** The stores the sessions plugin runs on. */
export type SessionStores = Stores<Session, KeptSignInAttempt>;
