/**
 * What may leave the process as telemetry, as allow-lists: an attribute or log field not named here is dropped, and a
 * named one is kept only when its value has the shape that attribute has (a route, a status code, an AADSTS code …).
 * Free text (a log message, an exception's message) is kept with every JWT and every long token-like run of
 * characters replaced, and cut short. No token, authorization code, state, cookie, assertion, query string or header
 * can pass: none is an allowed attribute, none has an allowed shape, and free text loses anything token-like.
 */

type Check = (value: unknown) => boolean;

const text =
  (pattern: RegExp): Check =>
  (value) =>
    typeof value === "string" && pattern.test(value);
const integer: Check = (value) => Number.isInteger(value) && (value as number) >= 0 && (value as number) < 1e9;
const count: Check = (value) => typeof value === "number" && Number.isFinite(value) && value >= 0;
/** A short identifier: a reason code, a service name, an OAuth error, an error type. */
const identifier = text(/^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/);
/** An absolute path of letters, digits and `/ _ . : -` only (a route template or a plain path): no query. */
const path = text(/^\/[A-Za-z0-9_/.:-]{0,199}$/);
/** An origin and such a path, nothing else. */
const url = text(/^https?:\/\/[A-Za-z0-9.-]{1,253}(?::\d{1,5})?(?:\/[A-Za-z0-9_/.:-]{0,199})?$/);
const host = text(/^[A-Za-z0-9.-]{1,253}$/);
const aadsts = text(/^AADSTS\d{1,7}$/);
const oauthError = text(/^[a-z_]{1,64}$/);
/** A resource URI a managed-identity token is asked for (`api://AzureADTokenExchange`, `https://redis.azure.com`). */
const resource = text(/^[a-z]+:\/\/[A-Za-z0-9./-]{1,100}$/);

/** OAuth 2.0 (RFC 6749 §4.1.2.1, §5.2) and OpenID Connect Core (§3.1.2.6) error codes. */
const OAUTH_ERRORS = new Set([
  "invalid_request",
  "unauthorized_client",
  "access_denied",
  "unsupported_response_type",
  "invalid_scope",
  "server_error",
  "temporarily_unavailable",
  "invalid_client",
  "invalid_grant",
  "unsupported_grant_type",
  "interaction_required",
  "login_required",
  "account_selection_required",
  "consent_required",
  "invalid_request_uri",
  "invalid_request_object",
  "request_not_supported",
  "request_uri_not_supported",
  "registration_not_supported",
]);

/** Span attributes that may leave the process, each with the shape its value must have. */
export const SPAN_ATTRIBUTES: Readonly<Record<string, Check>> = {
  "http.request.method": text(/^[A-Z]{3,7}$/),
  "http.response.status_code": integer,
  "http.route": path,
  "url.path": path,
  "url.scheme": text(/^https?$/),
  "url.full": url,
  "server.address": host,
  "server.port": integer,
  "peer.service": identifier,
  "db.system": text(/^redis$/),
  "db.operation": identifier,
  "error.type": identifier,
  "signin.outcome": text(/^(succeeded|failed)$/),
  "signin.aadsts": aadsts,
  "signin.error": oauthError,
  "readiness.reason": identifier,
  "managed_identity.resource": resource,
  "graph.outcome": identifier,
};

/** Metric attributes (dimensions) that may leave the process. */
export const METRIC_ATTRIBUTES: Readonly<Record<string, Check>> = {
  outcome: text(/^(succeeded|failed)$/),
  aadsts: text(/^(AADSTS\d{1,7}|none)$/),
  // Known OAuth and OpenID Connect error codes only: a metric dimension must not take whatever a client posts.
  error: (value) => typeof value === "string" && OAUTH_ERRORS.has(value),
  reason: identifier,
};

/** Fields of a log line (pino's JSON, dotted for nested objects) that may leave the process as log attributes. */
export const LOG_FIELDS: Readonly<Record<string, Check>> = {
  aadsts,
  error: oauthError,
  reason: identifier,
  signal: text(/^SIG[A-Z]{2,8}$/),
  ended: count,
  statusCode: integer,
  responseTime: count,
  "res.statusCode": integer,
  "err.type": identifier,
  "err.errorCode": identifier,
  "err.code": identifier,
  "err.statusCode": integer,
};

/** Log fields kept as free text, scrubbed by {@link scrubText}. */
export const LOG_TEXT_FIELDS: readonly string[] = ["problem", "err.message", "msal"];

/** A JWT (three base64url parts, the first starting like a JSON header). */
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g;
/**
 * A run of 20 or more characters that may make up a token, code, state, cookie value, key or GUID (base64, base64url,
 * hex, `.` and `~`). Words and sentences have none that long.
 */
const TOKEN_LIKE = /[A-Za-z0-9+/=_.~-]{20,}/g;
/** A GUID (a tenant, client or object ID) is an identifier, not a secret. */
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The most characters of free text kept. */
export const MAX_TEXT = 300;

/** Free text without anything token-like, at most {@link MAX_TEXT} characters. */
export function scrubText(value: string): string {
  const scrubbed = value.replace(JWT, "[redacted]").replace(TOKEN_LIKE, "[redacted]");
  return scrubbed.length > MAX_TEXT ? `${scrubbed.slice(0, MAX_TEXT)}…` : scrubbed;
}

/** Whether a value that passed its shape check still looks secret (a belt to the shapes' braces). */
function looksSecret(value: unknown): boolean {
  if (typeof value !== "string") return false;
  JWT.lastIndex = 0;
  TOKEN_LIKE.lastIndex = 0;
  // A URL, route or resource may be long, but never has a long token-like run between its separators.
  return (
    JWT.test(value) || value.split(/[/:?#&=]/).some((part) => /^[A-Za-z0-9+_.~-]{32,}$/.test(part) && !GUID.test(part))
  );
}

/** The entries of `attributes` the allow-list names and whose values have the allowed shape. */
export function allowed<V>(
  attributes: Readonly<Record<string, V>>,
  list: Readonly<Record<string, Check>>,
): Record<string, V> {
  const kept: Record<string, V> = {};
  for (const [key, value] of Object.entries(attributes)) {
    const check = Object.hasOwn(list, key) ? list[key] : undefined;
    if (check?.(value) && !looksSecret(value)) kept[key] = value;
  }
  return kept;
}
