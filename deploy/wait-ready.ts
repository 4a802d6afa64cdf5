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
 */
import { parseArgs } from "node:util";
import {
  READINESS_ADVICE,
  READINESS_PATH,
  type ReadinessCode,
  ProbeCondition,
  parseReadinessBody,
} from "../contract/readiness";
import { DeployStepError, ExitCode, formatDuration, positiveNumber, requireHost, runMain, sleep } from "./cli";

export interface WaitReadyOptions {
  /** The site's host name (its `defaultHostName`). */
  readonly host: string;
  /** Overall bound. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Pause between probes. Default 5 s. */
  readonly intervalMs?: number;
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
}

const NAME = "wait-ready";

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
    options: { host: { type: "string" }, "timeout-minutes": { type: "string" }, "interval-ms": { type: "string" } },
    strict: true,
  });
  return {
    host: values.host ?? env.READY_HOST ?? "",
    timeoutMs: positiveNumber(values["timeout-minutes"] ?? env.READY_TIMEOUT_MINUTES, "--timeout-minutes", 10) * 60_000,
    intervalMs: positiveNumber(values["interval-ms"] ?? env.READY_INTERVAL_MS, "--interval-ms", 5000),
  };
}

if (require.main === module) {
  runMain(NAME, () => waitReady(waitOptionsFromCommandLine(process.argv.slice(2), process.env)));
}
