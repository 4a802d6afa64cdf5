/**
 * Entra-shaped errors. Apps log and sometimes branch on these, so the emulator reproduces their shape exactly:
 * an OAuth `error`, an `AADSTSnnnn:`-prefixed description followed by trace/correlation lines, and `error_codes`.
 * See https://learn.microsoft.com/entra/identity-platform/reference-error-codes ("Handling error codes").
 */
import { randomUUID } from "node:crypto";
import { escapeHtml, page } from "./http";

/** An error the STS reports to the client, with its AADSTS number. */
export class EntraError extends Error {
  /**
   * @param error       OAuth error code (`invalid_client`, `invalid_grant`, …).
   * @param code        AADSTS number, e.g. 700213.
   * @param description Text after `AADSTSnnnn: `.
   * @param status      HTTP status at the token endpoint; defaults to 401 for `invalid_client`, else 400.
   */
  constructor(
    readonly error: string,
    readonly code: number,
    readonly description: string,
    readonly status: number = error === "invalid_client" ? 401 : 400,
  ) {
    super(`AADSTS${code}: ${description}`);
    this.name = "EntraError";
  }
}

/** Entra's timestamp format in error bodies: `2016-01-09 02:02:12Z`. */
function entraTimestamp(date = new Date()): string {
  return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** Trace and correlation ids, plus the three lines Entra appends to every `error_description`. */
export function traceLines(correlationId?: string): { traceId: string; correlationId: string; timestamp: string; text: string } {
  const traceId = randomUUID();
  const corr = correlationId && /^[0-9a-f-]{36}$/i.test(correlationId) ? correlationId : randomUUID();
  const timestamp = entraTimestamp();
  return { traceId, correlationId: corr, timestamp, text: `\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${timestamp}` };
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
