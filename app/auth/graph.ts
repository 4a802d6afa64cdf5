/**
 * Microsoft Graph as the signed-in user: the user's access token from their session's token cache (refreshed with
 * the managed identity's token as the client assertion), then `GET {DownstreamApis__MicrosoftGraph__BaseUrl}/me`.
 * Every failure becomes a {@link GraphProblem} that says what happened and what to do; none carries a token.
 */
import { AuthError, InteractionRequiredAuthError, ServerError } from "@azure/msal-node";
import { READINESS_ADVICE } from "../../contract/readiness";
import { DownstreamApiSetting } from "../../contract/settings";
import type { AppConfig } from "../app-config";
import { safeError } from "../logging";
import { explainAadsts, extractAadstsCode } from "./aadsts";
import { ManagedIdentityError } from "./managed-identity";
import type { SignInClient } from "./oidc";
import type { TokenCachePartition } from "./token-cache";
import { TELEMETRY_OFF, type Telemetry } from "../telemetry/telemetry";

/** The profile fields the app shows (Graph's `user` resource; any may be null). */
export interface GraphProfile {
  readonly displayName: string | null;
  readonly mail: string | null;
  readonly jobTitle: string | null;
}

/**
 * Why the profile could not be read, for people. `consent`: nobody consented to the Graph permission (the page links
 * the admin-consent URL). `sign-in`: Entra needs the user to sign in again (revoked or expired refresh token, other
 * interaction); the app ends the session. `unavailable`: Graph, Entra or the managed identity could not be reached or
 * failed (try again). `rejected`/`forbidden`: Graph answered 401/403. `config`: Entra refused the app's request.
 */
export interface GraphProblem {
  readonly kind: "consent" | "sign-in" | "unavailable" | "rejected" | "forbidden" | "config";
  /** HTTP status of the JSON answer. */
  readonly status: number;
  readonly title: string;
  readonly fix: string;
  /** "AADSTS65001", or Graph's error code (e.g. "Authorization_RequestDenied"), when there was one. */
  readonly code?: string;
  /** For `consent` and `forbidden`: where an administrator grants consent for the whole tenant. */
  readonly adminConsentUrl?: string;
  /** True when Entra refused the session's tokens for good: the app ends the session, and the user signs in again. */
  readonly endSession?: boolean;
}

/** The JSON `error` of each kind of Graph problem at /me/graph. */
const GRAPH_ERRORS: Record<GraphProblem["kind"], string> = {
  consent: "consent_required",
  "sign-in": "sign_in_required",
  unavailable: "graph_unavailable",
  rejected: "graph_rejected_token",
  forbidden: "graph_forbidden",
  config: "token_request_refused",
};

/** The JSON body /me/graph answers a Graph problem with, in either sign-in mode. */
export function graphProblemBody({ kind, title, fix, code, adminConsentUrl }: GraphProblem) {
  return {
    error: GRAPH_ERRORS[kind],
    message: title,
    fix,
    ...(code ? { code } : {}),
    ...(adminConsentUrl ? { adminConsentUrl } : {}),
  };
}

export type GraphOutcome =
  | { readonly ok: true; readonly profile: GraphProfile }
  | { readonly ok: false; readonly problem: GraphProblem };

/** What reading the profile needs from the request: the session's tokens, and a log for what the page leaves out. */
export interface GraphRequest {
  readonly sessionId: string;
  readonly homeAccountId: string | undefined;
  readonly tokenCache: TokenCachePartition;
  readonly log: { warn(obj: object, msg: string): void };
}

export interface GraphClient {
  /**
   * The signed-in user's profile, or why not. Concurrent calls for one session share one token request and Graph call.
   */
  profile(request: GraphRequest): Promise<GraphOutcome>;
}

/**
 * Microsoft Entra's tenant-wide admin-consent URL for this app: an administrator who opens it consents, for every
 * user, to the permissions the app registration declares (`User.Read` on Graph, as the stack declares it). See
 * https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent ("Construct the URL for granting
 * tenant-wide admin consent").
 */
