/**
 * The Kudu OneDeploy client behind `one-deploy.ts`: uploads a zip to an App Service site's SCM host with a bearer
 * token, waits for the deployment, and turns every way it can fail into a {@link DeployStepError} with the fix.
 * The token is sent to the SCM host only: URLs the server hands back are followed only on that same origin.
 *
 * Protocol (Kudu, as App Service runs it; read in Azure-App-Service/KuduLite `PushDeploymentController.OneDeploy` and
 * `DeploymentController.GetResult`, projectkudu/kudu `DeployResult`, `DeployStatus`, `LogEntry`):
 * 1. `POST https://{scm}/api/publish?type=zip&async=true`, body = the zip (`application/octet-stream`),
 *    `Authorization: Bearer <token>` (App Service audience first, ARM once on 401; see `one-deploy.ts`).
 *    Answers 202 with `Location: /api/deployments/latest?deployer=OneDeploy&…`;
 *    409 while another deployment runs (or when WEBSITE_RUN_FROM_PACKAGE is a URL); 200 if it ran synchronously.
 * 2. `GET {Location}` answers 202 with the pending DeployResult while it runs, then 200 with the final one:
 *    `{ id, status, status_text, complete, log_url, … }`, status 0 Pending, 1 Building, 2 Deploying, 3 Failed,
 *    4 Success.
 * 3. On failure, `GET {log_url}` lists `{ message, type (0 info, 1 warning, 2 error), details_url }`; the details of
 *    the failing entry hold the line that says why.
 * With basic auth off, Kudu accepts only Entra tokens and authorises them through Azure RBAC: the deployer needs
 * `Microsoft.Web/sites/publish/Action` on the site (MicrosoftDocs/azure-docs `articles/app-service/resources-kudu.md`).
 */
import { DeployStepError, ExitCode, formatDuration, networkErrorCode, oneLine, sleep } from "./cli";

/** Kudu's `DeployStatus` values. */
export const KuduStatus = { Pending: 0, Building: 1, Deploying: 2, Failed: 3, Success: 4 } as const;
const STATUS_NAMES: Record<number, string> = { 0: "Pending", 1: "Building", 2: "Deploying", 3: "Failed", 4: "Success" };

/** The fields of Kudu's DeployResult this script reads. */
interface DeployResult {
  readonly id?: string;
  readonly status?: number;
  readonly status_text?: string;
  readonly complete?: boolean;
  readonly log_url?: string;
}

interface LogEntry {
  readonly message?: string;
  readonly type?: number;
  readonly details_url?: string | null;
}

/** What a successful deployment reports. */
export interface OneDeployResult {
  /** Kudu's deployment ID, when it gave one. */
  readonly deploymentId?: string;
  /** True when the first token was refused (401) and the fallback token was the one Kudu accepted. */
  readonly usedFallback: boolean;
}

/** Where and how to publish; `authorization` is the `Bearer …` header value, held in memory only. */
export interface PublishTarget {
  readonly scmHost: string;
  readonly authorization: string;
  /**
   * Asked at most once, when the SCM host answers the upload with 401: another `Bearer …` value (a token for another
   * audience) to retry the upload with, and to poll with from then on.
   */
  readonly fallbackAuthorization?: () => Promise<string>;
  /** Overall bound on waiting for the deployment to finish. */
  readonly timeoutMs: number;
  /** Pause between status polls. */
  readonly pollIntervalMs: number;
  /** How many times to retry while another deployment is in progress (409). */
  readonly conflictRetries: number;
  /** Pause before each 409 retry. */
  readonly conflictWaitMs: number;
  readonly log: (line: string) => void;
}

const ROLE_FIX =
  "The deployer needs a role with Microsoft.Web/sites/publish/Action on " +
  "the site, e.g. Website Contributor or Contributor " +
  "(on the site, its resource group or the subscription). Basic-auth " +
  "publishing is off on this site, so Kudu accepts only " +
  "Microsoft Entra tokens and authorises them through Azure RBAC. A new " +
  "role assignment can take a few minutes to apply; " +
  "also check that `az account show` is the site's tenant and subscription.";

/**
 * Publishes the zip with OneDeploy and waits for the result. Throws {@link DeployStepError} with the fix on failure.
 */
