/**
 * The readiness contract between the sample app's `/readyz` and the deploy step that waits for it
 * (deploy/wait-ready.ts): the JSON body, the reason codes, and for each code whether waiting can still help and what
 * the operator must fix. This file is the only home of the codes and their fixes; the app emits them, the waiter and
 * the docs read them.
 *
 * The body is public, so it says only ready / not ready and a short code: no URL, no ID, no Entra message. The app
 * logs the details.
 *
 * Codes and fixes follow the README's troubleshooting table; AADSTS meanings:
 * https://learn.microsoft.com/entra/identity-platform/reference-error-codes and
 * https://learn.microsoft.com/entra/workload-id/workload-identity-federation-considerations (propagation, AADSTS70021).
 */

/** The path the app answers readiness on. */
export const READINESS_PATH = "/readyz";

/** Reason codes the app's `/readyz` emits. */
export const AppReadinessReason = {
  /** Ready: the managed-identity token and the client-credentials exchange both worked. */
  Ok: "ok",
  /** AADSTS70021: no FIC matches yet; right after creation this is propagation. */
  FicPropagating: "fic_propagating",
  /** AADSTS700211: the FIC's issuer does not match the managed identity's token. */
  FicIssuerMismatch: "fic_issuer_mismatch",
  /** AADSTS700212: the FIC's audience does not match. */
  FicAudienceMismatch: "fic_audience_mismatch",
  /** AADSTS700213: the FIC's subject does not match (client ID used instead of principal ID). */
  FicSubjectMismatch: "fic_subject_mismatch",
  /** AADSTS7002138: the subject matches only when case is ignored. */
  FicSubjectCase: "fic_subject_case",
  /** AADSTS700016: Entra does not know the app (yet): a new registration replicates for a short while. */
  AppNotFound: "app_not_found",
  /** Any other AADSTS error from the client-credentials exchange. */
  EntraRejected: "entra_rejected",
  /** Entra could not be reached or answered 5xx. */
  EntraUnavailable: "entra_unavailable",
  /** IDENTITY_ENDPOINT/IDENTITY_HEADER are not set: no managed identity is attached to the site. */
  MiNotConfigured: "mi_not_configured",
  /** The managed-identity endpoint answered 400 "Unable to load the proper Managed Identity.": wrong client ID. */
  MiIdentityNotFound: "mi_identity_not_found",
  /** The managed-identity endpoint is down or failed. */
  MiUnavailable: "mi_unavailable",
  /** Scaled out: the shared session store (Redis) cannot be reached, or does not accept the identity's token. */
  StoreUnavailable: "store_unavailable",
} as const;
export type AppReadinessReason = (typeof AppReadinessReason)[keyof typeof AppReadinessReason];

/** Conditions the waiter sees itself, before the app can answer with the contract's body. */
export const ProbeCondition = {
  /** The connection was refused, reset or timed out: the app (or its new container) is not up yet. */
  NotStarted: "not_started",
  /** A 5xx without the contract's body: App Service's front end while the container starts, or a crash loop. */
  HttpError: "http_error",
  /** An answer that is not the contract's body (e.g. 404 from the previous app version still running). */
  UnexpectedResponse: "unexpected_response",
} as const;
export type ProbeCondition = (typeof ProbeCondition)[keyof typeof ProbeCondition];

/** Every code a readiness wait can report. */
export type ReadinessCode = AppReadinessReason | ProbeCondition;

/**
 * Which entry of the app's ordered credential list (`AzureAd__ClientCredentials__N__…`) proved the trust chain: its
 * index N and its source type (`SignedAssertionFromManagedIdentity`, `ClientSecret`), never a value. A migration off
 * a client secret reads it to prove the managed identity is what works.
 */
export interface UsedCredential {
  readonly index: number;
  readonly sourceType: string;
}

/** The JSON body of `/readyz`: 200 with `ready` (and the credential that proved it), 503 with `not_ready`. */
export type ReadinessBody =
  | { readonly status: "ready"; readonly reason: typeof AppReadinessReason.Ok; readonly credential?: UsedCredential }
  | { readonly status: "not_ready"; readonly reason: Exclude<AppReadinessReason, typeof AppReadinessReason.Ok> };

