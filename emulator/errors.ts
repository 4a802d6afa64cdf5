/**
 * Entra-shaped errors. Apps log and sometimes branch on these, so the emulator reproduces their shape exactly:
 * an OAuth `error`, an `AADSTSnnnn:`-prefixed description followed by trace/correlation lines, and `error_codes`.
 * See https://learn.microsoft.com/entra/identity-platform/reference-error-codes ("Handling error codes").
 */
import { randomUUID } from "node:crypto";
import escapeHtml from "escape-html";
import { page } from "./http";

/** An error the STS reports to the client, with its AADSTS number. */
export class EntraError extends Error {
  /**
   * @param error       OAuth error code (`invalid_client`, `invalid_grant`, …).
   * @param code        AADSTS number, e.g. 700213.
   * @param description Text after `AADSTSnnnn: `.
   * @param status      HTTP status at the token endpoint; defaults to 401 for `invalid_client`, else 400.
   * @param suberror    Entra's `suberror` (e.g. `consent_required`), which MSAL reads to classify the error.
   */
  constructor(
    readonly error: string,
    readonly code: number,
    readonly description: string,
    readonly status: number = error === "invalid_client" ? 401 : 400,
    readonly suberror?: string,
  ) {
    super(`AADSTS${code}: ${description}`);
    this.name = "EntraError";
  }
}

/** AADSTS900144: a required parameter is missing. */
export function missingParameter(name: string): EntraError {
  return new EntraError("invalid_request", 900144, `The request body must contain the following parameter: '${name}'.`);
}

/** A form parameter that must be present and non-empty (else AADSTS900144). */
export function requiredParameter(form: URLSearchParams, name: string): string {
  const value = form.get(name);
  if (!value) throw missingParameter(name);
  return value;
}

/** AADSTS90002: the path names another tenant. */
export function tenantNotFound(segment: string | undefined): EntraError {
  return new EntraError(
    "invalid_tenant",
    90002,
    `Tenant '${segment ?? ""}' not found. Check to make sure you have the correct ` +
      `tenant ID and are signing into the correct cloud.`,
  );
}

/** AADSTS700016: the client id is not an application in this tenant. */
export function unknownApplication(clientId: string, tenantId: string): EntraError {
  return new EntraError(
    "unauthorized_client",
    700016,
    `Application with identifier '${clientId}' was not found in the directory '${tenantId}'. This can happen if the ` +
      "application has not been installed by the administrator of the " +
      "tenant or consented to by any user in the tenant. " +
      "You may have sent your authentication request to the wrong tenant.",
  );
}

/** AADSTS50011: the redirect URI is not one the registration lists. */
export function redirectUriMismatch(redirectUri: string, clientId: string): EntraError {
  return new EntraError(
    "invalid_request",
    50011,
    `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for ` +
      `the application '${clientId}'. Make sure the redirect URI sent in the request matches one added to your ` +
      "application in the Azure portal. Navigate to " +
      "https://aka.ms/redirectUriMismatchError to learn more about how to fix " +
      "this.",
  );
}

/** Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z`. */
function entraTimestamp(date = new Date()): string {
  return date
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

/** Trace and correlation ids, plus the three lines Entra appends to every `error_description`. */
export function traceLines(correlationId?: string): {
  traceId: string;
  correlationId: string;
  timestamp: string;
  text: string;
} {
  const traceId = randomUUID();
  const corr = correlationId && /^[0-9a-f-]{36}$/i.test(correlationId) ? correlationId : randomUUID();
  const timestamp = entraTimestamp();
  return {
    traceId,
    correlationId: corr,
    timestamp,
    text: `\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${timestamp}`,
  };
}

/**
 * The JSON body of a token-endpoint error.
 * @param correlationId the caller's `client-request-id`, which Entra echoes as the correlation id.
 */
export function errorBody(err: EntraError, instance: string, correlationId?: string): Record<string, unknown> {
  const trace = traceLines(correlationId);
  return {
    error: err.error,
    error_description: `${err.message}${trace.text}`,
    error_codes: [err.code],
    timestamp: trace.timestamp,
    trace_id: trace.traceId,
    correlation_id: trace.correlationId,
    error_uri: `${instance}error?code=${err.code}`,
    ...(err.suberror !== undefined && { suberror: err.suberror }),
  };
}

/** The page Entra shows when it cannot safely redirect back to the app (unknown app, unregistered redirect URI). */
export function errorPage(err: EntraError, correlationId?: string): string {
  const trace = traceLines(correlationId);
  return page(
    "Sign in to your account",
    `<h1>Sorry, but we're having trouble signing you in.</h1>
<p id="error">${escapeHtml(err.message)}</p>
<p id="error-code" data-error="${escapeHtml(err.error)}" data-code="${err.code}">Error code: AADSTS${err.code}</p>
<pre>${escapeHtml(trace.text.trim())}</pre>`,
  );
}