export function adminConsentUrl(config: Pick<AppConfig, "instance" | "tenantId" | "clientId">): string {
  const url = new URL(`${config.instance}${encodeURIComponent(config.tenantId)}/adminconsent`);
  url.searchParams.set("client_id", config.clientId);
  return url.href;
}

const PROFILE_FIELDS = "displayName,mail,jobTitle";

export function createGraphClient(options: {
  readonly config: AppConfig;
  readonly client: SignInClient;
  /** How long one Graph request may take. Defaults to 10 s. */
  readonly timeoutMs?: number;
  /** Where the Graph token and the Graph call are recorded as steps. Defaults to telemetry off. */
  readonly telemetry?: Telemetry;
}): GraphClient {
  const { config, client } = options;
  const telemetry = options.telemetry ?? TELEMETRY_OFF;
  const graphMe = `${config.graph.baseUrl}/me`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const inFlight = new Map<string, Promise<GraphOutcome>>();

  const read = async (request: GraphRequest): Promise<GraphOutcome> => {
    if (!request.homeAccountId || (await request.tokenCache.read()) === "") {
      return problem({
        kind: "sign-in",
        status: 401,
        title: "The app holds no Microsoft Graph token for this sign-in.",
        fix: "Sign in again to let the app read your profile.",
      });
    }
    let token: string;
    try {
      token = await telemetry.step(
        "graph.token",
        { kind: "internal", failure: (error) => ({ "signin.aadsts": aadstsCodeOf(error) }) },
        () => client.graphAccessToken(request.tokenCache, request.homeAccountId!),
      );
    } catch (error) {
      const explained = explainTokenFailure(error, config);
      request.log.warn(
        { err: safeError(error), problem: explained.kind, code: explained.code },
        "no Microsoft Graph token",
      );
      return problem(explained);
    }
    return telemetry.step("graph.me", { kind: "client", peer: "graph", method: "GET", target: graphMe }, async () => {
      const outcome = await callGraph(config, token, timeoutMs, request.log);
      telemetry.annotate({ "graph.outcome": outcome.ok ? "ok" : outcome.problem.kind });
      return outcome;
    });
  };

  return {
    profile(request) {
      const running = inFlight.get(request.sessionId);
      if (running) return running;
      const started = read(request).finally(() => inFlight.delete(request.sessionId));
      inFlight.set(request.sessionId, started);
      return started;
    },
  };
}

const problem = (p: GraphProblem): GraphOutcome => ({ ok: false, problem: p });

/** msal-node's (or the managed identity's) failure to give a Graph token, explained. */
export function explainTokenFailure(error: unknown, config: AppConfig): GraphProblem {
  const aadsts = aadstsOf(error);
  const subError = error instanceof AuthError ? error.subError : "";
  if (
    aadsts === 65001 ||
    subError === "consent_required" ||
    (error instanceof AuthError && error.errorCode === "consent_required")
  ) {
    return {
      kind: "consent",
      status: 403,
      code: "AADSTS65001",
      title: "Nobody has consented to this app reading your profile from Microsoft Graph.",
      fix:
        `The app needs the delegated Microsoft Graph permission ${config.graph.scopes.join(", ")}. An administrator ` +
        `grants it for everyone with the link below; if your tenant lets users consent, signing in again shows you ` +
        `the consent prompt.`,
      adminConsentUrl: adminConsentUrl(config),
    };
  }
  if (
    error instanceof InteractionRequiredAuthError ||
    (error instanceof ServerError && error.errorCode === "invalid_grant")
  ) {
    return {
      kind: "sign-in",
      status: 401,
      ...(aadsts ? { code: `AADSTS${aadsts}` } : {}),
      endSession: true,
      title: "Your sign-in has expired or was revoked.",
      fix:
        "Sign in again. Entra no longer accepts this sign-in's refresh token (it was " +
        "revoked, expired, or Entra needs you to interact).",
    };
  }
  if (error instanceof ManagedIdentityError) {
    return {
      kind: "unavailable",
      status: 503,
      title: "The app could not get a token from its managed identity.",
      fix: READINESS_ADVICE[error.code].fix,
    };
  }
  if (error instanceof ServerError) {
    const explained = explainAadsts({ error: error.errorCode, ...(aadsts ? { errorCodes: [aadsts] } : {}) });
    const transient = explained.kind === "transient";
    return {
      kind: transient ? "unavailable" : "config",
      status: transient ? 503 : 502,
      title: explained.title,
      fix: explained.fix,
      ...(explained.code ? { code: explained.code } : {}),
    };
  }
  return {
    kind: "unavailable",
    status: 503,
    title: "Entra could not be reached for a Microsoft Graph token.",
    fix: "Wait a moment and reload the page; the server log has the details.",
  };
}