/** What each code means to someone waiting for the app. */
export interface ReadinessAdvice {
  /** True: keep polling (until the bound); false: stop and fail with the fix. */
  readonly keepWaiting: boolean;
  /** One line for the log while waiting or when failing. */
  readonly summary: string;
  /** What to do. */
  readonly fix: string;
}

const FIC_COMPARE = "Compare the federated identity credential on the app registration with the managed identity";

/** The advice for every code: the single table the waiter, the app and the docs use. */
export const READINESS_ADVICE: { readonly [code in ReadinessCode]: ReadinessAdvice } = {
  ok: { keepWaiting: false, summary: "ready", fix: "Nothing to do." },
  fic_propagating: {
    keepWaiting: true,
    summary: "the federated credential is still propagating in Entra (AADSTS70021)",
    fix:
      "A new federated identity credential takes a few minutes to reach every " +
      "region; waiting. If it persists past the bound, " +
      `${FIC_COMPARE} (issuer, subject = principal ID, audience).`,
  },
  fic_issuer_mismatch: {
    keepWaiting: false,
    summary: "the federated credential's issuer does not match the managed identity's token (AADSTS700211)",
    fix:
      "The issuer must be {instance}{tenant}/v2.0 of the identity's tenant, and the " +
      "identity and the app registration must be in one tenant.",
  },
  fic_audience_mismatch: {
    keepWaiting: false,
    summary: "the federated credential's audience does not match the managed identity's token (AADSTS700212)",
    fix:
      "The app must request the managed-identity token for the FIC's audience " +
      "(AzureAd__ClientCredentials__0__TokenExchangeUrl), and the stack's `cloud` must be the right one.",
  },
  fic_subject_mismatch: {
    keepWaiting: false,
    summary: "the federated credential's subject does not match the managed identity (AADSTS700213)",
    fix: "The subject must be the managed identity's principal (object) ID, not its client ID.",
  },
  fic_subject_case: {
    keepWaiting: false,
    summary:
      "the federated credential's subject matches the managed identity only when case is ignored (AADSTS7002138)",
    fix: "Subjects are compared case-sensitively: use the principal ID exactly as Azure reports it.",
  },
  app_not_found: {
    keepWaiting: true,
    summary: "Entra does not know the app registration yet (AADSTS700016)",
    fix:
      "A new app registration takes a short while to replicate; waiting. If it persists, " +
      "AzureAd__ClientId/TenantId/Instance point at the wrong app, tenant or cloud.",
  },
  entra_rejected: {
    keepWaiting: false,
    summary: "Entra rejected the app's client-credentials request",
    fix:
      "The app's log (App Service log stream) has the AADSTS code; look " +
      "it up in the README's troubleshooting table.",
  },
  entra_unavailable: {
    keepWaiting: true,
    summary: "Entra could not be reached from the app",
    fix:
      "Waiting. If it persists, check the site's outbound network (VNet integration, NSG " +
      "or firewall rules must allow the Entra login endpoint).",
  },
  mi_not_configured: {
    keepWaiting: false,
    summary: "no managed identity is attached to the site (IDENTITY_ENDPOINT is not set)",
    fix:
      "Attach the user-assigned managed identity to the web app (the stack " +
      "does; check nothing removed it) and restart the app.",
  },
  mi_identity_not_found: {
    keepWaiting: false,
    summary:
      "the managed-identity endpoint does not know the identity the app asked for " +
      '("Unable to load the proper Managed Identity.")',
    fix:
      "AzureAd__ClientCredentials__0__ManagedIdentityClientId must be the client " +
      "ID of a user-assigned identity attached to the site.",
  },
  mi_unavailable: {
    keepWaiting: false,
    summary: "the managed-identity endpoint failed",
    fix:
      "Restart the app; if it persists, check the identity is still " +
      "attached and App Service's status for the region.",
  },
  store_unavailable: {
    keepWaiting: true,
    summary: "the app cannot reach its session store (Redis)",
    fix:
      "Waiting: a new cache and its access policy assignment take a few " +
      "minutes. If it persists, check the cache is running, " +
      "its database has an access policy assignment for the web app's identity " +
      "(Redis__UserName = that identity's object ID), " +
      "and the site can reach Redis__HostName:Redis__Port over TLS (firewall, private endpoint, DNS).",
  },
  not_started: {
    keepWaiting: true,
    summary: "the app is not answering yet (starting)",
    fix: "Waiting for the app to start. If it never does, check the log stream: the start command is `node server.js`.",
  },
  http_error: {
    keepWaiting: true,
    summary: "the site answers with a server error (the app is starting or restarting)",
    fix: "Waiting. If it persists, the app is crashing at start-up: check the log stream (`az webapp log tail`).",
  },
  unexpected_response: {
    keepWaiting: true,
    summary:
      "the site does not answer /readyz with the readiness contract yet " +
      "(the previous version may still be running)",
    fix:
      "Waiting for the new version to start. If it persists, check that the " +
      "deployment succeeded and WEBSITE_RUN_FROM_PACKAGE=1.",
  },
};

