/**
 * The Entra ID endpoints a web app's sign-in uses, on Entra's paths (`/{tenant}/…`; the tenant segment is compared
 * case-insensitively because msal-node lower-cases the authority):
 *
 *   GET      /{tid}/v2.0/.well-known/openid-configuration   discovery (also /{tid}/.well-known/openid-configuration)
 *   GET      /{tid}/discovery/v2.0/keys                      JWKS
 *   GET      /{tid}/oauth2/v2.0/authorize                    auth code (+PKCE), test user auto-selected
 *   POST     /{tid}/oauth2/v2.0/token                        authorization_code and refresh_token grants
 *   GET|POST /{tid}/oauth2/v2.0/logout                       end session, front-channel logout iframe
 *
 * Protocol: https://learn.microsoft.com/entra/identity-platform/v2-oauth2-auth-code-flow and notes/entra-fic.md §5.
 */
import { createHash, randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { EntraError, errorBody, errorPage, traceLines } from "./errors";
import { JWT_BEARER_ASSERTION_TYPE, validateClientAssertion } from "./fic";
import { escapeHtml, page, readForm, redirect, Router, sendHtml, sendJson, type Request } from "./http";
import { mintAccessToken, mintIdToken, nowSeconds, USER_TOKEN_LIFETIME_SECONDS } from "./tokens";
import type { EmulatorContext, EmulatorUser } from "./types";

/** Authorization codes are single-use and live ten minutes, like Entra's. */
export const CODE_TTL_SECONDS = 600;

/** Refresh-token lifetime (Entra's default for web apps is 90 days). */
const REFRESH_TOKEN_TTL_SECONDS = 90 * 24 * 3600;

interface AuthorizationCode {
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

interface RefreshGrant {
  clientId: string;
  scope: string;
  user: EmulatorUser;
  expiresAt: number;
}

type ResponseMode = "query" | "fragment" | "form_post";

/** The router of the Entra endpoints, with its own code/refresh-token stores and SSO session. */
export function entraRouter(ctx: EmulatorContext): Router {
  const codes = new Map<string, AuthorizationCode>();
  const refreshTokens = new Map<string, RefreshGrant>();
  /** The emulator's "browser session" at the IdP: set by a sign-in, cleared by logout; `prompt=none` needs it. */
  let signedInUser: EmulatorUser | null = null;

  const tenantMatches = (segment: string | undefined) => segment?.toLowerCase() === ctx.tenantId.toLowerCase();
  const tenantNotFound = (segment: string | undefined) =>
    new EntraError(
      "invalid_tenant",
      90002,
      `Tenant '${segment ?? ""}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
    );
  const correlationIdOf = (req: Request) =>
    req.url.searchParams.get("client-request-id") ?? String(req.raw.headers["client-request-id"] ?? "");

  // --- Discovery and keys ---

  function discovery(req: Request, res: ServerResponse): void {
    if (!tenantMatches(req.params[0])) return sendJson(res, 400, errorBody(tenantNotFound(req.params[0]), ctx.instance));
    const base = `${ctx.instance}${ctx.tenantId}`;
    sendJson(res, 200, {
      issuer: ctx.issuer,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      end_session_endpoint: `${base}/oauth2/v2.0/logout`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
      response_types_supported: ["code"],
      response_modes_supported: ["query", "fragment", "form_post"],
      grant_types_supported: ["authorization_code", "refresh_token"],
      // Only assertions: the emulated registration has no secrets (a FIC is its only credential).
      token_endpoint_auth_methods_supported: ["private_key_jwt"],
      code_challenge_methods_supported: ["S256", "plain"],
      subject_types_supported: ["pairwise"],
      id_token_signing_alg_values_supported: ["RS256"],
      scopes_supported: ["openid", "profile", "email", "offline_access"],
      claims_supported: [
        "sub", "iss", "aud", "exp", "iat", "nbf", "nonce", "name", "oid", "tid", "ver", "preferred_username", "login_hint",
      ],
      request_uri_parameter_supported: false,
      frontchannel_logout_supported: true,
      http_logout_supported: true,
    });
  }

  function keys(req: Request, res: ServerResponse): void {
    if (!tenantMatches(req.params[0])) return sendJson(res, 400, errorBody(tenantNotFound(req.params[0]), ctx.instance));
    sendJson(res, 200, ctx.keys.jwks());
  }

  // --- Authorize ---

  async function authorize(req: Request, res: ServerResponse): Promise<void> {
    ctx.stats.authorizeRequests++;
    const q = req.url.searchParams;
    const correlationId = correlationIdOf(req);
    const showError = (err: EntraError) => sendHtml(res, 400, errorPage(err, correlationId));
    const { registration } = ctx;

    // Until client and redirect URI are known-good, errors are shown here: redirecting would leak to an attacker's URI.
    if (!tenantMatches(req.params[0])) return showError(tenantNotFound(req.params[0]));
    const clientId = q.get("client_id");
    if (!clientId) return showError(missingParameter("client_id"));
    if (clientId.toLowerCase() !== registration.clientId.toLowerCase()) return showError(unknownApplication(clientId, ctx.tenantId));
    const redirectUri = q.get("redirect_uri");
    if (!redirectUri) return showError(missingParameter("redirect_uri"));
    if (!registration.redirectUris.includes(redirectUri)) {
      return showError(
        new EntraError(
          "invalid_request",
          50011,
          `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for ` +
            `the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your ` +
            "application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
        ),
      );
    }

    // From here on, protocol errors go back to the app: error, error_description, state.
    const state = q.get("state") ?? undefined;
    const requestedMode = q.get("response_mode") ?? "query";
    const mode: ResponseMode = isResponseMode(requestedMode) ? requestedMode : "query";
    const reply = (params: Record<string, string>) =>
      respond(res, redirectUri, mode, { ...params, ...(state !== undefined && { state }) });
    const replyError = (error: string, description: string) =>
      reply({ error, error_description: `${description}${traceLines(correlationId).text}` });

    if (!isResponseMode(requestedMode)) {
      return replyError("invalid_request", `AADSTS9002313: Invalid request. The response_mode '${requestedMode}' is not supported.`);
    }
    const responseType = q.get("response_type");
    if (responseType !== "code") {
      return responseType
        ? replyError(
            "unsupported_response_type",
            `AADSTS700051: response_type '${responseType}' is not enabled for the application. This emulator implements only response_type=code.`,
          )
        : replyError("invalid_request", missingParameter("response_type").message);
    }
    const scope = q.get("scope");
    if (!scope) return replyError("invalid_request", missingParameter("scope").message);
    if (!scope.split(" ").includes("openid")) {
      return replyError("invalid_scope", `AADSTS70011: The provided value for the input parameter 'scope' isn't valid. A sign-in request must include the 'openid' scope.`);
    }

    const codeChallenge = q.get("code_challenge") ?? undefined;
    const method = q.get("code_challenge_method") ?? (codeChallenge ? "plain" : undefined); // RFC 7636 §4.3 default
    if (method !== undefined && method !== "S256" && method !== "plain") {
      return replyError("invalid_request", `AADSTS9002313: Invalid request. The code_challenge_method '${method}' is not supported; use S256.`);
    }
    if (method !== undefined && !codeChallenge) return replyError("invalid_request", missingParameter("code_challenge").message);
    if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge)) {
      return replyError("invalid_request", "AADSTS501491: Invalid size of Code_Challenge parameter.");
    }

    if (ctx.faults.authorizeError) {
      return replyError(ctx.faults.authorizeError.error, ctx.faults.authorizeError.description);
    }
    const prompt = (q.get("prompt") ?? "").split(" ");
    if (prompt.includes("none") && !signedInUser) {
      return replyError("login_required", "AADSTS50058: A silent sign-in request was sent but no user is signed in.");
    }

    // No login form: the registration's single test user signs in (a login_hint can only name that user).
    const user = registration.user;
    signedInUser = user;
    const code = `1.${randomBytes(48).toString("base64url")}`;
    purgeExpired();
    codes.set(code, {
      clientId: registration.clientId,
      redirectUri,
      scope,
      ...(q.has("nonce") && { nonce: q.get("nonce")! }),
      ...(codeChallenge !== undefined && { codeChallenge, codeChallengeMethod: method as "S256" | "plain" }),
      user,
      expiresAt: nowSeconds() + CODE_TTL_SECONDS,
      redeemed: false,
    });
    return reply({ code });
  }

  function purgeExpired(): void {
    const cutoff = nowSeconds() - CODE_TTL_SECONDS; // keep redeemed codes a while longer, to report replays as such
    for (const [code, record] of codes) if (record.expiresAt < cutoff) codes.delete(code);
  }

  // --- Token ---

  async function token(req: Request, res: ServerResponse): Promise<void> {
    ctx.stats.tokenRequests++;
    if (ctx.faults.tokenEndpointDown === true) {
      req.raw.socket.destroy(); // no answer at all, as when the STS is unreachable
      return;
    }
    const correlationId = correlationIdOf(req);
    try {
      if (ctx.faults.tokenEndpointDown === "503") {
        throw new EntraError("temporarily_unavailable", 90033, "A transient error has occurred. Please try again.", 503);
      }
      if (!tenantMatches(req.params[0])) throw tenantNotFound(req.params[0]);
      const form = await readForm(req.raw);
      sendJson(res, 200, await handleGrant(form));
    } catch (err) {
      if (!(err instanceof EntraError)) throw err;
      const headers: Record<string, string> = err.status === 503 ? { "Retry-After": "1" } : {};
      sendJson(res, err.status, errorBody(err, ctx.instance, correlationId), headers);
    }
  }

  async function handleGrant(form: URLSearchParams): Promise<Record<string, unknown>> {
    const grantType = required(form, "grant_type");
    if (grantType !== "authorization_code" && grantType !== "refresh_token") {
      throw new EntraError("unsupported_grant_type", 70003, `The app requested an unsupported grant type '${grantType}'.`);
    }
    const clientId = required(form, "client_id");
    if (clientId.toLowerCase() !== ctx.registration.clientId.toLowerCase()) {
      const err = unknownApplication(clientId, ctx.tenantId);
      throw new EntraError("unauthorized_client", err.code, err.description);
    }
    await authenticateClient(form);
    return grantType === "authorization_code" ? redeemCode(form) : redeemRefreshToken(form);
  }

  /** The app's only credential is its FIC: a managed-identity token presented as a JWT client assertion. */
  async function authenticateClient(form: URLSearchParams): Promise<void> {
    if (form.has("client_secret")) {
      throw new EntraError(
        "invalid_client",
        7000215,
        "Invalid client secret provided. This app registration has no client secrets: present a managed-identity token " +
          "as client_assertion (federated identity credential).",
      );
    }
    const assertion = form.get("client_assertion");
    if (!assertion) {
      throw new EntraError("invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.");
    }
    if (form.get("client_assertion_type") !== JWT_BEARER_ASSERTION_TYPE) {
      throw new EntraError(
        "invalid_request",
        9002313,
        `Invalid request. Request is malformed or invalid. - The reason: client_assertion_type must be '${JWT_BEARER_ASSERTION_TYPE}'.`,
      );
    }
    await validateClientAssertion(ctx, assertion);
  }

  async function redeemCode(form: URLSearchParams): Promise<Record<string, unknown>> {
    const code = required(form, "code");
    const redirectUri = required(form, "redirect_uri");
    const record = codes.get(code);
    if (record?.redeemed) {
      throw new EntraError("invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.");
    }
    if (!record || nowSeconds() > record.expiresAt) {
      throw new EntraError("invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.");
    }
    if (record.clientId.toLowerCase() !== form.get("client_id")!.toLowerCase()) {
      throw new EntraError("invalid_grant", 70000, "The provided value for the 'code' parameter is not valid: it was issued to another application.");
    }
    if (record.redirectUri !== redirectUri) {
      throw new EntraError("invalid_grant", 500112, `The reply address '${redirectUri}' does not match the reply address '${record.redirectUri}' provided when requesting Authorization code.`);
    }
    if (record.codeChallenge !== undefined) {
      const verifier = form.get("code_verifier") ?? "";
      const derived = record.codeChallengeMethod === "S256" ? createHash("sha256").update(verifier).digest("base64url") : verifier;
      if (derived !== record.codeChallenge) {
        throw new EntraError("invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.");
      }
    }
    record.redeemed = true;
    return issueTokens(form, { clientId: record.clientId, scope: form.get("scope") ?? record.scope, user: record.user, nonce: record.nonce });
  }

  async function redeemRefreshToken(form: URLSearchParams): Promise<Record<string, unknown>> {
    const record = refreshTokens.get(required(form, "refresh_token"));
    if (!record) {
      throw new EntraError("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. - The reason: the refresh token is not valid.");
    }
    if (record.clientId.toLowerCase() !== form.get("client_id")!.toLowerCase()) {
      throw new EntraError("invalid_grant", 70000, "The provided refresh token was issued to another application.");
    }
    if (nowSeconds() > record.expiresAt) {
      throw new EntraError("invalid_grant", 700082, "The refresh token has expired due to inactivity.");
    }
    return issueTokens(form, { clientId: record.clientId, scope: form.get("scope") ?? record.scope, user: record.user });
  }

  async function issueTokens(
    form: URLSearchParams,
    grant: { clientId: string; scope: string; user: EmulatorUser; nonce?: string | undefined },
  ): Promise<Record<string, unknown>> {
    const scopes = [...new Set(grant.scope.split(" ").filter(Boolean))];
    const body: Record<string, unknown> = {
      token_type: "Bearer",
      scope: scopes.join(" "),
      expires_in: USER_TOKEN_LIFETIME_SECONDS,
      ext_expires_in: USER_TOKEN_LIFETIME_SECONDS,
      access_token: await mintAccessToken(ctx, { user: grant.user, clientId: grant.clientId, scopes }),
    };
    if (scopes.includes("offline_access")) {
      const refreshToken = `1.${randomBytes(48).toString("base64url")}`;
      refreshTokens.set(refreshToken, {
        clientId: grant.clientId,
        scope: scopes.join(" "),
        user: grant.user,
        expiresAt: nowSeconds() + REFRESH_TOKEN_TTL_SECONDS,
      });
      body.refresh_token = refreshToken;
    }
    if (scopes.includes("openid")) {
      body.id_token = await mintIdToken(ctx, {
        user: grant.user,
        clientId: grant.clientId,
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

  // --- Logout ---

  async function logout(req: Request, res: ServerResponse): Promise<void> {
    if (!tenantMatches(req.params[0])) return sendHtml(res, 400, errorPage(tenantNotFound(req.params[0])));
    const params = new URLSearchParams(req.url.searchParams);
    if (req.method === "POST") for (const [k, v] of await readForm(req.raw)) params.set(k, v);
    signedInUser = null;

    const { registration } = ctx;
    const requested = params.get("post_logout_redirect_uri");
    const allowed = registration.postLogoutRedirectUris ?? defaultPostLogoutRedirectUris(registration.redirectUris);
    let destination: string | undefined;
    if (requested && allowed.includes(requested)) {
      const url = new URL(requested);
      if (params.has("state")) url.searchParams.set("state", params.get("state")!);
      destination = url.toString();
    }

    const frontChannel = registration.frontChannelLogoutUrl;
    if (destination && !frontChannel) return redirect(res, destination);
    // With a front-channel logout URL, Entra renders a page that loads it in an iframe, then moves on.
    const iframe = frontChannel
      ? `<iframe id="front-channel-logout" src="${escapeHtml(frontChannel)}" title="Front-channel logout" style="display:none"></iframe>`
      : "";
    const onward = destination
      ? `<p><a id="continue" href="${escapeHtml(destination)}">Continue</a></p>
<script>
  const go = () => location.replace(${JSON.stringify(destination).replace(/</g, "\\u003c")});
  const frame = document.getElementById("front-channel-logout");
  if (frame) { frame.addEventListener("load", go); setTimeout(go, 3000); } else { go(); }
</script>`
      : "<p>It's a good idea to close all browser windows.</p>";
    sendHtml(res, 200, page("Sign out", `<h1 id="signed-out">You signed out of your account</h1>\n${iframe}\n${onward}`));
  }

  return new Router()
    .on("GET", /^\/([^/]+)\/v2\.0\/\.well-known\/openid-configuration$/, discovery)
    .on("GET", /^\/([^/]+)\/\.well-known\/openid-configuration$/, discovery)
    .on("GET", /^\/([^/]+)\/discovery\/v2\.0\/keys$/, keys)
    .on("GET", /^\/([^/]+)\/oauth2\/v2\.0\/authorize$/, authorize)
    .on("POST", /^\/([^/]+)\/oauth2\/v2\.0\/token$/, token)
    .on(["GET", "POST"], /^\/([^/]+)\/oauth2\/v2\.0\/logout$/, logout);
}

/** Default post-logout allow-list: each redirect URI and its origin + "/". */
export function defaultPostLogoutRedirectUris(redirectUris: string[]): string[] {
  return [...new Set(redirectUris.flatMap((uri) => [uri, `${new URL(uri).origin}/`]))];
}

function isResponseMode(mode: string): mode is ResponseMode {
  return mode === "query" || mode === "fragment" || mode === "form_post";
}

function missingParameter(name: string): EntraError {
  return new EntraError("invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`);
}

function unknownApplication(clientId: string, tenantId: string): EntraError {
  return new EntraError(
    "unauthorized_client",
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the ` +
      "application has not been installed by the administrator of the tenant or consented to by any user in the tenant. " +
      "You may have sent your authentication request to the wrong tenant.",
  );
}

function required(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw missingParameter(name);
  return value;
}

/** Sends authorize results to the app the way `response_mode` asks. */
function respond(res: ServerResponse, redirectUri: string, mode: ResponseMode, params: Record<string, string>): void {
  if (mode === "form_post") {
    // Entra's auto-submitting form; <noscript> keeps it usable without JavaScript.
    const inputs = Object.entries(params)
      .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
      .join("\n");
    return sendHtml(
      res,
      200,
      page(
        "Working...",
        `<form method="POST" name="hiddenform" action="${escapeHtml(redirectUri)}">
${inputs}
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form>
<script>document.forms[0].submit();</script>`,
      ),
    );
  }
  const url = new URL(redirectUri);
  if (mode === "query") for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  else url.hash = new URLSearchParams(params).toString();
  redirect(res, url.toString());
}
