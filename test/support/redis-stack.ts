/**
 * The scaled-out shape in one test process: the emulator, a real local Redis (TLS, an ACL user named by the managed
 * identity's object ID whose passwords are the identity's live Redis tokens — local/redis.ts), N app instances from
 * createApp on that Redis, and a front end that sends each request to the instance a test picks, as App Service's
 * front end does with ARR affinity off. Browsers (the scripted user agent) only ever talk to the front end.
 *
 * If redis-server is not installed the suite is skipped with a message — except in CI (CI=true), where .ci/run
 * installs it and its absence must fail the run.
 */
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import type { FastifyInstance } from "fastify";
import { afterAll, afterEach, beforeAll } from "vitest";
import { describeWhenInstalled } from "./installed";
import { appRegistrationFor, startEmulator, type EmulatorOptions, type RunningEmulator } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { createApp, type AppDeps } from "../../app/app";
import { loadConfig } from "../../app/app-config";
import { HostingSetting } from "../../contract/settings";
import { findRedisServer, startRedisForApp, type LocalRedis } from "../../local/redis";

const redisServer = findRedisServer();

/** `describe`, or `describe.skip` with a message when redis-server is absent outside CI. */
export const describeWithRedis = describeWhenInstalled(redisServer, "redis-server", "Redis tests");

export interface RedisStack {
  readonly emu: RunningEmulator;
  readonly redis: LocalRedis;
  /** The front end's origin: every app instance's PUBLIC_BASE_URL and the only URL browsers use. */
  readonly baseUrl: string;
  /** The app instances, by index. */
  readonly apps: readonly FastifyInstance[];
  /** Sends the following requests to instance `index`. */
  route(index: number): void;
  /** Stops instance `index` (its requests then fail at the front end until routed elsewhere). */
  stop(index: number): Promise<void>;
  /** Every JSON log line the instances wrote. */
  readonly logs: string[];
}

interface RedisStackOptions {
  readonly instances?: number;
  readonly emulator?: EmulatorOptions;
  readonly deps?: AppDeps;
}

/** Starts everything before the file's first test and stops it after the last. */
export function useRedisStack(options: RedisStackOptions = {}): RedisStack {
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      done();
    },
  });
  let emu: RunningEmulator | undefined;
  let local: Awaited<ReturnType<typeof startRedisForApp>> | undefined;
  let front: Server | undefined;
  let baseUrl = "";
  const apps: FastifyInstance[] = [];
  const upstreams: (number | undefined)[] = [];
  let target = 0;

  beforeAll(async () => {
    emu = await startEmulator(options.emulator);
    trustEmulatorCertificate(emu);
    // The same Redis, token relay and settings `npm run dev -- --redis` uses.
    local = await startRedisForApp(emu, { binary: redisServer });
    const redis = local.redis;

    front = createServer((req, res) => {
      const port = upstreams[target];
      if (port === undefined) return void res.writeHead(502).end("instance stopped");
      const upstream = httpRequest(
        { host: "127.0.0.1", port, path: req.url, method: req.method, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on("error", () => res.destroy());
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => front!.listen(0, "127.0.0.1", resolve));
    baseUrl = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;

    const env: Record<string, string> = { ...emu.appEnv(), ...local.env, [HostingSetting.PublicBaseUrl]: baseUrl };
    // msal-node's managed-identity source reads these from the process environment.
    process.env.IDENTITY_ENDPOINT = env.IDENTITY_ENDPOINT;
    process.env.IDENTITY_HEADER = emu.appEnv().IDENTITY_HEADER;
    for (let i = 0; i < (options.instances ?? 2); i++) {
      const app = createApp(loadConfig(env), {
        logStream,
        redis: { tls: { ca: redis.caPem }, maxBackoffMs: 300, commandTimeoutMs: 1_000, connectTimeoutMs: 1_000 },
        ...options.deps,
      });
      await app.listen({ host: "127.0.0.1", port: 0 });
      apps.push(app);
      upstreams.push((app.server.address() as AddressInfo).port);
    }
    Object.assign(emu.registration, appRegistrationFor(baseUrl));
    // Every instance ready: connected and authenticated to Redis, and its trust chain proven.
    for (const port of upstreams) {
      await eventually(
        `instance on port ${port} ready`,
        async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      );
    }
  }, 60_000);

  afterEach(() => {
    emu?.resetFaults();
    target = 0;
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await new Promise<void>((resolve) => (front ? front.close(() => resolve()) : resolve()));
    await local?.close();
    await emu?.close();
  });

  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the stack is not running: use it inside a test");
    return value;
  };
  return {
    get emu() {
      return started(emu);
    },
    get redis() {
      return started(local).redis;
    },
    get baseUrl() {
      return baseUrl;
    },
    apps,
    route(index) {
      target = index;
    },
    async stop(index) {
      upstreams[index] = undefined;
      await apps[index]!.close();
    },
    logs,
  };
}

/** Polls `check` every 100 ms until it returns true, failing after `timeoutMs`. */
export async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}
