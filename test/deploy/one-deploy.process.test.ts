import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../deploy/cli";
import { zipFiles } from "../../deploy/package-app";
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
 * deploy/one-deploy.ts run for real, as the Pulumi command runs it, against a fake Kudu over HTTPS on 127.0.0.1. The
 * token comes from the real @azure/identity code path (DefaultAzureCredential restricted to AzureCliCredential) and a
 * fake `az` first on PATH.
 */

let work: ReturnType<typeof scratch>;
let kudu: HttpsFake | undefined;
let zipPath: string;
let zip: Buffer;
const token = `eyJ0eXAiOiJKV1QifQ.fake-arm-token-${randomBytes(8).toString("hex")}.sig`;

beforeEach(async () => {
  work = scratch();
  const src = join(work.dir, "src");
  mkdirSync(src);
  writeFileSync(join(src, "server.js"), `console.log(${JSON.stringify(randomBytes(16).toString("hex"))});\n`);
  zip = await zipFiles(src, ["server.js"]);
  zipPath = join(work.dir, "app.zip");
  writeFileSync(zipPath, zip);
});

afterEach(async () => {
  await kudu?.close();
  kudu = undefined;
  work.dispose();
});

/** A scripted Kudu: `publish` answers the upload, `poll` the status URL, `log`/`details` the deployment log. */
async function startKudu(script: {
  publish: (n: number, req: Received) => { status: number; body?: unknown; location?: string };
  poll?: (n: number, host: string) => { status: number; body: unknown };
  log?: unknown;
  details?: unknown;
}): Promise<HttpsFake> {
  let publishes = 0;
  let polls = 0;
  kudu = await startHttps(work.dir, (req: Received, res: ServerResponse, host: string) => {
    const path = req.url.split("?")[0];
    if (req.method === "POST" && path === "/api/publish") {
      const answer = script.publish(publishes++, req);
      const headers: Record<string, string> = answer.location
        ? { location: answer.location.replace("{host}", host) }
        : {};
      if (typeof answer.body === "string" || answer.body === undefined) {
        res.writeHead(answer.status, headers);
        res.end(answer.body ?? "");
      } else json(res, answer.status, answer.body, headers);
    } else if (req.method === "GET" && path === "/api/deployments/latest" && script.poll) {
      const answer = script.poll(polls++, host);
      json(res, answer.status, answer.body);
    } else if (req.method === "GET" && path === "/api/deployments/d1/log") {
      json(res, 200, script.log ?? []);
    } else if (req.method === "GET" && path === "/api/deployments/d1/log/e2") {
      json(res, 200, script.details ?? []);
    } else {
      res.writeHead(404);
      res.end("not found");
    }
  });
  return kudu;
}

const accepted = {
  status: 202,
  location: "https://{host}/api/deployments/latest?deployer=OneDeploy&time=2026-11-27_10-00-00Z",
};

