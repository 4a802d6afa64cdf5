/**
 * Swaps a proven staging slot into production, with the deployer's own Microsoft Entra token for Azure Resource
 * Manager (DefaultAzureCredential, like one-deploy.ts), and proves production afterwards.
 *
 *   node --import tsx deploy/swap.ts --site-id <site ARM ID> --slot staging --slot-host <host> --slot-scm-host <host>
 *     --production-host <host> [--scope <arm scope>] [--after-swap keep|stop] [--timeout-minutes 10]
 *
 * Or SWAP_SITE_ID, SWAP_SLOT, SWAP_SLOT_HOST, SWAP_SLOT_SCM_HOST, SWAP_PRODUCTION_HOST, SWAP_ARM_SCOPE, SWAP_AFTER,
 * READY_TIMEOUT_MINUTES, READY_INTERVAL_MS, SWAP_TIMEOUT_MINUTES, SWAP_POLL_INTERVAL_MS in the environment; none is
 * secret. The token is sent to Azure Resource Manager (the scope's origin) and to the slot's SCM host only.
 *
 * Steps, each one a guard for the next:
 * 1. Start the slot if the last swap left it stopped (`stagingSlotAfterSwap: stop`).
 * 2. Wait for the slot's `/readyz` (deploy/wait-ready.ts). A slot that never reports ready is never swapped: no swap
 *    request is made, production keeps serving the previous version, and the error says what the slot reported.
 * 3. Skip the swap when App Service already recorded one after the slot's latest deployment (a re-run after a swap
 *    whose outcome this script could not see): swapping again would put the previous version back.
 * 4. Swap: `POST {arm}{siteId}/slots/{slot}/slotsswap?api-version=2025-05-01` with `{ targetSlot: "production",
 *    preserveVnet: true }` (REST "Web Apps - Swap Slot Slot"; what `az webapp deployment slot swap --slot staging
 *    --target-slot production` sends). It is a long-running operation: 200 when done, else 202 with
 *    `Azure-AsyncOperation` (poll for `status`) or `Location` (202 until done), and `Retry-After`.
 *    App Service itself pings every slot instance's `/readyz` first (WEBSITE_SWAP_WARMUP_PING_PATH, contract/slots.ts)
 *    and reverts the slot when an instance fails to restart
 *    (learn.microsoft.com/azure/app-service/deploy-staging-slots).
 * 5. Wait for production's `/readyz`, and check that its sign-in redirects back to production's own host.
 * 6. With `--after-swap stop`, stop the slot, which now holds the previous version.
 * When the swap fails, the error says what each slot is running and reports, what App Service last recorded, and the
 * `az webapp deployment slot swap` command that finishes or undoes it.
 */
import { parseArgs } from "node:util";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { gitHubActionsCredentialFromEnv } from "./github-actions-credential";
import { READINESS_ADVICE, READINESS_PATH } from "../contract/readiness";
import { APP_ROUTES } from "../contract/routes";
import { PRODUCTION_SLOT_NAME, type SlotAfterSwap, slotAfterSwapProblem } from "../contract/slots";
import {
  DeployStepError,
  ExitCode,
  badInput,
  entraToken,
  formatDuration,
  networkErrorCode,
  oneLine,
  positiveNumber,
  requireHost,
  runMain,
  sleep,
} from "./cli";
import { probeReadiness, waitReady } from "./wait-ready";
import { WEB_API_VERSION } from "./arm-site";