/** The AADSTS code of an msal-node error as `AADSTS<n>`, for telemetry. */
export function aadstsCodeOf(error: unknown): string | undefined {
  const code = aadstsOf(error);
  return code === undefined ? undefined : `AADSTS${code}`;
}

function aadstsOf(error: unknown): number | undefined {
  if (!(error instanceof AuthError)) return undefined;
  const errorNo = Number((error as AuthError & { errorNo?: string }).errorNo);
  return Number.isInteger(errorNo) && errorNo > 0 ? errorNo : extractAadstsCode(error.errorMessage);
}

/**
 * `GET {baseUrl}/me?$select=displayName,mail,jobTitle` with the user's token; Graph's answer explained when not 200.
 */
export async function callGraph(
  config: AppConfig,
  token: string,
  timeoutMs: number,
  log: GraphRequest["log"],
): Promise<GraphOutcome> {
  const url = `${config.graph.baseUrl}/me?$select=${PROFILE_FIELDS}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: "application/json" },
      redirect: "error", // the token goes to Graph's origin only
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
    log.warn({ graph: config.graph.baseUrl, cause }, "Microsoft Graph unreachable");
    return problem({
      kind: "unavailable",
      status: 503,
      title: "Microsoft Graph could not be reached.",
      fix:
        `Wait a moment and reload the page. If it persists, check ` +
        `${DownstreamApiSetting.GraphBaseUrl} and the app's outbound network access.`,
    });
  }
  const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined;
  const graphCode = graphErrorCode(body);
  if (response.ok && body) {
    const text = (name: string): string | null => (typeof body[name] === "string" ? (body[name] as string) : null);
    return { ok: true, profile: { displayName: text("displayName"), mail: text("mail"), jobTitle: text("jobTitle") } };
  }
  log.warn(
    { status: response.status, graphCode, requestId: response.headers.get("request-id") },
    "Microsoft Graph refused the profile request",
  );
  const code = graphCode ? { code: graphCode } : {};
  if (response.status === 401) {
    return problem({
      kind: "rejected",
      status: 502,
      ...code,
      title: "Microsoft Graph rejected the app's access token (HTTP 401).",
      fix:
        `Sign in again. If it persists, check ${DownstreamApiSetting.GraphBaseUrl} is ` +
        `the Microsoft Graph of the cloud you sign in to.`,
    });
  }
  if (response.status === 403) {
    return problem({
      kind: "forbidden",
      status: 502,
      ...code,
      title: "Microsoft Graph refused to read your profile (HTTP 403).",
      fix:
        `The access token lacks a permission that reads the user: grant the app ${config.graph.scopes.join(", ")} ` +
        `(an administrator can use the admin-consent link) and sign in again.`,
      adminConsentUrl: adminConsentUrl(config),
    });
  }
  const retryAfter = response.headers.get("retry-after");
  return problem({
    kind: "unavailable",
    status: 503,
    ...code,
    title: `Microsoft Graph is unavailable (HTTP ${response.status}).`,
    fix:
      `Wait${retryAfter && /^\d{1,4}$/.test(retryAfter) ? ` ${retryAfter} seconds` : " a moment"} ` +
      `and reload the page.`,
  });
}

/** Graph's error code from its error body (`{ error: { code } }`), shortened; undefined when there is none. */
function graphErrorCode(body: Record<string, unknown> | undefined): string | undefined {
  const error = body?.error as { code?: unknown } | undefined;
  return typeof error?.code === "string" ? error.code.replace(/[^\w.-]/g, "").slice(0, 80) : undefined;
}