export async function publishZip(zip: Buffer, target: PublishTarget): Promise<OneDeployResult> {
  const { scmHost, timeoutMs, conflictRetries, log } = target;
  const origin = `https://${scmHost}`;
  let authorization = target.authorization;
  let usedFallback = false;
  let response = await upload(zip, authorization, target);
  if (response.status === 401 && target.fallbackAuthorization) {
    const said = await bodyLine(response);
    log(`the SCM site refused the first token (401: ${said}); retrying once with the fallback token`);
    authorization = await target.fallbackAuthorization();
    usedFallback = true;
    response = await upload(zip, authorization, target);
  }

  switch (response.status) {
    case 200:
      log("deployment finished synchronously");
      return { usedFallback };
    case 202:
      break;
    default:
      throw await uploadFailure(response, scmHost, conflictRetries);
  }
  const pollUrl = sameOrigin(response.headers.get("location"), origin) ?? `${origin}/api/deployments/latest`;
  log(`accepted; waiting for the deployment (up to ${formatDuration(timeoutMs)})`);
  const { pollIntervalMs } = target;
  const result = await poll(pollUrl, { origin, scmHost, authorization, timeoutMs, pollIntervalMs, log });
  return { ...result, usedFallback };
}

/** POSTs the zip, retrying (bounded) while another deployment holds the site (409). */
async function upload(zip: Buffer, authorization: string, target: PublishTarget): Promise<Response> {
  const { scmHost, timeoutMs, conflictRetries, conflictWaitMs, log } = target;
  for (let attempt = 0; ; attempt++) {
    const response = await request(`https://${scmHost}/api/publish?type=zip&async=true`, scmHost, {
      method: "POST",
      headers: { authorization, "content-type": "application/octet-stream", "cache-control": "no-cache" },
      body: zip,
      signal: AbortSignal.timeout(Math.max(timeoutMs, 60_000)),
    });
    if (response.status !== 409 || attempt >= conflictRetries) return response;
    const said = await bodyLine(response);
    const wait = Math.round(conflictWaitMs / 1000);
    log(`another deployment is in progress (409: ${said}); retrying in ${wait} s (${attempt + 1}/${conflictRetries})`);
    await sleep(conflictWaitMs);
  }
}

