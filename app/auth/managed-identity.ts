import { decodeJwt } from "jose";
import {
  AuthError,
  ManagedIdentityApplication,
  ServerError,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
  type NodeSystemOptions,
} from "@azure/msal-node";
import { AppReadinessReason } from "../../contract/readiness";
import { TELEMETRY_OFF, type Telemetry } from "../telemetry/telemetry";

type LoggerOptions = NonNullable<NodeSystemOptions["loggerOptions"]>;

/** What the app shows about the managed-identity token it presented (never the token itself). */
interface AssertionInfo {
  /** Client ID of the user-assigned managed identity (`azp` claim, else the configured one). */
  readonly clientId: string;
  /** The token's `sub`, which the FIC's subject must equal: the identity's principal ID. */
  readonly subject: string;
  /** Principal (object) ID of the managed identity: the token's `oid` claim. */
  readonly principalId: string;
  /** The token's issuer, which the FIC's issuer must equal. */
  readonly issuer: string;
  /** Resource the token was requested for: the FIC's audience. */
  readonly audience: string;
  /** When the token expires. */
  readonly expiresOn: Date | null;
}

/** Supplies the client assertion: the user-assigned managed identity's token for the token-exchange audience. */
export interface AssertionProvider {
  /**
   * The managed-identity token, for `client_assertion`: from msal-node's cache until it is due for refresh, or, with
   * `fresh`, from the endpoint itself (the readiness check proves the endpoint still answers).
   */
  getAssertion(options?: { fresh?: boolean }): Promise<string>;
  /** Claims of the last token obtained, for display; null before the first one. */
  lastAssertionInfo(): AssertionInfo | null;
}

/** The readiness codes a managed-identity failure maps to (contract/readiness.ts). */
export type ManagedIdentityFailure =
  | typeof AppReadinessReason.MiNotConfigured
  | typeof AppReadinessReason.MiIdentityNotFound
  | typeof AppReadinessReason.MiUnavailable;

/**
 * The managed-identity endpoint did not give a token. `code` is the public reason; the message (`detail`) names the
 * endpoint and what it said, for the log only: it never contains a token, but it is not for public pages either.
 */
export class ManagedIdentityError extends Error {
  constructor(
    readonly code: ManagedIdentityFailure,
    readonly detail: string,
  ) {
    super(`Managed identity token unavailable: ${detail}`);
    this.name = "ManagedIdentityError";
  }
}

interface ManagedIdentityOptions {
  /** Client ID of the user-assigned managed identity. */
  readonly managedIdentityClientId: string;
  /**
   * `IDENTITY_ENDPOINT` as app/app-config.ts accepted it (msal-node reads the same variable). Undefined: no managed
   * identity is attached, and no request is made.
   */
  readonly identityEndpoint: string | undefined;
  /** msal-node logger options (PII logging stays off). */
  readonly loggerOptions?: LoggerOptions;
  /** How long one request to the endpoint may take. Defaults to 10 s (msal-node sets none). */
  readonly requestTimeoutMs?: number;
  /** Where each request to the endpoint is recorded as a step. Defaults to telemetry off. */
  readonly telemetrySteps?: Telemetry;
}

interface ManagedIdentityAssertionOptions extends ManagedIdentityOptions {
  /** Resource (FIC audience) to request the token for, e.g. "api://AzureADTokenExchange". */
  readonly tokenExchangeUrl: string;
  /**
   * The token source to use; defaults to a new one for these options. Share one so every token comes from one cache.
   */
  readonly source?: ManagedIdentityTokenSource;
}

/** A managed-identity token and when it expires. */
export interface ManagedIdentityToken {
  readonly token: string;
  readonly expiresOn: Date | null;
}

/**
 * The user-assigned managed identity's tokens, for any resource: the client assertion (the token-exchange audience)
 * and the Redis password (the cloud's Redis resource) come from this one source, its one msal-node cache and its one
 * guarded network client.
 */
export interface ManagedIdentityTokenSource {
  /**
   * A token for `resource` (a resource URI or app ID, without `/.default`): from msal-node's cache until it is due for
   * refresh, or, with `fresh`, from the endpoint itself. Throws a {@link ManagedIdentityError}.
   */
  getToken(resource: string, options?: { fresh?: boolean }): Promise<ManagedIdentityToken>;
}

