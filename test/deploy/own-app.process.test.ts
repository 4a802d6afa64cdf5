import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type RunningEmulator, startEmulator } from "../../emulator";
import { sha256 } from "../../deploy/cli";
import { packageOwnApp, type OwnAppPackage } from "../../deploy/package-own-app";
import { readZipEntry, zipEntries } from "../../deploy/zip-entries";
import { freePort } from "../../local/child-app";
import {
  GUARD_MARKER,
  type HttpsFake,
  type RunResult,
  fakeAz,
  json,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";
import { REPO } from "../support/repo";

/**
 * An app that is not the sample, deployed the way `pulumi up` deploys it: examples/plain-node-app (plain Node, no
 * dependencies) zipped reproducibly by the packager, pushed by deploy/one-deploy.ts to a fake Kudu over HTTPS, which
 * unpacks it and starts it with the configured start command and the settings the stack writes, pointed at the local
 * Entra + managed-identity emulator; then deploy/wait-ready.ts waits on the app's own readiness path behind a fake
 * front end, until the app has redeemed its managed identity's token at Entra.
 */

const APP_FOLDER = "examples/plain-node-app";
const STARTUP_COMMAND = "node server.js";
const READINESS_PATH = "/ready";

let emu: RunningEmulator;
let pkg: OwnAppPackage;
let work: ReturnType<typeof scratch>;
let kudu: HttpsFake | undefined;
let site: HttpsFake | undefined;
let app: ChildProcess | undefined;
let appPort: number | undefined;
const appOutput: string[] = [];
const token = `eyJ0eXAiOiJKV1QifQ.fake-appservice-${randomBytes(8).toString("hex")}.sig`;

beforeAll(async () => {
  emu = await startEmulator();
  pkg = await packageOwnApp(APP_FOLDER);
});
afterAll(() => emu.close());

beforeEach(() => {
  work = scratch();
  appOutput.length = 0;
});
afterEach(async () => {
  app?.kill();
  app = undefined;
  appPort = undefined;
  await kudu?.close();
  await site?.close();
  kudu = site = undefined;
  work.dispose();
});

/** Unpacks the pushed zip into wwwroot and starts it with the start command, as App Service's image would. */
async function unpackAndStart(zip: Buffer): Promise<void> {
  const wwwroot = join(work.dir, "wwwroot");
  for (const entry of zipEntries(zip).filter((e) => !e.directory)) {
    const target = join(wwwroot, ...entry.name.split("/"));
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, readZipEntry(zip, entry));
  }
  const [program, ...args] = STARTUP_COMMAND.split(" ");
  expect(program).toBe("node");
  appPort = await freePort();
  app = spawn(process.execPath, args, {
    cwd: wwwroot,
    env: { PATH: process.env.PATH ?? "", ...emu.appEnv(), PORT: String(appPort), HOST: "127.0.0.1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  app.stdout!.on("data", (c: Buffer) => appOutput.push(c.toString()));
  app.stderr!.on("data", (c: Buffer) => appOutput.push(c.toString()));
}

/** A Kudu that takes one OneDeploy upload with the deployer's token and reports it done once the app is started. */
async function startKudu(): Promise<HttpsFake> {
  // Each fake in its own folder: startHttps writes its certificate there as ca.pem.
  mkdirSync(join(work.dir, "kudu"));
  kudu = await startHttps(join(work.dir, "kudu"), (req, res, host) => {
    const path = req.url.split("?")[0];
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { error: "no token" });
    if (req.method === "POST" && path === "/api/publish") {
      unpackAndStart(req.body).then(
        () => json(res, 202, {}, { location: `https://${host}/api/deployments/latest` }),
        (error: Error) => json(res, 500, { error: error.message }),
      );
    } else if (req.method === "GET" && path === "/api/deployments/latest") {
      json(res, 200, { id: "d1", status: 4, complete: true });
    } else json(res, 404, {});
  });
  return kudu;
}

/** The front end: forwards to the app once it runs, and answers 503 before, as App Service does while it starts. */
async function startSite(): Promise<HttpsFake> {
  mkdirSync(join(work.dir, "site"));
  site = await startHttps(join(work.dir, "site"), (req, res) => {
    if (appPort === undefined) return json(res, 503, { error: "starting" });
    const upstream = request(
      { host: "127.0.0.1", port: appPort, path: req.url, method: req.method, headers: { accept: "*/*" } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => json(res, 502, { error: "bad gateway" }));
    upstream.end();
  });
  return site;
}

async function deployAndWait(waitArgs: string[] = []): Promise<{ deployed: RunResult; waited: RunResult }> {
  await startKudu();
  await startSite();
  const az = fakeAz(work.dir, token);
  const deployed = await runScript(
    "one-deploy.ts",
    ["--scm-host", kudu!.host, "--zip", pkg.zipPath, "--sha256", pkg.sha256, "--poll-interval-ms", "20"],
    { PATH: `${az.binDir}:${process.env.PATH}`, NODE_EXTRA_CA_CERTS: kudu!.caPath },
  );
  // The two fakes have their own certificates; the wait trusts the front end's. A minute bounds a broken run.
  const waited = await runScript(
    "wait-ready.ts",
    ["--host", site!.host, "--path", READINESS_PATH, "--interval-ms", "50", "--timeout-minutes", "1", ...waitArgs],
    { NODE_EXTRA_CA_CERTS: site!.caPath },
  );
  for (const r of [deployed, waited]) {
    expect(r.stderr).not.toContain(GUARD_MARKER);
    expect(r.stdout + r.stderr).not.toContain(token);
  }
  return { deployed, waited };
}

describe("deploying an app of your own", () => {
  it("packages the folder reproducibly: the zip on disk is the one the stack's trigger names", () => {
    expect(sha256(readFileSync(join(REPO, pkg.zipPath)))).toBe(pkg.sha256);
    expect(pkg.entries).toEqual(["README.md", "package.json", "server.js"]);
  });

  it(
    "pushes the zip with OneDeploy, starts it with its own command, and waits on its readiness path until the " +
      "app has redeemed the managed identity's token at Entra",
    async () => {
      const before = { ...emu.stats };
      const { deployed, waited } = await deployAndWait();
      expect(deployed.code, deployed.stderr).toBe(0);
      const upload = kudu!.received.find((r) => r.method === "POST")!;
      expect(sha256(upload.body)).toBe(pkg.sha256);
      expect(waited.code, waited.stderr + appOutput.join("")).toBe(0);
      expect(waited.stdout).toContain(`ready: https://${site!.host}/ready answered 200`);
      // What made /ready answer 200: the identity's token from the endpoint, redeemed as a client assertion.
      expect(emu.stats.miRequests).toBeGreaterThan(before.miRequests);
      expect(emu.stats.clientCredentialsRequests).toBeGreaterThan(before.clientCredentialsRequests);
      // Before the app started, the front end's 503 was reported once, not once per probe.
      expect(waited.stdout.match(/answered 503/g)?.length ?? 0).toBeLessThanOrEqual(1);
    },
  );

  it("keeps waiting while Entra refuses the app's assertion, then fails at the bound with what it saw", async () => {
    const fic = emu.registration.fic;
    const subject = fic.subject;
    fic.subject = "00000000-0000-4000-8000-000000000bad";
    try {
      const { deployed, waited } = await deployAndWait(["--timeout-minutes", "0.03"]);
      expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
      expect(waited.code, waited.stdout + waited.stderr).toBe(9);
      expect(waited.stderr).toMatch(/\/ready did not answer 200 within 2 s; last seen: 503/);
      expect(waited.stderr).toMatch(/fix: .*log stream/);
    } finally {
      fic.subject = subject;
    }
  });
});