async function poll(
  pollUrl: string,
  ctx: {
    origin: string;
    scmHost: string;
    authorization: string;
    timeoutMs: number;
    pollIntervalMs: number;
    log: (line: string) => void;
  },
): Promise<Omit<OneDeployResult, "usedFallback">> {
  const deadline = Date.now() + ctx.timeoutMs;
  let lastSeen = "no status yet";
  let lastReported = "";
  while (Date.now() < deadline) {
    let response: Response | undefined;
    try {
      response = await request(pollUrl, ctx.scmHost, {
        headers: { authorization: ctx.authorization },
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      // The SCM site restarts the app at the end of a deployment; a dropped poll is not a failed deployment.
      if (!(error instanceof DeployStepError)) throw error;
      lastSeen = error.message;
    }
    if (response) {
      if (response.status === 401 || response.status === 403) {
        throw new DeployStepError(
          `the SCM site refused the status request (${response.status})`,
          ROLE_FIX,
          ExitCode.Unauthorized,
        );
      }
      if (response.status === 200 || response.status === 202) {
        const result = (await response.json().catch(() => ({}))) as DeployResult;
        const state = describe(result);
        lastSeen = state;
        if (state !== lastReported) {
          ctx.log(`deployment ${state}`);
          lastReported = state;
        }
        if (result.status === KuduStatus.Success) return result.id ? { deploymentId: result.id } : {};
        if (result.status === KuduStatus.Failed) {
          const why = await failureLine(result, ctx);
          throw new DeployStepError(
            `the deployment${result.id ? ` ${result.id}` : ""} failed: ${why}`,
            "Fix what the Kudu log line says and run `pulumi up` again. The full " +
              "log is in the Azure portal under the site's " +
              "Deployment Center, or `az webapp log deployment show -g <group> -n <site>`.",
            ExitCode.Failed,
          );
        }
      } else {
        lastSeen = `HTTP ${response.status} from the status URL`;
      }
    }
    await sleep(Math.min(ctx.pollIntervalMs, Math.max(0, deadline - Date.now())));
  }
  throw new DeployStepError(
    `the deployment did not finish within ${formatDuration(ctx.timeoutMs)}; last seen: ${lastSeen}`,
    "Check the deployment in the site's Deployment Center (or `az webapp log " +
      "deployment show`), then run `pulumi up` again; " +
      "raise the bound with DEPLOY_TIMEOUT_MINUTES if the app is large.",
    ExitCode.Timeout,
  );
}

function describe(result: DeployResult): string {
  const name =
    result.status !== undefined ? (STATUS_NAMES[result.status] ?? `status ${result.status}`) : "status unknown";
  return result.status_text ? `${name}: ${oneLine(result.status_text, 200)}` : name;
}

/** The Kudu log line that says why a deployment failed: the last error entry, or its last detail. */
async function failureLine(
  result: DeployResult,
  ctx: { origin: string; scmHost: string; authorization: string },
): Promise<string> {
  const fallback = result.status_text ? oneLine(result.status_text) : "Kudu gave no reason";
  const logUrl = sameOrigin(result.log_url, ctx.origin);
  if (!logUrl) return fallback;
  try {
    const entries = await getJson<LogEntry[]>(logUrl, ctx);
    const entry = pickEntry(entries);
    if (!entry) return fallback;
    const detailsUrl = sameOrigin(entry.details_url, ctx.origin);
    const detail = detailsUrl ? pickEntry(await getJson<LogEntry[]>(detailsUrl, ctx)) : undefined;
    return oneLine(detail?.message ?? entry.message ?? fallback);
  } catch {
    return fallback;
  }
}

/** The last error entry, else the last entry. */
function pickEntry(entries: LogEntry[] | undefined): LogEntry | undefined {
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  return [...entries].reverse().find((e) => e.type === 2 && e.message) ?? entries[entries.length - 1];
}

async function getJson<T>(url: string, ctx: { scmHost: string; authorization: string }): Promise<T | undefined> {
  const response = await request(url, ctx.scmHost, {
    headers: { authorization: ctx.authorization },
    signal: AbortSignal.timeout(30_000),
  });
  return response.ok ? ((await response.json()) as T) : undefined;
}

/** A URL from the server, kept only when it points at the SCM host itself: the token is never sent anywhere else. */
function sameOrigin(url: string | null | undefined, origin: string): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url, origin);
    return parsed.origin === origin ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

async function uploadFailure(response: Response, scmHost: string, conflictRetries: number): Promise<DeployStepError> {
  const body = await bodyLine(response);
  const said = body ? ` (${body})` : "";
  switch (response.status) {
    case 401:
      return new DeployStepError(
        `the SCM site ${scmHost} did not accept the Entra token (401)${said}`,
        ROLE_FIX,
        ExitCode.Unauthorized,
      );
    case 403:
      return new DeployStepError(
        `the deployer may not publish to ${scmHost} (403)${said}`,
        ROLE_FIX,
        ExitCode.Unauthorized,
      );
    case 404:
      return new DeployStepError(
        `no site answers at ${scmHost} (404)${said}`,
        "Check the site exists and the SCM host is the one App Service reports (the stack takes it from the site's " +
          "Repository host name); if the site was just deleted or renamed, run " +
          "`pulumi up` again so the deploy step follows it.",
        ExitCode.NotFound,
      );
    case 409:
      return new DeployStepError(
        `another deployment kept ${scmHost} busy through ${conflictRetries} retries (409)${said}`,
        "Wait for the running deployment to finish (Deployment Center in the " +
          "portal shows it) and run `pulumi up` again. " +
          "If the message mentions WEBSITE_RUN_FROM_PACKAGE, that setting must be 1, not a URL.",
        ExitCode.Conflict,
      );
    case 413:
      return new DeployStepError(
        `the SCM site refused the package as too large (413)${said}`,
        "Keep the package to the bundle (`npm run app:package` prints its size): large " +
          "files belong in storage or a CDN, not in the app zip.",
        ExitCode.TooLarge,
      );
    default:
      return new DeployStepError(
        `OneDeploy answered ${response.status}${said}`,
        response.status >= 500
          ? "The SCM site had a problem; wait a minute and run `pulumi up` again."
          : "Check the site is a Linux App Service app and the package is a zip (`npm run app:package`).",
        ExitCode.Failed,
      );
  }
}

/** A response body as one safe line (Kudu answers errors in plain text or JSON). */
async function bodyLine(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  return oneLine(text, 300);
}

/** `fetch`, with network failures turned into an error that names the host and says what to check. */
async function request(url: string, host: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, { ...init, redirect: "manual" });
  } catch (error) {
    const code = networkErrorCode(error) ?? "network error";
    throw new DeployStepError(
      `could not reach ${host} (${code})`,
      code === "TIMEOUT"
        ? "The SCM site did not answer in time; run `pulumi up` again. Raise DEPLOY_TIMEOUT_MINUTES for a slow site."
        : "Check the SCM host name and that this machine may reach it (SCM access " +
            "restrictions and private endpoints apply to deployments too).",
      code === "TIMEOUT" ? ExitCode.Timeout : ExitCode.Unreachable,
    );
  }
}