export interface SwapOptions {
  /** ARM resource ID of the site: `/subscriptions/{id}/resourceGroups/{group}/providers/Microsoft.Web/sites/{name}`. */
  readonly siteId: string;
  /** The slot to swap into production, e.g. `staging`. */
  readonly slot: string;
  /** The slot's default host name, for its `/readyz`. */
  readonly slotHost: string;
  /** The slot's SCM (Kudu) host, for the time of its latest deployment. */
  readonly slotScmHost: string;
  /** Production's default host name, for its `/readyz` after the swap. */
  readonly productionHost: string;
  /** The cloud's Azure Resource Manager scope; its origin is the ARM endpoint. */
  readonly scope: string;
  /** What to do with the slot (holding the previous version) after the swap. Default `keep`. */
  readonly afterSwap?: SlotAfterSwap;
  /** Bound of each readiness wait (slot, then production). Default 10 minutes. */
  readonly readyTimeoutMs?: number;
  /** Pause between readiness probes. Default 5 s. */
  readonly readyIntervalMs?: number;
  /** Bound of the swap operation itself. Default 30 minutes (a swap restarts and warms up every slot instance). */
  readonly swapTimeoutMs?: number;
  /** Pause between polls of the swap operation when ARM sends no Retry-After. Default 10 s. */
  readonly pollIntervalMs?: number;
  /** Where the token comes from. Default: a new DefaultAzureCredential. */
  readonly credential?: TokenCredential;
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
}

const NAME = "swap";
const SITE_ID = new RegExp(
  "^/subscriptions/[0-9a-f-]{36}/resourceGroups/([\\w.()-]{1,90})" +
    "/providers/Microsoft\\.Web/sites/([A-Za-z0-9-]{2,60})$",
  "i",
);
const SLOT = /^[a-z0-9][a-z0-9-]{0,58}$/i;

const ROLE_FIX =
  "Swapping needs Microsoft.Web/sites/slots/slotsswap/action on the site (Website Contributor or Contributor on " +
  "the site, its resource group or the subscription); a new role assignment can take a few minutes to apply. " +
  "Check that " +
  "`az account show` is the site's tenant and subscription.";

/** Proves the slot, swaps it into production and proves production. Throws {@link DeployStepError} with the fix. */
export async function swapSlot(options: SwapOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const input = validate(options);
  // In a GitHub Actions job, a fresh GitHub OIDC token for every Entra request: the swap runs late in a long run.
  const credential = options.credential ?? gitHubActionsCredentialFromEnv(process.env) ?? new DefaultAzureCredential();
  const token = await getToken(credential, input.scope);
  const arm = new Arm(input.armOrigin, `Bearer ${token}`);
  const slotPath = `${input.siteId}/slots/${input.slot}`;
  const az = azCommands(input);
  const readyTimeoutMs = options.readyTimeoutMs ?? 10 * 60_000;
  const readyIntervalMs = options.readyIntervalMs ?? 5000;

  // 1. A slot the last swap stopped runs nothing: start it (Kudu kept answering, so the package is already there).
  const slotBefore = await arm.get(slotPath, "read the slot");
  if (String(slotBefore.properties?.state).toLowerCase() === "stopped") {
    log(`the ${input.slot} slot is stopped; starting it`);
    await arm.post(`${slotPath}/start`, undefined, "start the slot");
  }

  // 2. Never swap a slot that has not proved the chain.
  try {
    const slotLog = (l: string) => log(`${input.slot}: ${l}`);
    await waitReady({ host: input.slotHost, timeoutMs: readyTimeoutMs, intervalMs: readyIntervalMs, log: slotLog });
  } catch (error) {
    if (!(error instanceof DeployStepError)) throw error;
    throw new DeployStepError(
      `the ${input.slot} slot did not become ready, so it was not swapped: ` +
        "production still serves the previous version. " +
        `The slot reported: ${error.message}`,
      `${error.fix} Then run \`pulumi up\` again: the package is already on the slot, so only the readiness wait ` +
        "and the swap run.",
      error.exitCode,
    );
  }

  // 3. A re-run after a swap that went through must not swap back.
  const already = await swappedSinceDeployment(arm, slotPath, input, `Bearer ${token}`);
  if (already) {
    log(
      `App Service recorded a swap of ${input.slot} into production at ${already.swappedAt}, after the slot's ` +
        `latest deployment (${already.deployedAt}): not swapping again`,
    );
  } else {
    // 4. Swap.
    const started = Date.now();
    log(`swapping ${input.slot} into production (App Service warms up every slot instance at ${READINESS_PATH} first)`);
    try {
      await arm.longRunning(
        `${slotPath}/slotsswap`,
        { targetSlot: PRODUCTION_SLOT_NAME, preserveVnet: true },
        {
          timeoutMs: options.swapTimeoutMs ?? 30 * 60_000,
          pollIntervalMs: options.pollIntervalMs ?? 10_000,
          log,
        },
      );
    } catch (error) {
      if (!(error instanceof DeployStepError)) throw error;
      const state = await describeSlots(arm, input, started);
      throw new DeployStepError(
        `the swap of ${input.slot} into production did not complete: ${error.message}. ${state.text}`,
        state.swapped
          ? `App Service records the swap as done. To undo it (previous version back in production): ${az.swap}. ` +
              error.fix
          : `To finish it: ${az.swap} (or run \`pulumi up\` again, which proves the slot first). ` +
              "Nothing needs undoing: " +
              `App Service reverts the slot when a swap fails before the switch. ${error.fix}`,
        error.exitCode,
      );
    }
    log("swapped: production now runs the new version");
  }

  // 5. Prove production.
  try {
    const productionLog = (l: string) => log(`production: ${l}`);
    const host = input.productionHost;
    await waitReady({ host, timeoutMs: readyTimeoutMs, intervalMs: readyIntervalMs, log: productionLog });
  } catch (error) {
    if (!(error instanceof DeployStepError)) throw error;
    throw new DeployStepError(
      `production does not report ready after the swap: ${error.message}. The new version is in production and the ` +
        `previous one in the ${input.slot} slot.`,
      `${error.fix} To put the previous version back: ${az.swap}` +
        (options.afterSwap === "stop" ? ` (start the slot first: ${az.start}).` : "."),
      error.exitCode,
    );
  }

  // 5b. Production must also send users back to itself: the app takes its origin from WEBSITE_HOSTNAME, which App
  // Service sets per slot and which has been seen to keep the old slot's name after a swap (Azure/azure-functions-host
  // issue 4162). One GET of the sign-in route shows the redirect URI it builds.
  await checkSignInOrigin(input.productionHost, input.slot, az, log);

  // 6. Stop the previous version, if asked.
  if ((options.afterSwap ?? "keep") === "stop") {
    await arm.post(`${slotPath}/stop`, undefined, "stop the slot");
    log(`stopped the ${input.slot} slot (it holds the previous version; to swap back: ${az.start}, then ${az.swap})`);
  } else {
    log(`the ${input.slot} slot keeps the previous version running; to swap back: ${az.swap}`);
  }
}

