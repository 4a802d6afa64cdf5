import { decodeJwt } from "jose";
import { AuthError, ManagedIdentityApplication, type NodeSystemOptions } from "@azure/msal-node";

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
  /** The managed-identity token (cached by msal-node until it needs refreshing), for `client_assertion`. */
  getAssertion(): Promise<string>;
  /** Claims of the last token obtained, for display; null before the first one. */
  lastAssertionInfo(): AssertionInfo | null;
}

/** The managed-identity endpoint did not give a token; `reason` is safe to show (it never contains a token). */
export class ManagedIdentityError extends Error {
  constructor(readonly reason: string) {
    super(`Managed identity token unavailable: ${reason}`);
    this.name = "ManagedIdentityError";
  }
}

interface ManagedIdentityAssertionOptions {
  /** Client ID of the user-assigned managed identity. */
  readonly managedIdentityClientId: string;
  /** Resource (FIC audience) to request the token for, e.g. "api://AzureADTokenExchange". */
  readonly tokenExchangeUrl: string;
  /** msal-node logger options (PII logging stays off). */
  readonly loggerOptions?: LoggerOptions;
}

/**
 * The TypeScript counterpart of Microsoft.Identity.Web's `SignedAssertionFromManagedIdentity`.
 *
 * msal-node's `ManagedIdentityApplication` finds the App Service endpoint from IDENTITY_ENDPOINT and
 * IDENTITY_HEADER, retries 404/408/429/500/503/504, and caches the token until it is due for refresh. Its cache
 * does not stop concurrent first calls from each reaching the endpoint, so calls are single-flighted here: while a
 * request is in flight every caller shares it, and 50 simultaneous sign-ins cause one managed-identity request.
 */
export function createManagedIdentityAssertion(options: ManagedIdentityAssertionOptions): AssertionProvider {
  const mi = new ManagedIdentityApplication({
    managedIdentityIdParams: { userAssignedClientId: options.managedIdentityClientId },
    system: options.loggerOptions ? { loggerOptions: options.loggerOptions } : {},
  });
  let inFlight: Promise<string> | undefined;
  let info: AssertionInfo | null = null;

  const acquire = async (): Promise<string> => {
    try {
      const result = await mi.acquireToken({ resource: options.tokenExchangeUrl });
      info = describe(result.accessToken, result.expiresOn, options);
      return result.accessToken;
    } catch (error) {
      const hint = process.env.IDENTITY_ENDPOINT
        ? ""
        : " (IDENTITY_ENDPOINT is not set: run on App Service with the identity assigned, or locally with `npm run dev`)";
      throw new ManagedIdentityError(`${describeFailure(error)}${hint}`);
    }
  };

  return {
    getAssertion() {
      if (!inFlight) {
        const request = acquire();
        inFlight = request;
        const clear = (): void => {
          if (inFlight === request) inFlight = undefined;
        };
        request.then(clear, clear);
      }
      return inFlight;
    },
    lastAssertionInfo: () => info,
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

function describeFailure(error: unknown): string {
  if (error instanceof AuthError && /network|fetch failed/i.test(`${error.errorCode} ${error.errorMessage}`)) {
    const endpoint = process.env.IDENTITY_ENDPOINT;
    return endpoint ? `the managed identity endpoint (IDENTITY_ENDPOINT ${endpoint}) could not be reached` : "no managed identity endpoint could be reached";
  }
  if (error instanceof AuthError) {
    const status = (error as { status?: number }).status;
    const message = error.errorMessage || error.errorCode;
    return `${status ? `HTTP ${status} from the managed identity endpoint: ` : ""}${message}`.slice(0, 500);
  }
  return error instanceof Error ? error.message.slice(0, 500) : String(error);
}