/**
 * The TypeScript counterpart of the managed-identity half of Microsoft.Identity.Web's
 * `SignedAssertionFromManagedIdentity`.
 *
 * msal-node's `ManagedIdentityApplication` finds the App Service endpoint from IDENTITY_ENDPOINT and
 * IDENTITY_HEADER, retries 404/408/429/500/503/504, and caches each resource's token until it is due for refresh. Its
 * cache does not stop concurrent first calls from each reaching the endpoint, so calls are single-flighted per
 * resource here: while a request is in flight every caller shares it, and 50 simultaneous sign-ins cause one
 * managed-identity request.
 *
 * Its default network client is `fetch` with redirects followed, which would carry `X-IDENTITY-HEADER` to whatever
 * origin a redirect names and hand back that origin's token; {@link managedIdentityNetworkClient} replaces it.
 */
export function createManagedIdentityTokenSource(options: ManagedIdentityOptions): ManagedIdentityTokenSource {
  const { identityEndpoint } = options;
  const mi = identityEndpoint
    ? new ManagedIdentityApplication({
        managedIdentityIdParams: { userAssignedClientId: options.managedIdentityClientId },
        system: {
          networkClient: managedIdentityNetworkClient(
            identityEndpoint,
            options.requestTimeoutMs ?? 10_000,
            options.telemetrySteps,
          ),
          ...(options.loggerOptions ? { loggerOptions: options.loggerOptions } : {}),
        },
      })
    : undefined;
  const inFlight = new Map<string, Promise<ManagedIdentityToken>>();

  const acquire = async (resource: string, forceRefresh: boolean): Promise<ManagedIdentityToken> => {
    if (!mi) {
      throw new ManagedIdentityError(
        AppReadinessReason.MiNotConfigured,
        "IDENTITY_ENDPOINT is not set: run on App Service with the identity assigned, or locally with `npm run dev`",
      );
    }
    try {
      const result = await mi.acquireToken({ resource, forceRefresh });
      return { token: result.accessToken, expiresOn: result.expiresOn };
    } catch (error) {
      throw classifyFailure(error, identityEndpoint!);
    }
  };

  return {
    getToken(resource, { fresh = false } = {}) {
      // A fresh token is never shared with a cached lookup in flight: it must come from the endpoint.
      if (fresh) return acquire(resource, true);
      let request = inFlight.get(resource);
      if (!request) {
        request = acquire(resource, false);
        inFlight.set(resource, request);
        const started = request;
        const clear = (): void => {
          if (inFlight.get(resource) === started) inFlight.delete(resource);
        };
        request.then(clear, clear);
      }
      return request;
    },
  };
}

/** The client assertion: the managed identity's token for the token-exchange audience, described for the home page. */
export function createManagedIdentityAssertion(options: ManagedIdentityAssertionOptions): AssertionProvider {
  const source = options.source ?? createManagedIdentityTokenSource(options);
  let info: AssertionInfo | null = null;
  return {
    async getAssertion({ fresh = false } = {}) {
      const { token, expiresOn } = await source.getToken(options.tokenExchangeUrl, { fresh });
      info = describe(token, expiresOn, options);
      return token;
    },
    lastAssertionInfo: () => info,
  };
}

/** msal-node's error code for a request this client refused to send or a response it refused to use. */
const ENDPOINT_REFUSED = "managed_identity_endpoint_refused";

/**
 * msal-node's network client for the managed-identity endpoint: `fetch` that never follows a redirect (a 3xx is an
 * error, so neither `X-IDENTITY-HEADER` nor the request leaves the endpoint's origin), sends GETs only to the
 * endpoint's own origin and path, and gives up after `timeoutMs`. Errors are msal-node `AuthError`s so msal-node
 * passes them through unchanged (anything else becomes a bare "network_error").
 */