/**
 * Starts one sign-in on production (`GET /signin`, a pending sign-in the app bounds and expires) and checks the
 * `redirect_uri` of the authorization redirect names production's host. Any answer that is not such a redirect (the
 * bound of sign-ins in progress reached, a changed route) is reported and skipped: this check never blocks on its own
 * uncertainty.
 */
async function checkSignInOrigin(
  productionHost: string,
  slot: string,
  az: { restart: string; swap: string },
  log: (l: string) => void,
): Promise<void> {
  let location: string | null = null;
  try {
    const response = await fetch(`https://${productionHost}${APP_ROUTES.signIn}`, {
      redirect: "manual",
      signal: AbortSignal.timeout(15_000),
    });
    location = response.status === 302 ? response.headers.get("location") : null;
  } catch {
    // Reported below as "no redirect".
  }
  let redirectHost: string | undefined;
  try {
    const redirectUri = location ? new URL(location).searchParams.get("redirect_uri") : null;
    redirectHost = redirectUri ? new URL(redirectUri).host.toLowerCase() : undefined;
  } catch {
    redirectHost = undefined;
  }
  if (redirectHost === undefined) {
    log(`could not check production's sign-in redirect (${APP_ROUTES.signIn} gave no authorization redirect); skipped`);
    return;
  }
  if (redirectHost !== productionHost) {
    throw new DeployStepError(
      `production is ready, but its sign-in sends users back to ${redirectHost} instead of ${productionHost}: ` +
        "the app's " +
        `WEBSITE_HOSTNAME still names the ${slot} slot after the swap, so sign-ins started in production would fail`,
      `Restart production so it reads its host name again: ${az.restart} ` +
        "(the instances restart: a short interruption). " +
        `Or put the previous version back: ${az.swap}.`,
      ExitCode.Failed,
    );
  }
  log(`production's sign-in redirects back to ${productionHost}`);
}

