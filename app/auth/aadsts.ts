/**
 * Turns Entra's errors into a page that says what went wrong and how to fix it. The same mapping serves the
 * `error`/`error_description` Entra sends to the callback and the ServerError msal-node throws for a failed token
 * request. Codes: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
 */

/** Who has to act: the user (try again / ask an admin), the operator (fix configuration), or nobody (wait). */
type ProblemKind = "user" | "config" | "transient";

/** A sign-in failure explained for people. Every field is safe to show: no tokens, codes or assertions. */
export interface SignInProblem {
  /** HTTP status of the error page. */
  readonly status: number;
  readonly kind: ProblemKind;
  /** One-line summary. */
  readonly title: string;
  /** What to do about it. */
  readonly fix: string;
  /** "AADSTS700213" etc., when Entra gave one. */
  readonly code?: string;
  /** The OAuth error code, e.g. "invalid_client". */
  readonly error?: string;
  /** Entra's own description (first line, shortened), when it gave one. */
  readonly description?: string;
  /** Where an administrator grants this app consent for the whole tenant, when consent is what is missing. */
  readonly adminConsentUrl?: string;
}

interface Explanation {
  readonly kind: ProblemKind;
  readonly title: string;
  readonly fix: string;
}

const STATUS: Record<ProblemKind, number> = { user: 403, config: 502, transient: 503 };

const FIC_SETTINGS =
  "Compare the federated identity credential on the app registration with the managed identity's token";