async function deploy(
  options: { loggedIn?: boolean; sha?: string; extra?: string[]; tokens?: Record<string, string> } = {},
): Promise<RunResult & { azCalls: string[] }> {
  const az = fakeAz(work.dir, options.loggedIn === false ? undefined : (options.tokens ?? token));
  const result = await runScript(
    "one-deploy.ts",
    [
      "--scm-host",
      kudu?.host ?? "localhost:9",
      "--zip",
      zipPath,
      "--sha256",
      options.sha ?? sha256(zip),
      "--poll-interval-ms",
      "20",
      "--conflict-retries",
      "2",
      "--conflict-wait-ms",
      "20",
      ...(options.extra ?? []),
    ],
    { PATH: `${az.binDir}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: kudu?.caPath ?? "" },
  );
  // Whatever happened, no token reaches the output and nothing left loopback.
  for (const t of [token, ...Object.values(options.tokens ?? {})]) {
    expect(result.stdout + result.stderr).not.toContain(t);
    expect(result.stdout + result.stderr).not.toContain(t.split(".")[1]!);
  }
  expect(result.stderr).not.toContain(GUARD_MARKER);
  return { ...result, azCalls: az.calls() };
}

describe("one-deploy against a fake Kudu", () => {
  it("uploads the zip intact with the deployer's bearer token, then polls until the deployment succeeds", async () => {
    await startKudu({
      publish: () => accepted,
      poll: (n) =>
        n < 2
          ? { status: 202, body: { id: "d1", status: 1, status_text: "Building", complete: false } }
          : { status: 200, body: { id: "d1", status: 4, complete: true } },
    });
    const result = await deploy();
    expect(result.code).toBe(0);
    const publish = kudu!.received.find((r) => r.method === "POST")!;
    expect(publish.url).toBe("/api/publish?type=zip&async=true");
    expect(publish.headers["content-type"]).toBe("application/octet-stream");
    expect(publish.headers.authorization).toBe(`Bearer ${token}`);
    expect(Buffer.compare(publish.body, zip)).toBe(0);
    const polls = kudu!.received.filter((r) => r.method === "GET");
    expect(polls).toHaveLength(3);
    expect(polls.every((p) => p.headers.authorization === `Bearer ${token}`)).toBe(true);
    expect(result.stdout).toContain("deployment Building");
    expect(result.stdout).toContain("deployed (Kudu deployment d1)");
    // What AzureCliCredential ran: a token for the App Service audience (resource form of the scope), nothing else.
    expect(result.azCalls).toEqual(["account get-access-token --output json --resource https://appservice.azure.com"]);
    expect(result.stdout).toContain("Kudu accepted the App Service audience (https://appservice.azure.com/.default)");
  });

  it("ends on a failed deployment with the Kudu log line that says why", async () => {
    await startKudu({
      publish: () => accepted,
      poll: (_n, host) => ({
        status: 200,
        body: {
          id: "d1",
          status: 3,
          status_text: "",
          complete: true,
          log_url: `https://${host}/api/deployments/d1/log`,
        },
      }),
      log: [
        { id: "e1", message: "Updating submodules.", type: 0 },
        { id: "e2", message: "Deployment Failed.", type: 2, details_url: "/api/deployments/d1/log/e2" },
      ],
      details: [
        { id: "x1", message: "Extracting zip", type: 0 },
        { id: "x2", message: "Error: ENOSPC: no space left on device, write \u001b[31m", type: 2 },
      ],
    });
    const result = await deploy();
    expect(result.code).toBe(7);
    expect(result.stderr).toContain("the deployment d1 failed: Error: ENOSPC: no space left on device, write");
    expect(result.stderr).not.toContain("\u001b");
    expect(result.stderr).toMatch(/fix: Fix what the Kudu log line says/);
  });

  it.each([
    [401, 4, /did not accept the Entra token \(401\)/, /Website Contributor.*Basic-auth publishing is off.*Azure RBAC/],
    [403, 4, /may not publish to .* \(403\)/, /Microsoft\.Web\/sites\/publish\/Action/],
    [404, 5, /no site answers at .* \(404\)/, /Check the site exists/],
    [413, 8, /refused the package as too large \(413\)/, /Keep the package to the bundle/],
    [409, 6, /kept .* busy through 2 retries \(409\)/, /Wait for the running deployment to finish/],
  ])("explains a %i from OneDeploy with its fix (exit %i)", async (status, exitCode, message, fix) => {
    await startKudu({ publish: () => ({ status, body: "Kudu says no" }) });
    const result = await deploy();
    expect(result.code).toBe(exitCode);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain("(Kudu says no)");
    expect(result.stderr).toMatch(fix);
    // 409 is retried (bounded); 401 once with the ARM audience; every other status is final.
    expect(kudu!.received.filter((r) => r.method === "POST")).toHaveLength(status === 409 ? 3 : status === 401 ? 2 : 1);
  });

  it("waits and retries while another deployment is in progress, then deploys", async () => {
    await startKudu({
      publish: (n) => (n === 0 ? { status: 409, body: "There is a deployment currently in progress." } : accepted),
      poll: () => ({ status: 200, body: { id: "d1", status: 4, complete: true } }),
    });
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "another deployment is in progress (409: There is a deployment currently in progress.); retrying",
    );
    expect(kudu!.received.filter((r) => r.method === "POST")).toHaveLength(2);
  });

  it("says what it saw last when the deployment outlasts the bound", async () => {
    await startKudu({
      publish: () => accepted,
      poll: () => ({ status: 202, body: { id: "d1", status: 2, status_text: "Copying files", complete: false } }),
    });
    const result = await deploy({ extra: ["--timeout-minutes", "0.01"] });
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("did not finish within 1 s; last seen: Deploying: Copying files");
  });

  describe("token audience", () => {
    const appServiceToken = `eyJ0eXAiOiJKV1QifQ.fake-appservice-${randomBytes(8).toString("hex")}.sig`;
    const armToken = `eyJ0eXAiOiJKV1QifQ.fake-arm-${randomBytes(8).toString("hex")}.sig`;
    const tokens = { "https://appservice.azure.com": appServiceToken, "https://management.azure.com": armToken };
    /** A Kudu that accepts only `accepted`'s token: 401 for any other, on the upload and on every poll. */
    const kuduAccepting = (good: string) =>
      startKudu({
        publish: (_n, req) =>
          req.headers.authorization === `Bearer ${good}` ? accepted : { status: 401, body: "Unauthorized" },
        poll: () => ({ status: 200, body: { id: "d1", status: 4, complete: true } }),
      });

    it("asks for the App Service audience first and never for ARM when Kudu accepts it", async () => {
      await kuduAccepting(appServiceToken);
      const result = await deploy({ tokens });
      expect(result.code).toBe(0);
      expect(result.azCalls).toEqual([
        "account get-access-token --output json --resource https://appservice.azure.com",
      ]);
      expect(kudu!.received.filter((r) => r.method === "POST").map((r) => r.headers.authorization)).toEqual([
        `Bearer ${appServiceToken}`,
      ]);
      expect(
        kudu!.received
          .filter((r) => r.method === "GET")
          .every((r) => r.headers.authorization === `Bearer ${appServiceToken}`),
      ).toBe(true);
      expect(result.stdout).toContain("Kudu accepted the App Service audience (https://appservice.azure.com/.default)");
    });

    it("falls back to the ARM audience once on 401, polls with it, and says which audience worked", async () => {
      await kuduAccepting(armToken);
      const result = await deploy({ tokens });
      expect(result.code).toBe(0);
      expect(result.azCalls).toEqual([
        "account get-access-token --output json --resource https://appservice.azure.com",
        "account get-access-token --output json --resource https://management.azure.com",
      ]);
      expect(kudu!.received.filter((r) => r.method === "POST").map((r) => r.headers.authorization)).toEqual([
        `Bearer ${appServiceToken}`,
        `Bearer ${armToken}`,
      ]);
      const polls = kudu!.received.filter((r) => r.method === "GET");
      expect(polls.length).toBeGreaterThan(0);
      expect(polls.every((r) => r.headers.authorization === `Bearer ${armToken}`)).toBe(true);
      expect(result.stdout).toContain(
        "refused the first token (401: Unauthorized); retrying once with the fallback token",
      );
      expect(result.stdout).toContain(
        "Kudu accepted the Azure Resource Manager audience " +
          "(https://management.azure.com/.default) after refusing the App Service audience " +
          "(401)",
      );
    });

    it("falls back only once: a Kudu that refuses both audiences ends with the role fix", async () => {
      await kuduAccepting("neither");
      const result = await deploy({ tokens });
      expect(result.code).toBe(4);
      expect(kudu!.received.filter((r) => r.method === "POST")).toHaveLength(2);
      expect(result.stderr).toMatch(/did not accept the Entra token \(401\)/);
    });

    it("uses ARM straight away when Entra issues no App Service token", async () => {
      await kuduAccepting(armToken);
      const result = await deploy({ tokens: { "https://management.azure.com": armToken } });
      expect(result.code).toBe(0);
      expect(kudu!.received.filter((r) => r.method === "POST")).toHaveLength(1);
      expect(result.stdout).toContain("no token for the App Service audience");
      expect(result.stdout).toContain(
        "Kudu accepted the Azure Resource Manager audience (https://management.azure.com/.default)",
      );
    });

    it("asks for the US Government App Service audience when given that cloud's ARM scope", async () => {
      await kuduAccepting(appServiceToken);
      const result = await deploy({
        tokens: { "https://appservice.azure.us": appServiceToken },
        extra: ["--scope", "https://management.usgovcloudapi.net/.default"],
      });
      expect(result.code).toBe(0);
      expect(result.azCalls).toEqual(["account get-access-token --output json --resource https://appservice.azure.us"]);
    });
  });

  it("never sends the token to a status URL on another host", async () => {
    await startKudu({
      publish: () => ({ status: 202, location: "https://attacker.example/api/deployments/latest" }),
      poll: () => ({ status: 200, body: { id: "d1", status: 4, complete: true } }),
    });
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(kudu!.received.filter((r) => r.method === "GET").map((r) => r.url)).toEqual(["/api/deployments/latest"]);
  });

  it("stops before any upload when the deployer is not logged in, and says to run az login", async () => {
    await startKudu({ publish: () => accepted });
    const result = await deploy({ loggedIn: false });
    expect(result.code).toBe(3);
    expect(result.stderr).toContain("could not get a Microsoft Entra token for https://management.azure.com/.default");
    expect(result.stderr).toContain("Please run 'az login'");
    expect(result.stderr).toMatch(/fix: On a laptop run `az login`.*OIDC/);
    expect(kudu!.received).toHaveLength(0);
  });

  it("refuses to deploy a package from a folder git tracks (a planted dist/), before asking for a token", async () => {
    await startKudu({ publish: () => accepted });
    const dist = join(work.dir, "dist");
    mkdirSync(dist);
    writeFileSync(join(dist, "app.zip"), zip);
    execFileSync("git", ["-C", work.dir, "init", "-q"]);
    execFileSync("git", ["-C", work.dir, "add", "dist/app.zip"]);
    zipPath = join(dist, "app.zip");
    const result = await deploy();
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /refusing to deploy: git tracks 1 file\(s\) in the package's folder .*dist\/ \(app\.zip\)/,
    );
    expect(result.stderr).toContain("git rm -r --cached dist");
    expect(result.azCalls).toEqual([]);
    expect(kudu!.received).toHaveLength(0);
  });

  it("refuses a zip that is not the one the stack planned, before asking for a token", async () => {
    await startKudu({ publish: () => accepted });
    const result = await deploy({ sha: "0".repeat(64) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`has sha256 ${sha256(zip)}, but the stack planned to deploy ${"0".repeat(64)}`);
    expect(result.azCalls).toEqual([]);
    expect(kudu!.received).toHaveLength(0);
  });

  it("rejects an SCM host that is not a bare host name", async () => {
    const result = await runScript(
      "one-deploy.ts",
      ["--scm-host", "https://x.scm.azurewebsites.net/api", "--zip", zipPath, "--sha256", sha256(zip)],
      {},
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--scm-host must be a bare host name");
  });
});

describe("the loopback guard the scripts run under", () => {
  it("blocks a connection outside loopback before it is made, and reports it", async () => {
    const result = await runScript(
      "one-deploy.ts",
      ["--scm-host", "192.0.2.1", "--zip", zipPath, "--sha256", sha256(zip)],
      {
        PATH: `${fakeAz(work.dir, token).binDir}:${process.env.PATH}`,
      },
    );
    expect(result.stderr).toContain(`${GUARD_MARKER}: blocked a connection to 192.0.2.1:443`);
    expect(result.code).toBe(10);
    expect(result.stdout + result.stderr).not.toContain(token);
  });
});
