/**
 * The deployed app's figures: the package (bundle and zip sizes, packaging time cached and rebuilt), cold start of the
 * packaged app against the same app from compiled sources and node_modules, full sign-in round trips over HTTP
 * against the emulator, and signed-in `GET /me` throughput against a bare node:http hello world, with one client —
 * with the sessions in memory and, beside it, in a real local Redis (local/redis.ts) as the app runs scaled out.
 * Every server listens on 127.0.0.1.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, cpSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { dirname, join, relative } from "node:path";
import autocannon from "autocannon";
import { build } from "esbuild";
import { fromBuffer, type Entry, type ZipFile } from "yauzl";
import { HEALTH_CHECK_PATH } from "../contract/routes";
import { packageApp } from "../deploy/package-app";
import { appRegistrationFor, startEmulator, type RunningEmulator } from "../emulator";
import { trustEmulatorCertificate } from "../emulator/trust-certificate";
import { freePort } from "../local/child-app";
import { findRedisServer, startRedisForApp } from "../local/redis";
import { UserAgent } from "../local/user-agent";
import { ROOT, median, quantile, scratch } from "./measure";

/** Unzips `zip` into `dir` (entries are relative `/` paths; the packager writes no others). */
function unzip(zip: Buffer, dir: string): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  return new Promise((resolve, reject) => {
    fromBuffer(zip, { lazyEntries: true }, (error, file?: ZipFile) => {
      if (error || !file) return reject(error);
      file.on("entry", (entry: Entry) => {
        sizes.set(entry.fileName, entry.uncompressedSize);
        file.openReadStream(entry, (err, stream) => {
          if (err || !stream) return reject(err);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            const target = join(dir, ...entry.fileName.split("/"));
            mkdirSync(dirname(target), { recursive: true });
            writeFileSync(target, Buffer.concat(chunks));
            file.readEntry();
          });
        });
      });
      file.on("end", () => resolve(sizes));
      file.on("error", reject);
      file.readEntry();
    });
  });
}

export interface PackageFigures {
  bundleBytes: number;
  zipBytes: number;
  packageCachedMs: number;
  packageRebuildMs: number;
  /** Where the zip was unpacked, as App Service unpacks it. */
  dir: string;
}

/** `packageApp()` as the program calls it: a forced rebuild, then calls that reuse the zip. */
export async function measurePackage(runs: number): Promise<PackageFigures> {
  const rebuild: number[] = [];
  const cached: number[] = [];
  let bytes = 0;
  for (let i = 0; i < runs; i++) {
    let t = performance.now();
    const built = await packageApp({ force: true });
    rebuild.push(performance.now() - t);
    bytes = built.bytes;
    t = performance.now();
    const reused = await packageApp();
    cached.push(performance.now() - t);
    if (reused.rebuilt) throw new Error("packageApp rebuilt a package whose inputs had not changed");
  }
  const dir = scratch("app-zip");
  const sizes = await unzip(readFileSync(join(ROOT, "dist", "app.zip")), dir);
  return {
    bundleBytes: sizes.get("server.js") ?? 0,
    zipBytes: bytes,
    packageCachedMs: median(cached),
    packageRebuildMs: median(rebuild),
    dir,
  };
}

/** The app's sources compiled file by file (no bundling), requiring node_modules from the project root. */
async function compiledSources(): Promise<string> {
  const dir = scratch("app-compiled");
  const sources: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts")) sources.push(path);
    }
  };
  walk(join(ROOT, "app"));
  walk(join(ROOT, "contract"));
  await build({
    entryPoints: sources,
    outbase: ROOT,
    outdir: dir,
    bundle: false,
    platform: "node",
    format: "cjs",
    target: "node22",
    logLevel: "warning",
  });
  cpSync(join(ROOT, "app", "public"), join(dir, "app", "public"), { recursive: true });
  return join(dir, "app", "server.js");
}

/** A status code from a loopback GET, or undefined while nothing listens. */
function status(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode);
    });
    req.on("error", () => resolve(undefined));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

interface RunningApp {
  /** http://127.0.0.1:<port> */
  readonly url: string;
  /** Milliseconds from spawn to the first 200 on /healthz. */
  readonly startMs: number;
  stop(): Promise<void>;
}