export function managedIdentityNetworkClient(
  identityEndpoint: string,
  timeoutMs: number,
  telemetry: Telemetry = TELEMETRY_OFF,
): INetworkModule {
  const endpoint = new URL(identityEndpoint);
  const send = async <T>(url: string, options: NetworkRequestOptions | undefined): Promise<NetworkResponse<T>> => {
    const target = new URL(url);
    if (target.origin !== endpoint.origin || target.pathname !== endpoint.pathname) {
      throw new AuthError(
        ENDPOINT_REFUSED,
        "",
        `refused a request to ${target.origin}${target.pathname}: only ` +
          `${endpoint.origin}${endpoint.pathname} is the managed identity endpoint`,
      );
    }
    let response: Response;
    try {
      response = await fetch(target, {
        headers: options?.headers ?? {},
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).name;
      throw new AuthError(
        "network_error",
        "",
        `${endpoint.origin}${endpoint.pathname} could not be reached (${cause})`,
      );
    }
    if (response.status >= 300 && response.status < 400) {
      await response.body?.cancel();
      throw new AuthError(
        ENDPOINT_REFUSED,
        "",
        `${endpoint.origin}${endpoint.pathname} answered a redirect (HTTP ` +
          `${response.status}), which is not followed`,
      );
    }
    let body: T;
    try {
      body = (await response.json()) as T;
    } catch {
      throw new AuthError(
        "token_parsing_error",
        "",
        `${endpoint.origin}${endpoint.pathname} answered HTTP ${response.status} without JSON`,
      );
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return { headers, body, status: response.status };
  };
  return {
    // Each request that reaches the endpoint (not a cache hit) is a step of the request that needed the token.
    sendGetRequestAsync: <T>(url: string, options: NetworkRequestOptions | undefined) =>
      telemetry.step(
        "managed_identity.token",
        {
          kind: "client",
          peer: "managed-identity",
          method: "GET",
          target: `${endpoint.origin}${endpoint.pathname}`,
          attributes: {
            "managed_identity.resource": URL.canParse(url)
              ? (new URL(url).searchParams.get("resource") ?? undefined)
              : undefined,
          },
        },
        async () => {
          const response = await send<T>(url, options);
          telemetry.annotate({ "http.response.status_code": response.status });
          return response;
        },
      ),
    // App Service's source only sends GETs (Cloud Shell's POSTs are not a source this app runs on).
    sendPostRequestAsync: async (url) => {
      throw new AuthError(
        ENDPOINT_REFUSED,
        "",
        `refused a POST to ${new URL(url).origin}: the App Service endpoint takes GETs only`,
      );
    },
  };
}

function describe(token: string, expiresOn: Date | null, options: ManagedIdentityAssertionOptions): AssertionInfo {
  let claims: Record<string, unknown> = {};
  try {
    claims = decodeJwt(token);
  } catch {
    // Not a JWT we can read: still usable as an assertion, just not describable.
  }
  const text = (value: unknown, fallback: string): string => (typeof value === "string" && value ? value : fallback);
  return {
    clientId: text(claims.azp ?? claims.appid, options.managedIdentityClientId),
    subject: text(claims.sub, "(unknown)"),
    principalId: text(claims.oid, "(unknown)"),
    issuer: text(claims.iss, "(unknown)"),
    audience: options.tokenExchangeUrl,
    expiresOn,
  };
}

/** App Service's answer for an identity that is not attached (older platforms say "requested"). */
const IDENTITY_NOT_FOUND = /Unable to load (the proper|requested) Managed Identity/i;

function classifyFailure(error: unknown, endpoint: string): ManagedIdentityError {
  if (error instanceof AuthError) {
    const status = error instanceof ServerError ? error.status : undefined;
    const said = (error.errorMessage || error.errorCode).slice(0, 500);
    const detail = `${status ? `HTTP ${status} from ${endpoint}: ` : `${endpoint}: `}${said}`;
    const code = IDENTITY_NOT_FOUND.test(said)
      ? AppReadinessReason.MiIdentityNotFound
      : AppReadinessReason.MiUnavailable;
    return new ManagedIdentityError(code, detail);
  }
  const said = error instanceof Error ? error.message : String(error);
  return new ManagedIdentityError(AppReadinessReason.MiUnavailable, `${endpoint}: ${said.slice(0, 500)}`);
}
