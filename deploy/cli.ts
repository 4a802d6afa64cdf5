import { createHash } from "node:crypto";
import type { TokenCredential } from "@azure/identity";

/**
 * What the deploy scripts share: input validation, the error that carries its fix, and the `main` wrapper that turns
 * it into an exit code. The scripts run as `@pulumi/command` commands, so everything they print lands in the Pulumi
 * log and in the stack state: they print host names, sizes, hashes and Kudu's own status text, never a token.
 */

/** Exit codes, so a caller (or a test) can tell the failures apart. */
export const ExitCode = {
  Ok: 0,
  /** Unexpected failure (a bug, or something this file does not classify). */
  Unexpected: 1,
  /** An input (argument or environment variable) is missing or malformed. */
  BadInput: 2,
  /** No Entra token: not logged in. */
  NotLoggedIn: 3,
  /** The SCM site refused the token (401) or the deployer lacks the role (403). */
  Unauthorized: 4,
  /** The site does not exist (404). */
  NotFound: 5,
  /** Another deployment kept the site busy through every retry (409). */
  Conflict: 6,
  /** Kudu ran the deployment and it failed, or the app reports a problem that waiting will not fix. */
  Failed: 7,
  /** The package is too large (413). */
  TooLarge: 8,
  /** The bound ran out. */
  Timeout: 9,
  /** The host could not be reached at all. */
  Unreachable: 10,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A failure the user can act on: what happened, and what to do about it. */
export class DeployStepError extends Error {
  constructor(
    message: string,
    readonly fix: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
    this.name = "DeployStepError";
  }
}

/**
 * `host` or `host:port`, DNS labels only: no scheme, no path, no user info, nothing a shell or URL parser could bend.
 */
const HOST = new RegExp(
  String.raw`^(?=.{1,253}(?::\d{1,5})?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?` +
    String.raw`(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::\d{1,5})?$`,
  "i",
);

/** Validates a host name input, naming the argument and the environment variable it came from. */
export function requireHost(value: string | undefined, flag: string, env: string): string {
  if (!value)
    throw badInput(`${flag} (or ${env}) is required`, `pass the host name, e.g. ${flag} myapp.scm.azurewebsites.net`);
  if (!HOST.test(value)) {
    throw badInput(
      `${flag} must be a bare host name such as myapp.scm.azurewebsites.net, ` +
        `got ${JSON.stringify(value.slice(0, 100))}`,
      "pass the host name only: no https://, no path",
    );
  }
  return value.toLowerCase();
}

/** Validates a positive number input (minutes, milliseconds, counts). */
export function positiveNumber(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw badInput(
      `${flag} must be a positive number, got ${JSON.stringify(value.slice(0, 40))}`,
      `pass e.g. ${flag} ${fallback}`,
    );
  return n;
}

export function badInput(message: string, fix: string): DeployStepError {
  return new DeployStepError(message, fix, ExitCode.BadInput);
}

/** Text from a server, made safe for a terminal and a log line: one line, no control characters, bounded. */
export function oneLine(text: string, max = 500): string {
  // eslint-disable-next-line no-control-regex
  const flat = text
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** A bound for humans: whole minutes as "10 min", anything shorter in seconds. */
export function formatDuration(ms: number): string {
  const minutes = ms / 60_000;
  return minutes >= 1 && Number.isInteger(minutes) ? `${minutes} min` : `${Math.round(ms / 1000)} s`;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The network error code under a failed `fetch` (ECONNREFUSED, ENOTFOUND, UND_ERR_CONNECT_TIMEOUT…), if any. */
export function networkErrorCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown; name?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === "string") return cause.code;
  if ((error as { name?: unknown })?.name === "TimeoutError") return "TIMEOUT";
  return undefined;
}

/**
 * Runs a script's body: prints a {@link DeployStepError} as `error:`/`fix:` lines on stderr and exits with its code;
 * an unknown or malformed argument is bad input (exit 2); anything else is unexpected (exit 1), printed by message
 * only.
 */
export function runMain(name: string, body: () => Promise<void>): void {
  Promise.resolve()
    .then(body)
    .then(
      () => {
        process.exitCode = ExitCode.Ok;
      },
      (error: unknown) => {
        const code = (error as { code?: unknown } | undefined)?.code;
        if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
          error = badInput(oneLine((error as Error).message), `see the usage at the top of deploy/${name}.ts`);
        }
        if (error instanceof DeployStepError) {
          console.error(`${name}: error: ${error.message}`);
          console.error(`${name}: fix: ${error.fix}`);
          process.exitCode = error.exitCode;
        } else {
          console.error(
            `${name}: unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}`,
          );
          process.exitCode = ExitCode.Unexpected;
        }
      },
    );
}

/**
 * A Microsoft Entra token for `scope` from the deployer's credential, or a not-logged-in DeployStepError naming
 * `service` (the API the token is for), the credential's own reason, and `fix`.
 */
export async function entraToken(
  credential: TokenCredential,
  scope: string,
  service: string,
  fix: string,
): Promise<string> {
  let failure: unknown;
  try {
    const token = await credential.getToken(scope);
    if (token?.token) return token.token;
  } catch (error) {
    failure = error;
  }
  const detail = failure instanceof Error ? `: ${oneLine(failure.message, 400)}` : "";
  throw new DeployStepError(`could not get a Microsoft Entra token for ${service}${detail}`, fix, ExitCode.NotLoggedIn);
}
