/**
 * The authorize endpoint: `GET /{tid}/oauth2/v2.0/authorize`, authorization code (+PKCE) with the registration's test
 * user selected without a login form. Protocol:
 * https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow
 */
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import {
  EntraError,
  errorPage,
  missingParameter,
  redirectUriMismatch,
  tenantNotFound,
  traceLines,
  unknownApplication,
} from "../errors";
import { redirect, sendFormPost, sendHtml } from "../http";
import { parseScopes, scopeError } from "../scopes";
import { nowSeconds } from "../tokens";
import type { EmulatorUser } from "../types";
import { accountPickerPage, chosenUser, isAssigned } from "./account-picker";
import { correlationIdOf, signInSession, tenantMatches, type EntraHandler, type EntraState } from "./state";

/** Authorization codes are single-use and live ten minutes, like Entra's. */
const CODE_TTL_SECONDS = 600;

type ResponseMode = "query" | "fragment" | "form_post";

/** A protocol error sent back to the app (`error`, `error_description`), not shown at the IdP. */
interface ReplyError {
  error: string;
  description: string;
}

export const authorize: EntraHandler = (state, req, res) => {
  state.ctx.stats.authorizeRequests++;
  const q = req.url.searchParams;
  const correlationId = correlationIdOf(req);

  // Until client and redirect URI are known-good, errors are shown here: redirecting would leak to an attacker's URI.
  const target = checkClient(state, req.params[0], q);
  if (target instanceof EntraError) return sendHtml(res, 400, errorPage(target, correlationId));
  const { redirectUri } = target;

  // From here on, protocol errors go back to the app: error, error_description, state.
  const appState = q.get("state") ?? undefined; // the app's OAuth `state`, echoed back
  const requestedMode = q.get("response_mode") ?? "query";
  const mode: ResponseMode = isResponseMode(requestedMode) ? requestedMode : "query";
  const reply = (params: Record<string, string>) =>
    respond(res, redirectUri, mode, { ...params, ...(appState !== undefined && { state: appState }) });

  const failure = checkRequest(state, q, requestedMode);
  if (failure)
    return reply({
      error: failure.error,
      error_description: `${failure.description}${traceLines(correlationId).text}`,
    });
  const user = chosenUser(state, q);
  if (!user) return sendHtml(res, 200, accountPickerPage(state.ctx.registration, new URL(req.url.href)));
  if (!isAssigned(state.ctx.registration, user)) {
    const description =
      `AADSTS50105: The signed in user '${user.preferredUsername}' is not assigned to a role for the application ` +
      `'${state.ctx.registration.clientId}'(${state.ctx.registration.displayName ?? "app"}).`;
    return reply({ error: "access_denied", error_description: `${description}${traceLines(correlationId).text}` });
  }
  return reply({ code: issueCode(state, q, redirectUri, user) });
};

/** The client id and redirect URI, or the error to show at the IdP. */
function checkClient(
  state: EntraState,
  tenant: string | undefined,
  q: URLSearchParams,
): EntraError | { redirectUri: string } {
  const { registration, tenantId } = state.ctx;
  if (!tenantMatches(state, tenant)) return tenantNotFound(tenant);
  const clientId = q.get("client_id");
  if (!clientId) return missingParameter("client_id");
  if (clientId.toLowerCase() !== registration.clientId.toLowerCase()) return unknownApplication(clientId, tenantId);
  const redirectUri = q.get("redirect_uri");
  if (!redirectUri) return missingParameter("redirect_uri");
  if (!registration.redirectUris.includes(redirectUri)) return redirectUriMismatch(redirectUri, clientId);
  return { redirectUri };
}