interface ValidInput {
  readonly siteId: string;
  readonly group: string;
  readonly site: string;
  readonly slot: string;
  readonly slotHost: string;
  readonly slotScmHost: string;
  readonly productionHost: string;
  readonly scope: string;
  readonly armOrigin: string;
}

function validate(options: SwapOptions): ValidInput {
  const m = SITE_ID.exec(options.siteId ?? "");
  const got = (value: unknown, max: number) => JSON.stringify(String(value).slice(0, max));
  if (!m) {
    throw badInput(
      `--site-id (or SWAP_SITE_ID) must be a web app's ARM resource ID, got ${got(options.siteId, 200)}`,
      "pass /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Web/sites/<name>",
    );
  }
  if (!SLOT.test(options.slot ?? "") || options.slot.toLowerCase() === PRODUCTION_SLOT_NAME) {
    const slot = got(options.slot, 60);
    throw badInput(`--slot (or SWAP_SLOT) must name a slot other than production, got ${slot}`, "pass --slot staging");
  }
  if (!/^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/\.default$/i.test(options.scope ?? "")) {
    throw badInput(
      "--scope (or SWAP_ARM_SCOPE) must be an Azure Resource Manager scope such as " +
        `https://management.azure.com/.default, ` +
        `got ${got(options.scope, 100)}`,
      "pass the cloud's ARM scope (contract/clouds.ts resourceManagerScope)",
    );
  }
  const afterProblem = slotAfterSwapProblem(options.afterSwap ?? "keep");
  if (afterProblem) {
    throw badInput(`--after-swap (or SWAP_AFTER) ${afterProblem}`, "pass --after-swap keep or --after-swap stop");
  }
  return {
    siteId: options.siteId,
    group: m[1]!,
    site: m[2]!,
    slot: options.slot,
    slotHost: requireHost(options.slotHost, "--slot-host", "SWAP_SLOT_HOST"),
    slotScmHost: requireHost(options.slotScmHost, "--slot-scm-host", "SWAP_SLOT_SCM_HOST"),
    productionHost: requireHost(options.productionHost, "--production-host", "SWAP_PRODUCTION_HOST"),
    scope: options.scope,
    // The token's audience is the ARM endpoint itself:
    // https://management.azure.com/.default → https://management.azure.com.
    armOrigin: new URL(options.scope).origin,
  };
}

/** The Azure CLI commands a person runs to finish, undo or prepare a swap by hand. */
function azCommands(input: ValidInput): { swap: string; start: string; restart: string } {
  const target = `-g ${input.group} -n ${input.site}`;
  return {
    restart: `\`az webapp restart ${target}\``,
    swap: `\`az webapp deployment slot swap ${target} --slot ${input.slot} --target-slot ${PRODUCTION_SLOT_NAME}\``,
    start: `\`az webapp start ${target} --slot ${input.slot}\``,
  };
}

function getToken(credential: TokenCredential, scope: string): Promise<string> {
  return entraToken(
    credential,
    scope,
    "Azure Resource Manager",
    "On a laptop run `az login` (and `az account set -s <subscription>`); in CI sign in with OIDC (azure/login, or " +
      "AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE). No secret is needed.",
  );
}

/**
 * When App Service recorded a swap of this slot with production after the slot's latest Kudu deployment ended, that
 * deployment has already been swapped: a swap (ARM `slotSwapStatus`, `{ timestampUtc, sourceSlotName,
 * destinationSlotName }`) is newer than the package. Kudu's DeployResult carries `end_time` (projectkudu/kudu
 * `DeployResult`). Unknown either way (no record, no time): undefined, and the swap runs.
 */
