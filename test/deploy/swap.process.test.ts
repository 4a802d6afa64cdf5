import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { readinessBody } from "../../contract/readiness";
import {
  GUARD_MARKER,
  type HttpsFake,
  type Received,
  type RunResult,
  fakeAz,
  json,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";

/**
 * deploy/swap.ts run for real, as the Pulumi command runs it, against a fake Azure Resource Manager on loopback (the
 * ARM side of a swap: the slot, its start/stop, `slotsswap` and the long-running operation's status), the slot's fake
 * Kudu (`/api/deployments/latest`) and both apps' `/readyz` (the slot's at localhost, production's at 127.0.0.1), all
 * on one HTTPS server. The token comes from the real @azure/identity path with a fake `az`.
 */

const SUBSCRIPTION = "8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e";
const SITE_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg-signin/providers/Microsoft.Web/sites/contoso-signin`;
const SLOT_PATH = `${SITE_ID}/slots/staging`;
const SWAP_COMMAND =
  "az webapp deployment slot swap -g rg-signin -n contoso-signin --slot staging --target-slot production";
const DEPLOYED_AT = "2026-12-03T10:00:00.0000000Z";

let work: ReturnType<typeof scratch>;
let azure: HttpsFake | undefined;
const token = `eyJ0eXAiOiJKV1QifQ.fake-arm-token-${randomBytes(8).toString("hex")}.sig`;

/** What the fake Azure holds between requests (and between two runs of the script, for the re-run tests). */
interface World {
  slotState: "Running" | "Stopped";
  slotReason: "ok" | "fic_subject_mismatch";
  /** How the swap's long-running operation ends: its status answers, one per poll, the last one repeated. */
  swapStatuses: string[];
  /** The swap's polls seen so far. */
  polls: number;
  lastSwap?: { timestampUtc: string; sourceSlotName: string; destinationSlotName: string };
  /** The host production's sign-in names in its redirect URI (production's own, unless a test says otherwise). */
  signInHost?: string;
  /** In order: every slotsswap POST, start/stop, and every /readyz probe of either app. */
  events: string[];
}

let world: World;

/** ARM's `slotSwapStatus` after a swap of staging into production at `timestampUtc`. */
const swapRecord = (timestampUtc: string) => ({
  timestampUtc,
  sourceSlotName: "staging",
  destinationSlotName: "production",
});

/** Production's app answers on the same fake server, reached as 127.0.0.1 (the certificate covers both names). */
const productionHost = () => azure!.host.replace("localhost", "127.0.0.1");

beforeEach(() => {
  work = scratch();
  world = { slotState: "Running", slotReason: "ok", swapStatuses: ["InProgress", "Succeeded"], polls: 0, events: [] };
});

afterEach(async () => {
  await azure?.close();
  azure = undefined;
  work.dispose();
});

function swapOperation(host: string) {
  const operation = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Web/locations/westeurope/operationResults/op-1`;
  return `https://${host}${operation}?api-version=2025-05-01`;
}

async function startFakes(): Promise<void> {
  azure = await startHttps(work.dir, (req: Received, res, host) => {
    const [path, query = ""] = req.url.split("?");
    if (req.method === "GET" && path === "/signin" && req.headers.host === productionHost()) {
      world.events.push("production signin");
      const back = encodeURIComponent(`https://${world.signInHost ?? productionHost()}/signin-oidc`);
      const authorize = "https://login.microsoftonline.com/tenant/oauth2/v2.0/authorize";
      res.writeHead(302, { location: `${authorize}?client_id=c&redirect_uri=${back}&state=s` });
      return res.end();
    }
    if (req.method === "GET" && path === "/readyz" && req.headers.host === productionHost()) {
      world.events.push("production readyz");
      return json(res, 200, readinessBody("ok"));
    }
    if (req.method === "GET" && path === "/readyz") {
      world.events.push("staging readyz");
      const body = readinessBody(world.slotReason);
      return json(res, world.slotReason === "ok" ? 200 : 503, body);
    }
    if (req.method === "GET" && path === "/api/deployments/latest") {
      return json(res, 200, { id: "d1", status: 4, complete: true, end_time: DEPLOYED_AT });
    }
    if (!query.includes("api-version=2025-05-01")) {
      return json(res, 400, { error: { code: "MissingApiVersion", message: "api-version" } });
    }
    if (req.method === "GET" && path === SITE_ID)
      return json(res, 200, { id: SITE_ID, properties: { state: "Running" } });
    if (req.method === "GET" && path === SLOT_PATH) {
      return json(res, 200, { id: SLOT_PATH, properties: { state: world.slotState, slotSwapStatus: world.lastSwap } });
    }
    if (req.method === "POST" && path === `${SLOT_PATH}/start`) {
      world.events.push("start");
      world.slotState = "Running";
      return json(res, 200, {});
    }
    if (req.method === "POST" && path === `${SLOT_PATH}/stop`) {
      world.events.push("stop");
      world.slotState = "Stopped";
      return json(res, 200, {});
    }
    if (req.method === "POST" && path === `${SLOT_PATH}/slotsswap`) {
      world.events.push("swap");
      world.polls = 0;
      res.writeHead(202, { "azure-asyncoperation": swapOperation(host), "retry-after": "0" });
      return res.end();
    }
    if (req.method === "GET" && path?.endsWith("/operationResults/op-1")) {
      const status = world.swapStatuses[Math.min(world.polls++, world.swapStatuses.length - 1)]!;
      if (status === "Succeeded") world.lastSwap = swapRecord(new Date().toISOString());
      if (status === "Failed") {
        const error = { code: "SwapWarmupFailed", message: "The warm-up of instance 0 answered 503 at /readyz." };
        return json(res, 200, { status, error });
      }
      if (status === "Hang") return json(res, 200, { status: "InProgress" });
      return json(res, 200, { status }, { "retry-after": "0" });
    }
    json(res, 404, { error: { code: "NotFound", message: `${req.method} ${path}` } });
  });
}