/**
 * Spawns `node <entry>` with the emulator's settings (and `env` on top), as App Service starts it, and waits for the
 * first 200 on
 * /healthz, polling every 2 ms. The app's JSON log lines go to a file, as App Service keeps them (a pipe that this
 * busy process would have to drain would slow the app down).
 */
async function startApp(emu: RunningEmulator, entry: string, env: Record<string, string> = {}): Promise<RunningApp> {
  const port = await freePort();
  const log = openSync(join(scratch("app-log"), "app.log"), "w");
  const started = performance.now();
  const child = spawn(process.execPath, [entry], {
    cwd: dirname(entry),
    env: {
      PATH: process.env.PATH ?? "",
      ...emu.appEnv(),
      ...env,
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  try {
    const deadline = started + 30_000;
    while (performance.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`${relative(ROOT, entry)} exited with ${child.exitCode}`);
      if ((await status(`${url}${HEALTH_CHECK_PATH}`)) === 200)
        return { url, startMs: performance.now() - started, stop: () => stop(child) };
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`${relative(ROOT, entry)} did not answer ${HEALTH_CHECK_PATH} within 30 s`);
  } catch (error) {
    await stop(child);
    throw error;
  }
}

async function coldStart(emu: RunningEmulator, entry: string): Promise<number> {
  const app = await startApp(emu, entry);
  await app.stop();
  return app.startMs;
}

export async function measureColdStart(
  packaged: string,
  runs: number,
): Promise<{ coldStartMs: number; coldStartUnbundledMs: number }> {
  const unbundled = await compiledSources();
  const emu = await startEmulator();
  try {
    await coldStart(emu, packaged); // warm the OS file cache for both, as on an instance that restarts
    await coldStart(emu, unbundled);
    const bundled: number[] = [];
    const sources: number[] = [];
    for (let i = 0; i < runs; i++) {
      bundled.push(await coldStart(emu, packaged));
      sources.push(await coldStart(emu, unbundled));
    }
    return { coldStartMs: median(bundled), coldStartUnbundledMs: median(sources) };
  } finally {
    await emu.close();
  }
}

/** req/s of autocannon's GETs at `url`, failing on any error or non-2xx answer. */
async function requestsPerSecond(url: string, seconds: number, headers: Record<string, string> = {}): Promise<number> {
  const result = await autocannon({ url, connections: 10, duration: seconds, headers });
  if (result.errors > 0 || result.non2xx > 0 || result.timeouts > 0) {
    throw new Error(`${url}: ${result.errors} errors, ${result.non2xx} non-2xx, ${result.timeouts} timeouts`);
  }
  return result.requests.average;
}

/** A baseline server (bench/baseline-server.cjs) in its own process, as the app is; its logs go to a file. */
async function baselineServer(
  mode: "hello" | "fastify" | "fastify-helmet-logs",
): Promise<{ url: string; child: ChildProcess }> {
  const log = openSync(join(scratch("baseline-log"), "server.log"), "w");
  const child = spawn(process.execPath, [join(__dirname, "baseline-server.cjs"), mode], {
    stdio: ["ignore", "pipe", log],
  });
  closeSync(log);
  const port = await new Promise<string>((resolve) =>
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())),
  );
  return { url: `http://127.0.0.1:${port}/`, child };
}

export interface ServeFigures {
  signinP50Ms: number;
  signinP99Ms: number;
  signins: number;
  pageRps: number;
  /**
   * The same signed-in page from a second instance of the packaged app whose sessions are in a local Redis; null
   * without redis-server.
   */
  pageRpsRedis: number | null;
  /**
   * The same signed-in page from a third instance of the same package with telemetry on, sending to the emulator's
   * Application Insights ingestion stand-in (in this process) with the managed identity's token.
   */
  pageRpsTelemetry: number;
  helloRps: number;
  /** A bare Fastify route, and one with helmet's headers and pino's request logs: the framework's share. */
  fastifyRps: number;
  fastifyHelmetLogsRps: number;
}

/** A signed-in `GET /me` to measure: the page's URL and the session cookie of a fresh sign-in. */
async function signedInPage(appUrl: string): Promise<{ url: string; cookie: string }> {
  const ua = new UserAgent();
  const page = await ua.navigate(`${appUrl}/signin`);
  if (page.status !== 200 || !page.body.includes('id="user-name"'))
    throw new Error(`sign-in ended at ${page.url} with ${page.status}`);
  return { url: `${appUrl}/me`, cookie: `session=${ua.cookie(appUrl, "session")}` };
}