/** True when `value` is one of the app's reason codes. */
export function isAppReadinessReason(value: unknown): value is AppReadinessReason {
  return typeof value === "string" && (Object.values(AppReadinessReason) as string[]).includes(value);
}

/**
 * Reads a `/readyz` body; anything that is not exactly the contract's shape gives undefined, including a body with
 * any other field (the public answer carries the status, the code and, when ready, the credential, nothing else).
 */
export function parseReadinessBody(json: unknown): ReadinessBody | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const keys = Object.keys(json).sort().join(",");
  if (keys !== "reason,status" && keys !== "credential,reason,status") return undefined;
  const { status, reason, credential } = json as { status?: unknown; reason?: unknown; credential?: unknown };
  if (status === "ready" && reason === AppReadinessReason.Ok) {
    if (keys === "reason,status") return { status, reason };
    const used = parseUsedCredential(credential);
    return used ? { status, reason, credential: used } : undefined;
  }
  if (keys !== "reason,status") return undefined;
  if (status === "not_ready" && isAppReadinessReason(reason) && reason !== AppReadinessReason.Ok)
    return { status, reason };
  return undefined;
}

/** The body the app sends for `reason` (the app answers 200 when ready, 503 otherwise). */
export function readinessBody(reason: AppReadinessReason, credential?: UsedCredential): ReadinessBody {
  if (reason !== AppReadinessReason.Ok) return { status: "not_ready", reason };
  return credential
    ? { status: "ready", reason, credential: { index: credential.index, sourceType: credential.sourceType } }
    : { status: "ready", reason };
}

function parseUsedCredential(json: unknown): UsedCredential | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  if (Object.keys(json).sort().join(",") !== "index,sourceType") return undefined;
  const { index, sourceType } = json as { index?: unknown; sourceType?: unknown };
  if (!Number.isInteger(index) || (index as number) < 0 || typeof sourceType !== "string") return undefined;
  if (!/^[A-Za-z]{1,64}$/.test(sourceType)) return undefined;
  return { index: index as number, sourceType };
}

/** AADSTS codes of the client-credentials exchange that have their own reason; any other is `entra_rejected`. */
const AADSTS_REASONS: ReadonlyMap<number, AppReadinessReason> = new Map([
  [70021, AppReadinessReason.FicPropagating],
  [700211, AppReadinessReason.FicIssuerMismatch],
  [700212, AppReadinessReason.FicAudienceMismatch],
  [700213, AppReadinessReason.FicSubjectMismatch],
  [7002138, AppReadinessReason.FicSubjectCase],
  [700016, AppReadinessReason.AppNotFound],
]);

/** The reason the app reports for an AADSTS code from its client-credentials exchange. */
export function readinessReasonForAadsts(code: number): AppReadinessReason {
  return AADSTS_REASONS.get(code) ?? AppReadinessReason.EntraRejected;
}