async function swappedSinceDeployment(
  arm: Arm,
  slotPath: string,
  input: ValidInput,
  authorization: string,
): Promise<{ swappedAt: string; deployedAt: string } | undefined> {
  const status = (await arm.get(slotPath, "read the slot")).properties?.slotSwapStatus as SlotSwapStatus | undefined;
  const names = [status?.sourceSlotName, status?.destinationSlotName].map((n) => String(n).toLowerCase());
  const swappedAt = Date.parse(status?.timestampUtc ?? "");
  const ours = names.includes(input.slot.toLowerCase()) && names.includes(PRODUCTION_SLOT_NAME);
  if (!ours || Number.isNaN(swappedAt)) return undefined;
  let deployedAt = Number.NaN;
  let deployedText = "";
  try {
    const response = await fetch(`https://${input.slotScmHost}/api/deployments/latest`, {
      headers: { authorization },
      redirect: "manual",
      signal: AbortSignal.timeout(30_000),
    });
    if (response.ok) {
      deployedText = String(((await response.json()) as { end_time?: unknown }).end_time ?? "");
      deployedAt = Date.parse(deployedText);
    }
  } catch {
    // The deployment time is unknown: swap, as on a first run.
  }
  // Both times are printed: as one bounded line, whatever the servers sent.
  if (Number.isNaN(deployedAt) || swappedAt <= deployedAt) return undefined;
  return { swappedAt: oneLine(status!.timestampUtc!, 40), deployedAt: oneLine(deployedText, 40) };
}

/** What each slot runs and reports after a failed swap, and whether App Service records the swap as done. */
async function describeSlots(
  arm: Arm,
  input: ValidInput,
  started: number,
): Promise<{ text: string; swapped: boolean }> {
  const slotPath = `${input.siteId}/slots/${input.slot}`;
  const [site, slot] = await Promise.all([arm.tryGet(input.siteId), arm.tryGet(slotPath)]);
  const status = slot?.properties?.slotSwapStatus as SlotSwapStatus | undefined;
  const at = Date.parse(status?.timestampUtc ?? "");
  // A minute of clock skew between this machine and App Service is tolerated.
  const swapped = !Number.isNaN(at) && at >= started - 60_000;
  const describe = async (label: string, host: string, resource: Record<string, any> | undefined, holds: string) => {
    const code = await probeReadiness(`https://${host}${READINESS_PATH}`);
    const state = oneLine(String(resource?.properties?.state ?? "state unknown"), 40);
    return `${label} (${host}) is ${state}, holds ${holds} and reports ${READINESS_ADVICE[code].summary} [${code}]`;
  };
  const [production, staging] = await Promise.all([
    describe("production", input.productionHost, site, swapped ? "the new version" : "the previous version"),
    describe(`the ${input.slot} slot`, input.slotHost, slot, swapped ? "the previous version" : "the new version"),
  ]);
  const last = status?.timestampUtc
    ? oneLine(
        `App Service's last recorded swap: ${status.sourceSlotName} → ${status.destinationSlotName} ` +
          `at ${status.timestampUtc}`,
        200,
      )
    : "App Service records no swap of this slot";
  return { text: `Now: ${production}; ${staging}. ${last}.`, swapped };
}

/** The few Azure Resource Manager requests a swap needs; the token goes to the ARM origin only. */
class Arm {
  constructor(
    private readonly origin: string,
    private readonly authorization: string,
  ) {}

  private url(path: string): string {
    return `${this.origin}${path}?api-version=${WEB_API_VERSION}`;
  }

  async get(path: string, what: string): Promise<Record<string, any>> {
    const response = await this.request(this.url(path), { method: "GET" });
    if (!response.ok) throw await armFailure(response, what);
    return (await response.json().catch(() => ({}))) as Record<string, any>;
  }

  /** A GET for a report: undefined instead of an error. */
  async tryGet(path: string): Promise<Record<string, any> | undefined> {
    try {
      return await this.get(path, "read");
    } catch {
      return undefined;
    }
  }

