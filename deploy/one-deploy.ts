/**
 * Pushes the app package to an App Service site with Kudu's OneDeploy API, authenticated with the deployer's own
 * Microsoft Entra token, and waits until the deployment succeeds or fails.
 *
 *   node --import tsx deploy/one-deploy.ts --scm-host <host> --zip dist/app.zip --sha256 <hex> [--scope <arm scope>]
 *
 * Every input can also come from the environment (DEPLOY_SCM_HOST, DEPLOY_ZIP_PATH, DEPLOY_ZIP_SHA256,
 * DEPLOY_ARM_SCOPE, DEPLOY_TIMEOUT_MINUTES, DEPLOY_POLL_INTERVAL_MS, DEPLOY_CONFLICT_RETRIES,
 * DEPLOY_CONFLICT_WAIT_MS); none of them is secret. The token is obtained here, by `@azure/identity`'s
 * DefaultAzureCredential (`az login` on a laptop; OIDC workload identity or `azure/login` in CI), held in memory for
 * the requests to the SCM host only, and never printed, logged or passed on.
 *
 * Protocol (Kudu, as App Service runs it; read in Azure-App-Service/KuduLite `PushDeploymentController.OneDeploy` and
 * `DeploymentController.GetResult`, projectkudu/kudu `DeployResult`, `DeployStatus`, `LogEntry`):
 * 1. `POST https://{scm}/api/publish?type=zip&async=true`, body = the zip (`application/octet-stream`),
 *    `Authorization: Bearer <ARM token>`. Answers 202 with `Location: /api/deployments/latest?deployer=OneDeploy&…`;
 *    409 while another deployment runs (or when WEBSITE_RUN_FROM_PACKAGE is a URL); 200 if it ran synchronously.
 * 2. `GET {Location}` answers 202 with the pending DeployResult while it runs, then 200 with the final one:
 *    `{ id, status, status_text, complete, log_url, … }`, status 0 Pending, 1 Building, 2 Deploying, 3 Failed,
 *    4 Success.
 * 3. On failure, `GET {log_url}` lists `{ message, type (0 info, 1 warning, 2 error), details_url }`; the details of
 *    the failing entry hold the line that says why.
 * With basic auth off, Kudu accepts only Entra tokens and authorises them through Azure RBAC: the deployer needs
 * `Microsoft.Web/sites/publish/Action` on the site (MicrosoftDocs/azure-docs `articles/app-service/resources-kudu.md`).
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import {
  DeployStepError,
  ExitCode,
  badInput,
  formatDuration,
  networkErrorCode,
  oneLine,
  positiveNumber,
  requireHost,
  runMain,
  sha256,
  sleep,
} from "./cli";

/** The Azure Resource Manager scope of the public cloud; other clouds pass theirs (contract/clouds.ts). */
export const DEFAULT_ARM_SCOPE = "https://management.azure.com/.default";

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

export interface OneDeployOptions {
  /** The site's SCM (Kudu) host, as App Service reports it, e.g. `myapp-abc123.scm.westeurope-01.azurewebsites.net`. */
  readonly scmHost: string;
  /** Path of the zip (relative to the working directory, or absolute). */
  readonly zipPath: string;
  /** Expected lower-case hex sha256 of the zip; the upload is refused when the file does not match. */
  readonly sha256: string;
  /** Entra scope of the token: the cloud's Azure Resource Manager `/.default` scope. */
  readonly scope: string;
  /** Overall bound on waiting for the deployment to finish. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Pause between status polls. Default 2 s (what `az webapp deploy` uses). */
  readonly pollIntervalMs?: number;
  /** How many times to retry while another deployment is in progress (409). Default 10. */
  readonly conflictRetries?: number;
  /** Pause before each 409 retry. Default 15 s. */
  readonly conflictWaitMs?: number;
  /** Where the token comes from. Default: a new DefaultAzureCredential. */
  readonly credential?: TokenCredential;
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
}

/** What a successful deployment reports. */
export interface OneDeployResult {
  /** Kudu's deployment ID, when it gave one. */
  readonly deploymentId?: string;
}

const NAME = "one-deploy";

const ROLE_FIX =
  "The deployer needs a role with Microsoft.Web/sites/publish/Action on the site, e.g. Website Contributor or Contributor " +
  "(on the site, its resource group or the subscription). Basic-auth publishing is off on this site, so Kudu accepts only " +
  "Microsoft Entra tokens and authorises them through Azure RBAC. A new role assignment can take a few minutes to apply; " +
  "also check that `az account show` is the site's tenant and subscription.";

