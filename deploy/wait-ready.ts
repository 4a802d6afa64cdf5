/**
 * Waits until the deployed app proves the secretless chain works: polls `https://{host}/readyz` until it answers 200
 * with the readiness contract's `ready` body (contract/readiness.ts), within a bound.
 *
 *   node --import tsx deploy/wait-ready.ts --host <default host name> [--timeout-minutes 10] [--interval-ms 5000]
 *
 * Or READY_HOST, READY_TIMEOUT_MINUTES, READY_INTERVAL_MS in the environment. Nothing here is secret: `/readyz` is a
 * public endpoint and needs no credential.
 *
 * Each answer maps to a code of the contract. Codes that waiting can fix (the app still starting, the federated
 * credential still propagating: AADSTS70021) keep it polling and are reported once when they first appear; codes that
 * need a change (a FIC issuer/audience/subject mismatch, a missing managed identity) stop it at once with the fix.
 * When the bound runs out it says what it saw last.
 *
 * For an app of your own (`--path /ready`, or READY_PATH): polls `https://{host}{path}` until it answers 200, and only
 * 200 (redirects are not followed: a redirect to a sign-in page is not ready). What that proves is up to the app: a
 * path that answers 200 only after redeeming the managed identity's token at Entra (as the sample's `/readyz` and
 * examples/plain-node-app's `/ready` do) proves the chain; a plain health check proves only that the app answers. The
 * wait cannot tell which version of the app answered (the previous one keeps serving until the new one starts), nor
 * can it read a reason from an app that does not speak the readiness contract, so it reports the HTTP status it saw.
 */
import { parseArgs } from "node:util";
import {
  READINESS_ADVICE,
  READINESS_PATH,
  type ReadinessCode,
  ProbeCondition,
  parseReadinessBody,
} from "../contract/readiness";
import { appPathProblem } from "../contract/rules";
import {
  DeployStepError,
  ExitCode,
  badInput,
  formatDuration,
  positiveNumber,
  requireHost,
  runMain,
  sleep,
} from "./cli";

export interface WaitReadyOptions {
  /** The site's host name (its `defaultHostName`). */
  readonly host: string;
  /** Overall bound. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Pause between probes. Default 5 s. */
  readonly intervalMs?: number;
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
  /**
   * For an app other than the sample: the path to wait on until it answers 200. Default: the sample app's `/readyz`
   * and its readiness contract.
   */
  readonly path?: string;
}

const NAME = "wait-ready";

/** What a probe of an app of your own saw: an HTTP status, or no answer at all. */
type PathProbe = { status: number } | { status: "no_answer" };

/** One probe of an app's own readiness path: the status, redirects not followed. */
async function probePath(url: string, timeoutMs: number): Promise<PathProbe> {
  try {
    const response = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return { status: response.status };
  } catch {
    return { status: "no_answer" };
  }
}

/** What a status from an app of your own means to someone waiting, and what to check when it never turns 200. */
function pathAdvice(seen: PathProbe, path: string): { summary: string; fix: string } {
  const status = seen.status;
  if (status === "no_answer") {
    return {
      summary: "no answer (the app is not listening yet)",
      fix: "Check the log stream (`az webapp log tail`): the start command (startupCommand) and the runtime stack.",
    };
  }
  if (status >= 300 && status < 400) {
    return {
      summary: `${status}, a redirect (not followed)`,
      fix: `${path} redirects, likely to sign-in: serve readiness without sign-in, or set waitForReady to false.`,
    };
  }
  if (status === 401 || status === 403) {
    return {
      summary: `${status}, refused without sign-in`,
      fix: `${path} must answer without sign-in: allow anonymous access to it, or set waitForReady to false.`,
    };
  }
  if (status === 404) {
    return {
      summary: "404 (no such path yet: the previous version may still be running)",
      fix: `Check that your app serves ${path} (readinessPath) and that the deployment succeeded.`,
    };
  }
  return {
    summary: `${status}`,
    fix:
      status >= 500
        ? "The app is starting or failing at start-up, or its readiness check fails: check the log stream."
        : `Check what ${path} answers and why it is not 200.`,
  };
}