  async post(path: string, body: unknown, what: string): Promise<Response> {
    const response = await this.request(this.url(path), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw await armFailure(response, what);
    return response;
  }

  /**
   * POSTs a long-running operation and waits for its end
   * (https://learn.microsoft.com/azure/azure-resource-manager/management/async-operations):
   * `Azure-AsyncOperation` answers `{ status: InProgress | Succeeded | Failed | Canceled, error }`; `Location` answers
   * 202 while running and 200/204 when done. Only URLs on the ARM origin are followed.
   */
  async longRunning(
    path: string,
    body: unknown,
    opts: { timeoutMs: number; pollIntervalMs: number; log: (l: string) => void },
  ): Promise<void> {
    const first = await this.post(path, body, "swap the slots");
    if (first.status !== 202) return;
    const asyncUrl = this.sameOrigin(first.headers.get("azure-asyncoperation"));
    const locationUrl = this.sameOrigin(first.headers.get("location"));
    if (!asyncUrl && !locationUrl) return;
    const deadline = Date.now() + opts.timeoutMs;
    let wait = retryAfter(first, opts.pollIntervalMs);
    let lastSeen = "accepted";
    while (Date.now() < deadline) {
      await sleep(Math.min(wait, Math.max(0, deadline - Date.now())));
      let response: Response;
      try {
        response = await this.request((asyncUrl ?? locationUrl)!, { method: "GET" });
      } catch (error) {
        // A dropped poll is not a failed swap: keep polling until the bound.
        lastSeen = error instanceof Error ? error.message : String(error);
        continue;
      }
      wait = retryAfter(response, opts.pollIntervalMs);
      if (asyncUrl) {
        if (!response.ok) {
          if (response.status >= 500) continue;
          throw await armFailure(response, "read the swap's status");
        }
        const op = (await response.json().catch(() => ({}))) as { status?: string; error?: ArmErrorBody };
        const status = String(op.status ?? "");
        if (status !== lastSeen) opts.log(`swap ${status || "status unknown"}`);
        lastSeen = status;
        if (/^succeeded$/i.test(status)) return;
        if (/^(failed|canceled)$/i.test(status)) {
          const said = `App Service reports the swap ${status.toLowerCase()}${armErrorText(op.error)}`;
          throw new DeployStepError(said, SWAP_FAILED_FIX, ExitCode.Failed);
        }
      } else {
        if (response.status === 202) continue;
        if (response.ok) return;
        if (response.status >= 500) continue;
        throw await armFailure(response, "swap the slots");
      }
    }
    throw new DeployStepError(
      `the swap did not finish within ${formatDuration(opts.timeoutMs)}; last seen: ${oneLine(lastSeen, 200)}`,
      "The swap may still be running: check the site's Deployment slots blade (or " +
        "`az webapp show --query slotSwapStatus`) before running anything again.",
      ExitCode.Timeout,
    );
  }

  private sameOrigin(url: string | null): string | undefined {
    if (!url) return undefined;
    try {
      const parsed = new URL(url, this.origin);
      return parsed.origin === this.origin ? parsed.href : undefined;
    } catch {
      return undefined;
    }
  }

  private async request(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), authorization: this.authorization },
        redirect: "manual",
        signal: AbortSignal.timeout(60_000),
      });
    } catch (error) {
      const code = networkErrorCode(error) ?? "network error";
      throw new DeployStepError(
        `could not reach Azure Resource Manager at ${this.origin} (${code})`,
        "Check this machine's network and proxy settings, and that the scope names this cloud's Resource Manager.",
        code === "TIMEOUT" ? ExitCode.Timeout : ExitCode.Unreachable,
      );
    }
  }
}

const SWAP_FAILED_FIX =
  "App Service stops a swap when a slot instance fails to restart or its warm-up ping (/readyz) does not answer 200: " +
  "see the slot's log stream (`az webapp log tail --slot <slot>`) and its /readyz.";

function retryAfter(response: Response, fallbackMs: number): number {
  const seconds = Number(response.headers.get("retry-after"));
  const given = response.headers.has("retry-after") && Number.isFinite(seconds) && seconds >= 0;
  return given ? Math.min(seconds * 1000, 60_000) : fallbackMs;
}

/** ARM's error body (`{ error: { code, message } }`) and a swap status's `error`. */
interface ArmErrorBody {
  readonly code?: string;
  readonly message?: string;
}