/** The first protocol error in the request (or an injected one), or undefined when a code may be issued. */
function checkRequest(state: EntraState, q: URLSearchParams, requestedMode: string): ReplyError | undefined {
  const invalid = (description: string): ReplyError => ({ error: "invalid_request", description });
  if (!isResponseMode(requestedMode)) {
    return invalid(`AADSTS9002313: Invalid request. The response_mode '${requestedMode}' is not supported.`);
  }
  const responseType = q.get("response_type");
  if (responseType !== "code") {
    return responseType
      ? {
          error: "unsupported_response_type",
          description:
            `AADSTS700051: response_type '${responseType}' is not enabled for the ` +
            `application. This emulator implements only response_type=code.`,
        }
      : invalid(missingParameter("response_type").message);
  }
  const scope = q.get("scope");
  if (!scope) return invalid(missingParameter("scope").message);
  if (!scope.split(" ").includes("openid")) {
    return {
      error: "invalid_scope",
      description:
        "AADSTS70011: The provided value for the input parameter 'scope' isn't valid. " +
        "A sign-in request must include the 'openid' scope.",
    };
  }

  const codeChallenge = q.get("code_challenge") ?? undefined;
  const method = challengeMethod(q);
  if (method !== undefined && method !== "S256" && method !== "plain") {
    return invalid(`AADSTS9002313: Invalid request. The code_challenge_method '${method}' is not supported; use S256.`);
  }
  if (method !== undefined && !codeChallenge) return invalid(missingParameter("code_challenge").message);
  if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge)) {
    return invalid("AADSTS501491: Invalid size of Code_Challenge parameter.");
  }

  if (state.ctx.faults.authorizeError) return state.ctx.faults.authorizeError;
  const prompt = (q.get("prompt") ?? "").split(" ");
  if (prompt.includes("none") && !state.session) {
    return {
      error: "login_required",
      description: "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
    };
  }
  // The emulator's sign-in is silent, so missing consent comes back as Entra sends it for a silent request.
  const refused = scopeError(state.ctx, parseScopes(scope));
  if (refused) return { error: refused.suberror ?? refused.error, description: refused.message };
  return undefined;
}

/** `code_challenge_method`, defaulting to "plain" when only a challenge is given (RFC 7636 §4.3). */
function challengeMethod(q: URLSearchParams): string | undefined {
  return q.get("code_challenge_method") ?? (q.get("code_challenge") ? "plain" : undefined);
}

/** Signs `user` in (a new IdP session when it is another user than the open one's) and issues a code. */
function issueCode(state: EntraState, q: URLSearchParams, redirectUri: string, chosen: EmulatorUser): string {
  const { registration } = state.ctx;
  if (state.session && state.session.user.oid !== chosen.oid) state.session = null;
  const { user, sid } = signInSession(state, chosen);
  const code = `1.${randomBytes(48).toString("base64url")}`;
  purgeExpiredCodes(state);
  const codeChallenge = q.get("code_challenge") ?? undefined;
  state.codes.set(code, {
    clientId: registration.clientId,
    redirectUri,
    scope: q.get("scope")!,
    ...(q.has("nonce") && { nonce: q.get("nonce")! }),
    ...(codeChallenge !== undefined && { codeChallenge, codeChallengeMethod: challengeMethod(q) as "S256" | "plain" }),
    user,
    sid,
    expiresAt: nowSeconds() + CODE_TTL_SECONDS,
    redeemed: false,
  });
  return code;
}

function purgeExpiredCodes(state: EntraState): void {
  const cutoff = nowSeconds() - CODE_TTL_SECONDS; // keep redeemed codes a while longer, to report replays as such
  for (const [code, record] of state.codes) if (record.expiresAt < cutoff) state.codes.delete(code);
}

function isResponseMode(mode: string): mode is ResponseMode {
  return mode === "query" || mode === "fragment" || mode === "form_post";
}

/** Sends authorize results to the app the way `response_mode` asks. */
function respond(res: ServerResponse, redirectUri: string, mode: ResponseMode, params: Record<string, string>): void {
  if (mode === "form_post") {
    sendFormPost(res, redirectUri, params);
    return;
  }
  const url = new URL(redirectUri);
  if (mode === "query") for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  else url.hash = new URLSearchParams(params).toString();
  redirect(res, url.toString());
}