async function swap(extra: string[] = []): Promise<RunResult & { azCalls: string[]; armRequests: Received[] }> {
  const az = fakeAz(work.dir, token);
  const before = azure!.received.length;
  const result = await runScript(
    "swap.ts",
    [
      "--site-id",
      SITE_ID,
      "--slot",
      "staging",
      "--slot-host",
      azure!.host,
      "--slot-scm-host",
      azure!.host,
      "--production-host",
      productionHost(),
      "--scope",
      `https://${azure!.host}/.default`,
      "--interval-ms",
      "20",
      "--timeout-minutes",
      "0.5",
      "--poll-interval-ms",
      "20",
      ...extra,
    ],
    { PATH: `${az.binDir}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: azure!.caPath },
  );
  // Whatever happened, the token never reaches the output and nothing left loopback.
  expect(result.stdout + result.stderr).not.toContain(token);
  expect(result.stderr).not.toContain(GUARD_MARKER);
  const armRequests = azure!.received.slice(before).filter((r) => r.url.startsWith("/subscriptions/"));
  return { ...result, azCalls: az.calls(), armRequests };
}

describe("swap against a fake Azure Resource Manager", () => {
  it("proves the slot, swaps it into production with the deployer's ARM token, then proves production", async () => {
    await startFakes();
    const result = await swap();
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(world.events).toEqual(["staging readyz", "swap", "production readyz", "production signin"]);
    const post = result.armRequests.find((r) => r.method === "POST")!;
    expect(post.url).toBe(`${SLOT_PATH}/slotsswap?api-version=2025-05-01`);
    expect(post.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(post.body.toString())).toEqual({ targetSlot: "production", preserveVnet: true });
    // Every ARM request carries the bearer token; the polls follow Azure-AsyncOperation until Succeeded.
    expect(result.armRequests.every((r) => r.headers.authorization === `Bearer ${token}`)).toBe(true);
    expect(result.armRequests.filter((r) => r.url.includes("operationResults"))).toHaveLength(2);
    // The apps' public routes get no token; the slot's Kudu (deployment time) and ARM get it.
    const appRequests = azure!.received.filter((r) => r.url === "/readyz" || r.url === "/signin");
    expect(appRequests.length).toBeGreaterThan(0);
    expect(appRequests.every((r) => r.headers.authorization === undefined)).toBe(true);
    // A token for Azure Resource Manager: the scope's origin, in the CLI's resource form.
    expect(result.azCalls).toEqual([`account get-access-token --output json --resource https://${azure!.host}`]);
    expect(result.stdout).toContain("swapped: production now runs the new version");
    expect(result.stdout).toContain(`to swap back: \`${SWAP_COMMAND}\``);
  });

  it("never swaps a slot that does not become ready, and says what the slot reported", async () => {
    await startFakes();
    world.slotReason = "fic_subject_mismatch";
    const result = await swap();
    expect(result.code).toBe(7);
    expect(world.events).toEqual(["staging readyz"]);
    expect(result.armRequests.filter((r) => r.method === "POST")).toEqual([]);
    expect(result.stderr).toContain(
      "swap: error: the staging slot did not become ready, so it was not " +
        "swapped: production still serves the previous version.",
    );
    expect(result.stderr).toContain("[fic_subject_mismatch]");
    expect(result.stderr).toMatch(/swap: fix: .*principal/);
  });

  it("reports what each slot holds and reports after a failed swap, with the command that finishes it", async () => {
    await startFakes();
    world.swapStatuses = ["InProgress", "Failed"];
    const result = await swap();
    expect(result.code).toBe(7);
    // After the failure both apps are probed (at once) for the report.
    expect(world.events.slice(0, 2)).toEqual(["staging readyz", "swap"]);
    expect(world.events.slice(2).sort()).toEqual(["production readyz", "staging readyz"]);
    const error = result.stderr.split("\n").find((l) => l.startsWith("swap: error:"))!;
    expect(error).toContain(
      "the swap of staging into production did not complete: App Service reports the swap failed: " +
        "SwapWarmupFailed: The warm-up of instance 0 answered 503 at /readyz.",
    );
    expect(error).toContain(
      `production (${productionHost()}) is Running, holds the previous version and reports ready [ok]`,
    );
    expect(error).toContain(
      `the staging slot (${azure!.host}) is Running, holds the new version and reports ready [ok]`,
    );
    expect(error).toContain("App Service records no swap of this slot");
    const fix = result.stderr.split("\n").find((l) => l.startsWith("swap: fix:"))!;
    expect(fix).toContain(`To finish it: \`${SWAP_COMMAND}\``);
  });

  it("swaps on a re-run after a failed swap", async () => {
    await startFakes();
    world.swapStatuses = ["Failed"];
    expect((await swap()).code).toBe(7);
    world.swapStatuses = ["Succeeded"];
    world.events = [];
    const rerun = await swap();
    expect(rerun.code).toBe(0);
    expect(world.events).toEqual(["staging readyz", "swap", "production readyz", "production signin"]);
  });

  it("does not swap back on a re-run after a swap that went through while its status was lost", async () => {
    await startFakes();
    // The operation never reports an end within the bound, yet App Service completes the swap.
    world.swapStatuses = ["Hang"];
    const lost = await swap(["--swap-timeout-minutes", "0.01"]);
    expect(lost.code).toBe(9);
    expect(lost.stderr).toContain("the swap did not finish within");
    world.lastSwap = swapRecord(new Date().toISOString());
    world.events = [];
    const rerun = await swap();
    expect(rerun.code).toBe(0);
    expect(world.events).toEqual(["staging readyz", "production readyz", "production signin"]);
    expect(rerun.stdout).toContain(`after the slot's latest deployment (${DEPLOYED_AT}): not swapping again`);
  });

  it(
    "fails, with the restart that fixes it, when production's " + "sign-in still sends users back to the slot's host",
    async () => {
      await startFakes();
      world.signInHost = "contoso-signin-staging-0123456789abcdef.westeurope-01.azurewebsites.net";
      const result = await swap();
      expect(result.code).toBe(7);
      expect(world.events).toEqual(["staging readyz", "swap", "production readyz", "production signin"]);
      expect(result.stderr).toContain(
        `production is ready, but its sign-in sends users back to ` +
          `${world.signInHost} instead of ${productionHost()}`,
      );
      expect(result.stderr).toContain("`az webapp restart -g rg-signin -n contoso-signin`");
    },
  );

  it("stops the slot after the swap with --after-swap stop, and starts it again before the next swap", async () => {
    await startFakes();
    const first = await swap(["--after-swap", "stop"]);
    expect(first.code).toBe(0);
    expect(world.events).toEqual(["staging readyz", "swap", "production readyz", "production signin", "stop"]);
    expect(world.slotState).toBe("Stopped");
    // The next deployment: a newer package on the slot than the last swap, so it is swapped again.
    world.lastSwap = swapRecord("2026-12-03T09:00:00Z");
    world.events = [];
    const next = await swap(["--after-swap", "stop"]);
    expect(next.code).toBe(0);
    expect(world.events).toEqual(["start", "staging readyz", "swap", "production readyz", "production signin", "stop"]);
  });

  it("refuses a malformed site ID or the production slot as the source before asking for a token", async () => {
    await startFakes();
    const badSite = await runScript("swap.ts", ["--site-id", "/subscriptions/x/../../evil", "--slot", "staging"], {});
    expect(badSite.code).toBe(2);
    expect(badSite.stderr).toContain("--site-id (or SWAP_SITE_ID) must be a web app's ARM resource ID");
    const production = await runScript("swap.ts", ["--site-id", SITE_ID, "--slot", "production"], {});
    expect(production.code).toBe(2);
    expect(production.stderr).toContain("must name a slot other than production");
  });
});