/** AADSTS code → explanation; the codes this scenario hits most come first. */
export const AADSTS: ReadonlyMap<number, Explanation> = new Map<number, Explanation>([
  [
    70021,
    {
      kind: "transient",
      title: "No federated credential on the app registration matches the managed identity's token.",
      fix:
        "If the federated identity credential was just created, wait a few minutes for it to propagate and sign in " +
        "again. If it persists, check its issuer, subject (the identity's principal ID) and audience.",
    },
  ],
  [
    700211,
    {
      kind: "config",
      title: "The federated credential's issuer does not match the managed identity's token.",
      fix:
        `Set the federated credential's issuer to {Instance}{TenantId}/v2.0 exactly (the tenant ` +
        `GUID, v2.0, no trailing slash or spaces). ${FIC_SETTINGS}.`,
    },
  ],
  [
    700212,
    {
      kind: "config",
      title: "The federated credential's audience does not match the managed identity's token.",
      fix:
        "Set the federated credential's audience to api://AzureADTokenExchange (the URI, not its GUID; the " +
        "sovereign-cloud variant in US Gov/China) and AzureAd__ClientCredentials__0__TokenExchangeUrl to the same " +
        "value.",
    },
  ],
  [
    700213,
    {
      kind: "config",
      title: "The federated credential's subject does not match the managed identity.",
      fix:
        "Set the federated credential's subject to the managed " +
        "identity's principal (object) ID, not its client ID.",
    },
  ],
  [
    7002138,
    {
      kind: "config",
      title: "The federated credential's subject matches the managed identity only when case is ignored.",
      fix:
        "Subjects are compared case-sensitively: copy the managed " +
        "identity's principal ID exactly (lower-case GUID).",
    },
  ],
  [
    700214,
    {
      kind: "config",
      title: "The federated credential's audience is a GUID.",
      fix: "Use the audience URI api://AzureADTokenExchange, not the token-exchange app's GUID.",
    },
  ],
  [
    700222,
    {
      kind: "config",
      title: "This Entra-issued token cannot be used as a federated credential here.",
      fix: "Use a user-assigned managed identity in the same tenant as the app registration.",
    },
  ],
  [
    700226,
    {
      kind: "config",
      title: "Only managed-identity tokens can be a federated credential with an Entra issuer.",
      fix:
        "Check AzureAd__ClientCredentials__0__ManagedIdentityClientId names the " +
        "user-assigned identity attached to the web app.",
    },
  ],
  [
    700229,
    {
      kind: "config",
      title: "The assertion is not an app-only managed-identity token.",
      fix: "The client assertion must be the managed identity's own token; check the credential settings.",
    },
  ],
  [
    700024,
    {
      kind: "config",
      title: "The client assertion (the managed identity's token) is expired or not yet valid.",
      fix:
        "Check the server clock. The app fetches the token per request from the " +
        "managed-identity endpoint, so restarting the app clears a stuck token.",
    },
  ],
  [
    700027,
    {
      kind: "config",
      title: "The client assertion's signature could not be validated.",
      fix:
        "The managed identity's token must come from the same cloud and tenant as the app " +
        "registration; check AzureAd__Instance and AzureAd__TenantId.",
    },
  ],
  [
    7000218,
    {
      kind: "config",
      title: "The token request carried no client credential.",
      fix:
        "Set " +
        "AzureAd__ClientCredentials__0__SourceType=SignedAssertionFromManagedIdentity " +
        "and its ManagedIdentityClientId.",
    },
  ],
  [
    7000215,
    {
      kind: "config",
      title: "A client secret was presented.",
      fix:
        "This app is secretless: remove any client secret setting; the " +
        "managed identity's token is the only credential.",
    },
  ],
  [
    700016,
    {
      kind: "config",
      title: "The application was not found in the tenant.",
      fix:
        "Check AzureAd__ClientId and AzureAd__TenantId (and " +
        "AzureAd__Instance for the cloud) match the app registration.",
    },
  ],
  [
    50011,
    {
      kind: "config",
      title: "The redirect URI is not registered on the app registration.",
      fix:
        "Register https://<your host><AzureAd__CallbackPath> as a web redirect URI. Behind App Service's TLS front " +
        "end the app takes the scheme from X-Forwarded-Proto, so the URI is https.",
    },
  ],
  [
    90002,
    {
      kind: "config",
      title: "The tenant was not found.",
      fix: "Check AzureAd__TenantId and AzureAd__Instance (the tenant must exist in that cloud).",
    },
  ],
  [
    90072,
    {
      kind: "user",
      title: "Your account is not in this app's tenant.",
      fix: "Sign in with an account from the app's tenant, or ask an administrator to invite you as a guest.",
    },
  ],
  [
    50020,
    {
      kind: "user",
      title: "Your account is not in this app's tenant.",
      fix: "Sign in with an account from the app's tenant, or ask an administrator to invite you as a guest.",
    },
  ],
  [
    50105,
    {
      kind: "user",
      title: "You are not assigned to this application.",
      fix: "Ask an administrator to assign you to the app (Enterprise applications → Users and groups).",
    },
  ],
  [
    65001,
    {
      kind: "user",
      title: "Consent has not been granted to this application.",
      fix:
        "The app asks for the delegated Microsoft Graph permission User.Read. An administrator grants consent for " +
        "everyone with the link below; if your tenant lets users consent, sign in again and accept the prompt.",
    },
  ],
  [
    65004,
    {
      kind: "user",
      title: "Consent to the application was declined.",
      fix:
        "Sign in again and accept the consent prompt, or ask an " +
        "administrator to grant consent for the organisation.",
    },
  ],
  [
    53003,
    {
      kind: "user",
      title: "Access was blocked by a Conditional Access policy.",
      fix: "Ask your administrator which policy applies (the sign-in logs show it).",
    },
  ],
  [54005, { kind: "user", title: "This sign-in response was already used.", fix: "Sign in again." }],
  [70008, { kind: "user", title: "The sign-in response expired or was already used.", fix: "Sign in again." }],
  [
    501481,
    {
      kind: "user",
      title: "The sign-in response does not belong to this sign-in attempt (PKCE check failed).",
      fix: "Sign in again.",
    },
  ],
]);

