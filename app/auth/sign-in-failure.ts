import { AuthError, InteractionRequiredAuthError, ServerError } from "@azure/msal-node";
import { READINESS_ADVICE } from "../../contract/readiness";
import type { AppConfig } from "../app-config";
import { explainAadsts, extractAadstsCode, type SignInProblem } from "./aadsts";
import { AuthorityError } from "./authority";
import { IdTokenError } from "./id-token";
import { ManagedIdentityError } from "./managed-identity";

/**
 * Explains any failure of a sign-in for the error page: Entra's errors (through the AADSTS mapping), the managed
 * identity endpoint, the network, and rejected ID tokens. Nothing in the result contains a token or code.
 */
export function explainSignInFailure(error: unknown, config: AppConfig): SignInProblem {
  if (error instanceof IdTokenError) {
    return {
      status: 401,
      kind: "config",
      title: "The ID token from Entra was rejected.",
      fix:
        `The token failed validation because ${error.reason}. Check AzureAd__Instance, ` +
        `AzureAd__TenantId and AzureAd__ClientId, then sign in again.`,
    };
  }
  if (error instanceof ManagedIdentityError) {
    // The endpoint's URL and its answer stay in the log: the page names the setting to check and the fix.
    return {
      status: 503,
      kind: "transient",
      title: "The app could not get a token from its managed identity.",
      fix: READINESS_ADVICE[error.code].fix,
    };
  }
  if (error instanceof AuthorityError) {
    return { status: 503, kind: "transient", title: "Entra's sign-in metadata could not be read.", fix: error.reason };
  }
  if (error instanceof ServerError || error instanceof InteractionRequiredAuthError) {
    // Entra's description of a token-endpoint error quotes the FIC's and the assertion's issuer and subject: it goes to
    // the log (the caller logs the error), the page shows the code and the fix. The browser never saw it either.
    const errorNo = Number(error.errorNo);
    const code = Number.isInteger(errorNo) && errorNo > 0 ? errorNo : extractAadstsCode(error.errorMessage);
    return explainAadsts({ error: error.errorCode, ...(code ? { errorCodes: [code] } : {}) });
  }
  if (error instanceof AuthError) {
    switch (error.errorCode) {
      case "nonce_mismatch":
        return {
          status: 401,
          kind: "user",
          title: "The ID token does not belong to this sign-in attempt (nonce mismatch).",
          fix: "Sign in again.",
        };
      case "state_mismatch":
      case "state_not_found":
      case "invalid_state":
        return {
          status: 400,
          kind: "user",
          title: "The sign-in response does not belong to this sign-in attempt.",
          fix: "Sign in again.",
        };
      case "network_error":
      case "no_network_connectivity":
      case "endpoints_resolution_error":
      case "openid_config_error":
        return {
          status: 503,
          kind: "transient",
          title: "Entra could not be reached.",
          fix:
            `The request to ${config.instance} failed (${error.errorCode}). Wait a moment and sign in again; if ` +
            `it persists check AzureAd__Instance and outbound network access.`,
        };
      default:
        return {
          status: 502,
          kind: "config",
          title: "Signing in failed.",
          fix: `msal-node reported "${error.errorCode}". Check the app settings and sign in again.`,
        };
    }
  }
  return {
    status: 500,
    kind: "config",
    title: "Signing in failed unexpectedly.",
    fix: "Try again; the server log has the details.",
  };
}