/** Polls an app's own readiness path until 200; throws {@link DeployStepError} at the bound with what it saw last. */
async function waitForPath(
  host: string,
  path: string,
  timeoutMs: number,
  intervalMs: number,
  log: (l: string) => void,
) {
  const url = `https://${host}${path}`;
  const minutes = formatDuration(timeoutMs);
  log(`waiting up to ${minutes} for ${url} to answer 200`);
  const deadline = Date.now() + timeoutMs;
  let last: PathProbe | undefined;
  while (Date.now() < deadline) {
    const seen = await probePath(url, Math.min(15_000, Math.max(1000, deadline - Date.now())));
    if (seen.status === 200) {
      log(`ready: ${url} answered 200 (what that proves is up to the app: see docs/own-app.md)`);
      return;
    }
    if (seen.status !== last?.status) log(`not ready yet: ${url} answered ${pathAdvice(seen, path).summary}`);
    last = seen;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const advice = last ? pathAdvice(last, path) : undefined;
  throw new DeployStepError(
    `${url} did not answer 200 within ${minutes}; last seen: ${advice?.summary ?? "no answer"}`,
    advice?.fix ?? "Check the site is running (`az webapp show`, the log stream).",
    ExitCode.Timeout,
  );
}

/** One probe of `/readyz`, classified by the contract. */
export async function probeReadiness(url: string, timeoutMs = 15_000): Promise<ReadinessCode> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: "application/json" },
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch {
    // Refused, reset, DNS or timed out: nothing is answering yet.
    return ProbeCondition.NotStarted;
  }
  const body = parseReadinessBody(await response.json().catch(() => undefined));
  if (
    body &&
    ((body.status === "ready" && response.status === 200) || (body.status === "not_ready" && response.status !== 200))
  ) {
    return body.reason;
  }
  return response.status >= 500 ? ProbeCondition.HttpError : ProbeCondition.UnexpectedResponse;
}

/** Polls until ready; throws {@link DeployStepError} with the contract's fix on a terminal code or at the bound. */
export async function waitReady(options: WaitReadyOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const host = requireHost(options.host, "--host", "READY_HOST");
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const intervalMs = options.intervalMs ?? 5000;
  if (options.path !== undefined) {
    const problem = appPathProblem(options.path, "/healthz");
    if (problem) throw badInput(`--path (or READY_PATH) ${problem}`, "pass the path only, e.g. --path /healthz");
    return waitForPath(host, options.path, timeoutMs, intervalMs, log);
  }
  const url = `https://${host}${READINESS_PATH}`;
  const minutes = formatDuration(timeoutMs);
  log(`waiting up to ${minutes} for ${url} to report ready`);

  const deadline = Date.now() + timeoutMs;
  let last: ReadinessCode | undefined;
  while (Date.now() < deadline) {
    const code = await probeReadiness(url, Math.min(15_000, Math.max(1000, deadline - Date.now())));
    const advice = READINESS_ADVICE[code];
    if (code === "ok") {
      log("ready: the managed identity's token was accepted by Entra as the app's credential");
      return;
    }
    if (!advice.keepWaiting) {
      throw new DeployStepError(`the app is not ready: ${advice.summary} [${code}]`, advice.fix, ExitCode.Failed);
    }
    if (code !== last) log(`not ready yet: ${advice.summary} [${code}]; ${advice.fix}`);
    last = code;
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }
  const seen = last ? `${READINESS_ADVICE[last].summary} [${last}]` : "no answer";
  throw new DeployStepError(
    `${url} did not report ready within ${minutes}; last seen: ${seen}`,
    last ? READINESS_ADVICE[last].fix : "Check the site is running (`az webapp show`, the log stream).",
    ExitCode.Timeout,
  );
}

/** Reads the options from argv, falling back to the environment. */
export function waitOptionsFromCommandLine(argv: string[], env: NodeJS.ProcessEnv): WaitReadyOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: "string" },
      path: { type: "string" },
      "timeout-minutes": { type: "string" },
      "interval-ms": { type: "string" },
    },
    strict: true,
  });
  return {
    host: values.host ?? env.READY_HOST ?? "",
    path: values.path ?? (env.READY_PATH || undefined),
    timeoutMs: positiveNumber(values["timeout-minutes"] ?? env.READY_TIMEOUT_MINUTES, "--timeout-minutes", 10) * 60_000,
    intervalMs: positiveNumber(values["interval-ms"] ?? env.READY_INTERVAL_MS, "--interval-ms", 5000),
  };
}

if (require.main === module) {
  runMain(NAME, () => waitReady(waitOptionsFromCommandLine(process.argv.slice(2), process.env)));
}