/**
 * Sign-ins, then throughput, against the packaged app as a child process and the emulator in this process; when
 * redis-server is installed, a second instance of the same package keeps its sessions in a local Redis (TLS, the
 * identity's token as password, as `npm run dev -- --redis` runs it) and its `/me` is measured in the same rounds.
 */
export async function measureServing(
  packaged: string,
  signins: number,
  rounds: number,
  seconds: number,
): Promise<ServeFigures> {
  const emu = await startEmulator();
  trustEmulatorCertificate(emu); // this process's fetch follows redirects to the emulator's HTTPS endpoints
  const stops: (() => Promise<void>)[] = [() => emu.close()];
  // Stops whatever started, last first, even when a later start or a measurement fails.
  const stopAll = async (): Promise<void> => {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => undefined);
  };
  try {
    const app = await startApp(emu, packaged);
    stops.push(() => app.stop());
    const telemetryApp = await startApp(emu, packaged, emu.telemetryEnv());
    stops.push(() => telemetryApp.stop());
    let redisApp: RunningApp | undefined;
    let redis: Awaited<ReturnType<typeof startRedisForApp>> | undefined;
    if (findRedisServer()) {
      redis = await startRedisForApp(emu);
      stops.push(() => redis!.close());
      redisApp = await startApp(emu, packaged, redis.env);
      stops.push(() => redisApp!.stop());
    }
    // As the stack registers the deployed app's URLs; the Redis instance's callback is registered beside it.
    Object.assign(emu.registration, appRegistrationFor(app.url));
    for (const other of [telemetryApp, ...(redisApp ? [redisApp] : [])])
      emu.registration.redirectUris = [...emu.registration.redirectUris, ...appRegistrationFor(other.url).redirectUris];
    const baselines = await Promise.all((["hello", "fastify", "fastify-helmet-logs"] as const).map(baselineServer));
    for (const server of baselines) stops.push(() => stop(server.child));

    for (let i = 0; i < 3; i++) await signedInPage(app.url); // warm-up: MI token, JWKS and metadata caches, JIT
    const times: number[] = [];
    let page: Awaited<ReturnType<typeof signedInPage>> | undefined;
    for (let i = 0; i < signins; i++) {
      const t = performance.now();
      page = await signedInPage(app.url);
      times.push(performance.now() - t);
    }
    const redisPage = redisApp ? await signedInPage(redisApp.url) : undefined;
    const telemetryPage = await signedInPage(telemetryApp.url);
    // The figure is Redis's only if the session really lives there (and not in a fallback in the app's memory).
    if (redis && (await redis.redis.admin.keys("secretless:{s}:*")).length === 0)
      throw new Error("the Redis instance signed in but wrote no session to Redis");
    const rps: number[][] = [[], [], [], [], [], []];
    for (let i = 0; i < rounds; i++) {
      for (const [j, server] of baselines.entries()) rps[j]!.push(await requestsPerSecond(server.url, seconds));
      // Telemetry off, then on, back to back in each round: the ratio compares like with like.
      rps[3]!.push(await requestsPerSecond(page!.url, seconds, { cookie: page!.cookie }));
      rps[5]!.push(await requestsPerSecond(telemetryPage.url, seconds, { cookie: telemetryPage.cookie }));
      if (redisPage) rps[4]!.push(await requestsPerSecond(redisPage.url, seconds, { cookie: redisPage.cookie }));
    }
    const [helloRps, fastifyRps, fastifyHelmetLogsRps, pageRps] = rps.map(median) as [number, number, number, number];
    const pageRpsRedis = redisPage ? median(rps[4]!) : null;
    // The figure is telemetry's only if the instance really exported (with its token) to the stand-in.
    if (!emu.telemetry.envelopes.some((envelope) => envelope.data?.baseType === "RequestData"))
      throw new Error("the telemetry instance sent no request telemetry to the ingestion stand-in");
    return {
      signinP50Ms: median(times),
      signinP99Ms: quantile(times, 0.99),
      signins,
      pageRps,
      pageRpsRedis,
      pageRpsTelemetry: median(rps[5]!),
      helloRps,
      fastifyRps,
      fastifyHelmetLogsRps,
    };
  } finally {
    await stopAll();
  }
}