/** Uploads the zip with OneDeploy and waits for the result. Throws {@link DeployStepError} with the fix on failure. */
export async function oneDeploy(options: OneDeployOptions): Promise<OneDeployResult> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const scmHost = requireHost(options.scmHost, "--scm-host", "DEPLOY_SCM_HOST");
  const scope = requireScope(options.scope);
  const zip = readVerifiedZip(options.zipPath, options.sha256);
  const origin = `https://${scmHost}`;
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;

  const token = await getToken(options.credential ?? new DefaultAzureCredential(), scope);
  const authorization = `Bearer ${token}`;

  log(`uploading ${options.zipPath} (${zip.length} bytes, sha256 ${options.sha256}) to ${scmHost} with OneDeploy`);
  const conflictRetries = options.conflictRetries ?? 10;
  const conflictWaitMs = options.conflictWaitMs ?? 15_000;
  let response: Response;
  for (let attempt = 0; ; attempt++) {
    response = await request(`${origin}/api/publish?type=zip&async=true`, scmHost, {
      method: "POST",
      headers: { authorization, "content-type": "application/octet-stream", "cache-control": "no-cache" },
      body: zip,
      signal: AbortSignal.timeout(Math.max(timeoutMs, 60_000)),
    });
    if (response.status !== 409 || attempt >= conflictRetries) break;
    log(`another deployment is in progress (409: ${await bodyLine(response)}); retrying in ${Math.round(conflictWaitMs / 1000)} s (${attempt + 1}/${conflictRetries})`);
    await sleep(conflictWaitMs);
  }

  switch (response.status) {
    case 200:
      log("deployment finished synchronously");
      return {};
    case 202:
      break;
    default:
      throw await uploadFailure(response, scmHost, conflictRetries);
  }
  const pollUrl = sameOrigin(response.headers.get("location"), origin) ?? `${origin}/api/deployments/latest`;
  log(`accepted; waiting for the deployment (up to ${formatDuration(timeoutMs)})`);
  return poll(pollUrl, { origin, scmHost, authorization, timeoutMs, pollIntervalMs: options.pollIntervalMs ?? 2000, log });
}

