/**
 * `/readyz`'s check of the whole trust chain: a fresh managed-identity token, presented to Entra as the client
 * assertion of a client-credentials request. Entra accepts it only when the federated identity credential matches the
 * token, so a success proves what a sign-in needs, without a user. The result is one of the contract's reason codes
 * (contract/readiness.ts); the details go to the log.
 *
 * `/readyz` is public, so the check is cached and single-flighted: however many requests arrive, Entra sees at most
 * one request per cache period per instance.
 */
import { AuthError, ServerError } from "@azure/msal-node";
import { AppReadinessReason, readinessReasonForAadsts, type UsedCredential } from "../../contract/readiness";
import { extractAadstsCode } from "./aadsts";
import { ManagedIdentityError } from "./managed-identity";

/** How long results are reused. */
export interface ReadinessCacheOptions {
  /**
   * A success. Default 5 minutes: a chain that breaks later (a deleted FIC, a detached identity) shows within that
   * time, and Entra sees at most 12 requests an hour per instance whatever the traffic on `/readyz`.
   */
  readonly successTtlMs?: number;
  /**
   * A failure. Default 10 seconds: the deploy step polls every 5 s and sees the end of FIC propagation (AADSTS70021)
   * within one more poll, while a flood of `/readyz` still costs Entra at most 6 requests a minute.
   */
  readonly failureTtlMs?: number;
  /** The clock, for tests. Defaults to Date.now. */
  readonly now?: () => number;
}

/** One check's outcome: the public code and, when not ready, what the log should say. */
export interface ReadinessResult {
  readonly reason: AppReadinessReason;
  /** Why, for the log only: endpoint URLs, Entra's description, error codes. Never a token. */
  readonly detail?: string;
  /** When ready: the credential of the list that proved the chain (index and source type). */
  readonly credential?: UsedCredential;
}

export interface ReadinessCheck {
  /** The cached result while it is fresh; otherwise one check, shared by every caller until it settles. */
  check(): Promise<ReadinessResult & { readonly cached: boolean }>;
}

/**
 * Caches and single-flights `prove` (which resolves when the chain works and throws why it does not).
 */
export function createReadinessCheck(
  prove: () => Promise<UsedCredential | undefined> | Promise<void>,
  options: ReadinessCacheOptions = {},
): ReadinessCheck {
  const successTtlMs = options.successTtlMs ?? 5 * 60_000;
  const failureTtlMs = options.failureTtlMs ?? 10_000;
  const now = options.now ?? Date.now;
  let last: { result: ReadinessResult; until: number } | undefined;
  let inFlight: Promise<ReadinessResult> | undefined;

  const run = async (): Promise<ReadinessResult> => {
    let result: ReadinessResult;
    try {
      const credential = (await prove()) ?? undefined;
      result = credential ? { reason: AppReadinessReason.Ok, credential } : { reason: AppReadinessReason.Ok };
    } catch (error) {
      result = classifyChainFailure(error);
    }
    // The period starts when the answer arrives, so a slow check does not shorten it.
    last = { result, until: now() + (result.reason === AppReadinessReason.Ok ? successTtlMs : failureTtlMs) };
    return result;
  };

  return {
    async check() {
      if (last && now() < last.until) return { ...last.result, cached: true };
      if (!inFlight) {
        const request = run();
        inFlight = request;
        const clear = (): void => {
          if (inFlight === request) inFlight = undefined;
        };
        request.then(clear, clear);
      }
      return { ...(await inFlight), cached: false };
    },
  };
}

/** msal-node's codes for a request that never got an answer from Entra. */
const UNREACHABLE = new Set([
  "network_error",
  "no_network_connectivity",
  "endpoints_resolution_error",
  "openid_config_error",
]);
/**
 * OAuth errors that say Entra itself is in trouble, not the request (e.g. 503 temporarily_unavailable, AADSTS90033).
 */
const ENTRA_TROUBLE = new Set(["temporarily_unavailable", "server_error"]);

/** The contract's reason for a failed check, with the detail for the log. */
export function classifyChainFailure(error: unknown): ReadinessResult {
  if (error instanceof ManagedIdentityError) return { reason: error.code, detail: error.detail };
  if (error instanceof ServerError && /^\d+( \d+)*$/.test(error.errorCode)) {
    // msal-node replays a 429/5xx as a ServerError named by its AADSTS numbers while it throttles the request.
    return {
      reason: AppReadinessReason.EntraUnavailable,
      detail: `throttled by msal-node after Entra answered AADSTS${error.errorCode}`,
    };
  }
  if (error instanceof ServerError) {
    const errorNo = Number(error.errorNo);
    const code = Number.isInteger(errorNo) && errorNo > 0 ? errorNo : extractAadstsCode(error.errorMessage);
    const detail =
      `${error.errorCode}${code ? ` AADSTS${code}` : ""}${error.status ? ` (HTTP ${error.status})` : ""}: ` +
      `${firstLine(error.errorMessage)}`;
    if (ENTRA_TROUBLE.has(error.errorCode) || (error.status ?? 0) >= 500)
      return { reason: AppReadinessReason.EntraUnavailable, detail };
    return { reason: code ? readinessReasonForAadsts(code) : AppReadinessReason.EntraRejected, detail };
  }
  if (error instanceof AuthError) {
    const detail = `${error.errorCode}: ${firstLine(error.errorMessage)}`;
    if (UNREACHABLE.has(error.errorCode)) return { reason: AppReadinessReason.EntraUnavailable, detail };
    return { reason: AppReadinessReason.EntraRejected, detail };
  }
  return {
    reason: AppReadinessReason.EntraRejected,
    detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}

function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? "").trim().slice(0, 400);
}