/** ARM's record of a slot's last swap (`properties.slotSwapStatus`). */
interface SlotSwapStatus {
  readonly timestampUtc?: string;
  readonly sourceSlotName?: string;
  readonly destinationSlotName?: string;
}

function armErrorText(error: ArmErrorBody | undefined): string {
  if (!error?.code && !error?.message) return "";
  return `: ${oneLine([error.code, error.message].filter(Boolean).join(": "), 400)}`;
}

async function armFailure(response: Response, what: string): Promise<DeployStepError> {
  const body = (await response.json().catch(() => undefined)) as { error?: ArmErrorBody } | undefined;
  const said = armErrorText(body?.error);
  switch (response.status) {
    case 401:
    case 403:
      return new DeployStepError(
        `Azure Resource Manager refused to ${what} (${response.status})${said}`,
        ROLE_FIX,
        ExitCode.Unauthorized,
      );
    case 404:
      return new DeployStepError(
        `Azure Resource Manager found no such site or slot while trying to ${what} (404)${said}`,
        "Run `pulumi refresh`, then `pulumi up`: the site or its slot was deleted or renamed outside Pulumi.",
        ExitCode.NotFound,
      );
    case 409:
      return new DeployStepError(
        `another operation on the site is in progress, so Azure Resource Manager could not ${what} (409)${said}`,
        "Wait for it to finish (the site's Activity log shows it), then run `pulumi up` again.",
        ExitCode.Conflict,
      );
    default:
      return new DeployStepError(
        `Azure Resource Manager could not ${what} (${response.status})${said}`,
        response.status >= 500 ? "Wait a minute and run `pulumi up` again." : SWAP_FAILED_FIX,
        ExitCode.Failed,
      );
  }
}

const minutes = (value: string | undefined, flag: string, fallback: number) =>
  positiveNumber(value, flag, fallback) * 60_000;

/** Reads the options from argv, falling back to the environment. */
export function swapOptionsFromCommandLine(argv: string[], env: NodeJS.ProcessEnv): SwapOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      "site-id": { type: "string" },
      slot: { type: "string" },
      "slot-host": { type: "string" },
      "slot-scm-host": { type: "string" },
      "production-host": { type: "string" },
      scope: { type: "string" },
      "after-swap": { type: "string" },
      "timeout-minutes": { type: "string" },
      "interval-ms": { type: "string" },
      "swap-timeout-minutes": { type: "string" },
      "poll-interval-ms": { type: "string" },
    },
    strict: true,
  });
  return {
    siteId: values["site-id"] ?? env.SWAP_SITE_ID ?? "",
    slot: values.slot ?? env.SWAP_SLOT ?? "",
    slotHost: values["slot-host"] ?? env.SWAP_SLOT_HOST ?? "",
    slotScmHost: values["slot-scm-host"] ?? env.SWAP_SLOT_SCM_HOST ?? "",
    productionHost: values["production-host"] ?? env.SWAP_PRODUCTION_HOST ?? "",
    scope: values.scope ?? env.SWAP_ARM_SCOPE ?? "https://management.azure.com/.default",
    afterSwap: (values["after-swap"] ?? env.SWAP_AFTER ?? "keep") as SlotAfterSwap,
    readyTimeoutMs: minutes(values["timeout-minutes"] ?? env.READY_TIMEOUT_MINUTES, "--timeout-minutes", 10),
    readyIntervalMs: positiveNumber(values["interval-ms"] ?? env.READY_INTERVAL_MS, "--interval-ms", 5000),
    swapTimeoutMs: minutes(values["swap-timeout-minutes"] ?? env.SWAP_TIMEOUT_MINUTES, "--swap-timeout-minutes", 30),
    pollIntervalMs: positiveNumber(values["poll-interval-ms"] ?? env.SWAP_POLL_INTERVAL_MS, "--poll-interval-ms", 1e4),
  };
}

if (require.main === module) {
  runMain(NAME, () => swapSlot(swapOptionsFromCommandLine(process.argv.slice(2), process.env)));
}