async function poll(
  pollUrl: string,
  ctx: { origin: string; scmHost: string; authorization: string; timeoutMs: number; pollIntervalMs: number; log: (line: string) => void },
): Promise<OneDeployResult> {
  const deadline = Date.now() + ctx.timeoutMs;
  let lastSeen = "no status yet";
  let lastReported = "";
  while (Date.now() < deadline) {
    let response: Response | undefined;
    try {
      response = await request(pollUrl, ctx.scmHost, { headers: { authorization: ctx.authorization }, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      // The SCM site restarts the app at the end of a deployment; a dropped poll is not a failed deployment.
      if (!(error instanceof DeployStepError)) throw error;
      lastSeen = error.message;
    }
    if (response) {
      if (response.status === 401 || response.status === 403) {
        throw new DeployStepError(`the SCM site refused the status request (${response.status})`, ROLE_FIX, ExitCode.Unauthorized);
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
            "Fix what the Kudu log line says and run `pulumi up` again. The full log is in the Azure portal under the site's " +
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
    "Check the deployment in the site's Deployment Center (or `az webapp log deployment show`), then run `pulumi up` again; " +
      "raise the bound with DEPLOY_TIMEOUT_MINUTES if the app is large.",
    ExitCode.Timeout,
  );
}

function describe(result: DeployResult): string {
  const name = result.status !== undefined ? (STATUS_NAMES[result.status] ?? `status ${result.status}`) : "status unknown";
  return result.status_text ? `${name}: ${oneLine(result.status_text, 200)}` : name;
}

/** The Kudu log line that says why a deployment failed: the last error entry, or its last detail. */
async function failureLine(result: DeployResult, ctx: { origin: string; scmHost: string; authorization: string }): Promise<string> {
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
  const response = await request(url, ctx.scmHost, { headers: { authorization: ctx.authorization }, signal: AbortSignal.timeout(30_000) });
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
      return new DeployStepError(`the SCM site ${scmHost} did not accept the Entra token (401)${said}`, ROLE_FIX, ExitCode.Unauthorized);
    case 403:
      return new DeployStepError(`the deployer may not publish to ${scmHost} (403)${said}`, ROLE_FIX, ExitCode.Unauthorized);
    case 404:
      return new DeployStepError(
        `no site answers at ${scmHost} (404)${said}`,
        "Check the site exists and the SCM host is the one App Service reports (the stack takes it from the site's " +
          "Repository host name); if the site was just deleted or renamed, run `pulumi up` again so the deploy step follows it.",
        ExitCode.NotFound,
      );
    case 409:
      return new DeployStepError(
        `another deployment kept ${scmHost} busy through ${conflictRetries} retries (409)${said}`,
        "Wait for the running deployment to finish (Deployment Center in the portal shows it) and run `pulumi up` again. " +
          "If the message mentions WEBSITE_RUN_FROM_PACKAGE, that setting must be 1, not a URL.",
        ExitCode.Conflict,
      );
    case 413:
      return new DeployStepError(
        `the SCM site refused the package as too large (413)${said}`,
        "Keep the package to the bundle (`npm run app:package` prints its size): large files belong in storage or a CDN, not in the app zip.",
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
        : "Check the SCM host name and that this machine may reach it (SCM access restrictions and private endpoints apply to deployments too).",
      code === "TIMEOUT" ? ExitCode.Timeout : ExitCode.Unreachable,
    );
  }
}

async function getToken(credential: TokenCredential, scope: string): Promise<string> {
  try {
    const token = await credential.getToken(scope);
    if (token?.token) return token.token;
  } catch (error) {
    throw notLoggedIn(error);
  }
  throw notLoggedIn(undefined);
}

function notLoggedIn(error: unknown): DeployStepError {
  const detail = error instanceof Error ? `: ${oneLine(error.message, 400)}` : "";
  return new DeployStepError(
    `could not get a Microsoft Entra token for Azure Resource Manager${detail}`,
    "On a laptop run `az login` (and `az account set -s <subscription>`); in CI sign in with OIDC (azure/login with " +
      "client-id, tenant-id and subscription-id, or AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE for " +
      "workload identity). No secret is needed.",
    ExitCode.NotLoggedIn,
  );
}

function requireScope(scope: string): string {
  if (!/^https:\/\/[a-z0-9.-]+\/\.default$/i.test(scope ?? "")) {
    throw badInput(`--scope must be an Azure Resource Manager scope such as ${DEFAULT_ARM_SCOPE}, got ${JSON.stringify(String(scope).slice(0, 100))}`, "pass the cloud's ARM scope (contract/clouds.ts resourceManagerScope)");
  }
  return scope;
}

/** Reads the zip and checks it is the package the stack planned to deploy. */
function readVerifiedZip(zipPath: string, expected: string): Buffer {
  if (!zipPath) throw badInput("--zip (or DEPLOY_ZIP_PATH) is required", "pass the package path, e.g. --zip dist/app.zip");
  if (!/^[0-9a-f]{64}$/.test(expected ?? "")) throw badInput("--sha256 (or DEPLOY_ZIP_SHA256) must be 64 lower-case hex digits", "pass the sha256 `npm run app:package` printed");
  const path = resolve(zipPath);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new DeployStepError(`the package ${zipPath} does not exist`, "Run `npm run app:package` (`pulumi up` does this itself) and try again.", ExitCode.BadInput);
  }
  const zip = readFileSync(path);
  if (zip.subarray(0, 4).toString("latin1") !== "PK\u0003\u0004") {
    throw new DeployStepError(`${zipPath} is not a zip file`, "Rebuild it with `npm run app:package`.", ExitCode.BadInput);
  }
  const actual = sha256(zip);
  if (actual !== expected) {
    throw new DeployStepError(
      `${zipPath} has sha256 ${actual}, but the stack planned to deploy ${expected}`,
      "The package changed after the preview computed its hash (another build ran in between). Run `pulumi up` again.",
      ExitCode.BadInput,
    );
  }
  return zip;
}

/** Reads the options from argv, falling back to the environment. */
export function optionsFromCommandLine(argv: string[], env: NodeJS.ProcessEnv): OneDeployOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      "scm-host": { type: "string" },
      zip: { type: "string" },
      sha256: { type: "string" },
      scope: { type: "string" },
      "timeout-minutes": { type: "string" },
      "poll-interval-ms": { type: "string" },
      "conflict-retries": { type: "string" },
      "conflict-wait-ms": { type: "string" },
    },
    strict: true,
  });
  return {
    scmHost: values["scm-host"] ?? env.DEPLOY_SCM_HOST ?? "",
    zipPath: values.zip ?? env.DEPLOY_ZIP_PATH ?? "",
    sha256: values.sha256 ?? env.DEPLOY_ZIP_SHA256 ?? "",
    scope: values.scope ?? env.DEPLOY_ARM_SCOPE ?? DEFAULT_ARM_SCOPE,
    timeoutMs: positiveNumber(values["timeout-minutes"] ?? env.DEPLOY_TIMEOUT_MINUTES, "--timeout-minutes", 10) * 60_000,
    pollIntervalMs: positiveNumber(values["poll-interval-ms"] ?? env.DEPLOY_POLL_INTERVAL_MS, "--poll-interval-ms", 2000),
    conflictRetries: Math.floor(positiveNumber(values["conflict-retries"] ?? env.DEPLOY_CONFLICT_RETRIES, "--conflict-retries", 10)),
    conflictWaitMs: positiveNumber(values["conflict-wait-ms"] ?? env.DEPLOY_CONFLICT_WAIT_MS, "--conflict-wait-ms", 15_000),
  };
}

if (require.main === module) {
  runMain(NAME, async () => {
    const result = await oneDeploy(optionsFromCommandLine(process.argv.slice(2), process.env));
    console.log(`${NAME}: deployed${result.deploymentId ? ` (Kudu deployment ${result.deploymentId})` : ""}`);
  });
}