/** OAuth `error` values (RFC 6749 §4.1.2.1 / §5.2) used when Entra gives no AADSTS code we know. */
const OAUTH_ERRORS: ReadonlyMap<string, Explanation> = new Map<string, Explanation>([
  [
    "access_denied",
    {
      kind: "user",
      title: "Sign-in was cancelled or access was denied.",
      fix: "Sign in again; if you declined consent, accept it this time or ask an administrator.",
    },
  ],
  [
    "consent_required",
    {
      kind: "user",
      title: "Consent is required.",
      fix: "Sign in again and accept the consent prompt, or ask an administrator to grant consent.",
    },
  ],
  [
    "interaction_required",
    { kind: "user", title: "Entra needs you to interact with the sign-in page.", fix: "Sign in again." },
  ],
  ["login_required", { kind: "user", title: "Entra needs you to sign in.", fix: "Sign in again." }],
  [
    "invalid_grant",
    {
      kind: "user",
      title: "The sign-in response was rejected by Entra (expired, already used or not for this attempt).",
      fix: "Sign in again.",
    },
  ],
  [
    "invalid_client",
    {
      kind: "config",
      title: "Entra rejected the app's client credential.",
      fix:
        "Check the federated identity credential on the app registration against the " +
        "managed identity (issuer, subject = principal ID, audience).",
    },
  ],
  [
    "unauthorized_client",
    {
      kind: "config",
      title: "The app registration may not use this flow.",
      fix: "Check the app registration is a web app with the redirect URI registered.",
    },
  ],
  [
    "invalid_request",
    {
      kind: "config",
      title: "Entra rejected the sign-in request.",
      fix: "Check AzureAd__ClientId, AzureAd__TenantId and the redirect URI registered on the app registration.",
    },
  ],
  [
    "invalid_scope",
    {
      kind: "config",
      title: "Entra rejected the requested scopes.",
      fix: "Check the app registration's API permissions.",
    },
  ],
  ["server_error", { kind: "transient", title: "Entra had a problem.", fix: "Wait a moment and sign in again." }],
  [
    "temporarily_unavailable",
    { kind: "transient", title: "Entra is temporarily unavailable.", fix: "Wait a moment and sign in again." },
  ],
]);

/** The first AADSTS number in a description or message ("AADSTS700213: …"), if any. */
export function extractAadstsCode(text: string | undefined): number | undefined {
  const match = /\bAADSTS(\d{4,9})\b/.exec(text ?? "");
  return match?.[1] ? Number(match[1]) : undefined;
}

/**
 * Explains an error Entra returned, from its OAuth `error`, `error_description` and/or `error_codes`.
 * Unknown codes still produce a page with Entra's own description and a pointer to the error-code reference.
 */
export function explainAadsts(input: {
  error?: string;
  description?: string;
  errorCodes?: readonly number[];
}): SignInProblem {
  const code =
    input.errorCodes?.find((c) => AADSTS.has(c)) ?? extractAadstsCode(input.description) ?? input.errorCodes?.[0];
  const known =
    (code !== undefined ? AADSTS.get(code) : undefined) ?? (input.error ? OAUTH_ERRORS.get(input.error) : undefined);
  const explanation: Explanation = known ?? {
    kind: "config",
    title: "Entra returned an error.",
    fix: code
      ? `Look up AADSTS${code} at https://login.microsoftonline.com/error?code=${code} ` +
        `or in the Entra error-code reference.`
      : "See Entra's description below and the sign-in logs of the app registration.",
  };
  const description = firstLine(input.description);
  return {
    status: STATUS[explanation.kind],
    kind: explanation.kind,
    title: explanation.title,
    fix: explanation.fix,
    ...(code !== undefined ? { code: `AADSTS${code}` } : {}),
    ...(input.error ? { error: input.error.slice(0, 100) } : {}),
    ...(description ? { description } : {}),
  };
}

/** Entra's descriptions end with "Trace ID/Correlation ID/Timestamp" lines; keep the first, shortened. */
function firstLine(text: string | undefined): string | undefined {
  const line = text?.split(/\r?\n/, 1)[0]?.trim();
  return line ? line.slice(0, 400) : undefined;
}
