/**
 * A real local Redis standing in for Azure Managed Redis with Microsoft Entra authentication, for `npm run dev --
 * --redis`
 * and the tests: Debian's `redis-server` on a free loopback port, TLS only (a fresh localhost certificate from the
 * emulator's generator), no default user, and one ACL user named by the managed identity's object ID whose passwords
 * are exactly the tokens the emulator's managed-identity endpoint has issued for the Redis resource and that have not
 * expired yet — as Azure accepts any valid token of the identity, and nothing else.
 *
 * The tokens are seen through {@link RedisTokenRelay}: a pass-through in front of the emulator's managed-identity
 * endpoint that, when it relays a Redis token, adds it as a password of the ACL user before the app receives it, and
 * removes it when it expires. AOF (fsync always) lets the data survive {@link LocalRedis.restart}.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes, createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Redis from "ioredis";
import { createLocalhostCertificate } from "../emulator/certificate";
import type { RunningEmulator } from "../emulator";
import { clouds } from "../contract/clouds";
import { RedisSetting } from "../contract/settings";
import { freePort } from "./child-app";

/** Where Debian puts redis-server; PATH is searched too. */
const REDIS_SERVER_CANDIDATES = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"];

/** The redis-server binary, or undefined when none is installed. */
export function findRedisServer(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" }).stdout.trim();
  return [onPath, ...REDIS_SERVER_CANDIDATES].find((path) => path && existsSync(path));
}

export interface LocalRedis {
  readonly host: string;
  readonly port: number;
  /** The CA (the self-signed server certificate itself), PEM, for clients to trust. */
  readonly caPem: string;
  /** Path of a file holding {@link LocalRedis.caPem}, e.g. for NODE_EXTRA_CA_CERTS. */
  readonly caPath: string;
  /** The ACL user the app authenticates as: the managed identity's object ID. */
  readonly username: string;
  /** An administrator connection (its own random password), for the tests' inspections. */
  readonly admin: Redis;
  /** Adds `token` as a password of the app's user until `expiresOnSeconds`, when it is removed again. */
  allowToken(token: string, expiresOnSeconds: number): Promise<void>;
  /** How many tokens have been allowed and how many removed on expiry. */
  readonly tokenStats: { allowed: number; expired: number };
  /** Stops the server abruptly (SIGKILL), as a crash; the AOF keeps what was written. */
  kill(): Promise<void>;
  /** Starts it again on the same port, with the same data and the tokens still valid. */
  start(): Promise<void>;
  /** Pauses the process (SIGSTOP): connections stay open but nothing answers. {@link LocalRedis.resume} undoes it. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

/**
 * Starts redis-server with TLS on a free port and one ACL user, `username`, who has no password until tokens arrive.
 */
export async function startLocalRedis(options: { username: string; binary?: string }): Promise<LocalRedis> {
  const binary = options.binary ?? findRedisServer();
  if (!binary) throw new Error("redis-server is not installed: apt-get install -y redis-server");
  const dir = await mkdtemp(join(tmpdir(), "secretless-redis-"));
  const { certPem, keyPem } = await createLocalhostCertificate({ commonName: "secretless local redis" });
  const caPath = join(dir, "ca.pem");
  await writeFile(caPath, certPem);
  await writeFile(join(dir, "key.pem"), keyPem, { mode: 0o600 });
  const port = await freePort();
  const adminPassword = randomBytes(24).toString("base64url");
  const tokens = new Map<string, NodeJS.Timeout>();
  const tokenStats = { allowed: 0, expired: 0 };
  const sha = (text: string): string => createHash("sha256").update(text).digest("hex");

  // Passwords are given hashed (#<sha256>), so no token is written to disk in clear.
  const config = (): string =>
    [
      "port 0",
      `tls-port ${port}`,
      "bind 127.0.0.1",
      `tls-cert-file ${caPath}`,
      `tls-key-file ${join(dir, "key.pem")}`,
      "tls-auth-clients no",
      'tls-protocols "TLSv1.2 TLSv1.3"',
      `dir ${dir}`,
      "appendonly yes",
      "appendfsync always",
      'save ""',
      // Off: nobody can authenticate as "default". Its permissions still matter: Redis before the fix of
      // https://github.com/redis/redis/issues/14541 (PR 14545; Debian's 7.0.15 included) re-checks EXEC's commands
      // against the default user while loading the AOF, so without them every MULTI/EXEC (each Lua script's
      // effects) is silently dropped on restart.
      "user default off ~* &* +@all",
      `user admin on #${sha(adminPassword)} ~* &* +@all`,
      `user ${options.username} on resetpass ${[...tokens.keys()].map((t) => `#${sha(t)}`).join(" ")} ` +
        `~secretless:* +@all`,
    ].join("\n");

  let child: ChildProcess | undefined;
  let running = false;
  let exited: Promise<void> = Promise.resolve();
  const start = async (): Promise<void> => {
    await writeFile(join(dir, "redis.conf"), config());
    const proc = spawn(binary, [join(dir, "redis.conf")], { stdio: ["ignore", "pipe", "pipe"] });
    child = proc;
    exited = new Promise((resolve) => proc.once("exit", () => resolve()));
    running = true;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        output += chunk.toString("utf8");
        if (output.includes("Ready to accept connections")) resolve();
      };
      proc.stdout!.on("data", onData);
      proc.stderr!.on("data", onData);
      proc.once("exit", (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });
  };
  await start();

  const admin = new Redis({
    host: "127.0.0.1",
    port,
    username: "admin",
    password: adminPassword,
    tls: { ca: certPem, servername: "localhost" },
    maxRetriesPerRequest: 1,
    retryStrategy: () => 100,
    lazyConnect: true,
  });
  admin.on("error", () => undefined); // the tests kill the server on purpose
  await admin.connect();

  const adminReady = (): Promise<void> =>
    admin.status === "ready" ? Promise.resolve() : new Promise((resolve) => admin.once("ready", () => resolve()));
  // While the server is down the rule waits for nothing: the next start's config carries the live tokens.
  const setUser = async (...rules: string[]): Promise<void> => {
    if (!running) return;
    await adminReady();
    await admin.call("ACL", "SETUSER", options.username, ...rules);
  };

  return {
    host: "localhost",
    port,
    caPem: certPem,
    caPath,
    username: options.username,
    admin,
    tokenStats,
    async allowToken(token, expiresOnSeconds) {
      if (tokens.has(token)) return;
      const timer = setTimeout(
        () => {
          tokens.delete(token);
          tokenStats.expired++;
          void setUser(`<${token}`).catch(() => undefined);
        },
        Math.max(0, expiresOnSeconds * 1000 - Date.now()),
      );
      timer.unref();
      tokens.set(token, timer);
      tokenStats.allowed++;
      await setUser(`>${token}`).catch(() => undefined);
    },
    async kill() {
      running = false;
      child?.kill("SIGKILL");
      await exited;
    },
    async start() {
      await start();
      await adminReady();
    },
    pause: () => void child?.kill("SIGSTOP"),
    resume: () => void child?.kill("SIGCONT"),
    async close() {
      running = false;
      for (const timer of tokens.values()) clearTimeout(timer);
      admin.disconnect();
      child?.kill("SIGCONT");
      child?.kill("SIGKILL");
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A pass-through in front of a managed-identity endpoint that tells {@link LocalRedis} about every Redis token. */
export interface RedisTokenRelay {
  /** `http://127.0.0.1:<port>/msi/token`: the IDENTITY_ENDPOINT to give the app. */
  readonly identityEndpoint: string;
  close(): Promise<void>;
}

/**
 * Relays GETs to `identityEndpoint` unchanged (headers included); when the answer is a token for `redisResource`, it
 * is allowed on `redis` before the app gets it.
 */
export async function startRedisTokenRelay(
  identityEndpoint: string,
  redisResource: string,
  redis: Pick<LocalRedis, "allowToken">,
): Promise<RedisTokenRelay> {
  const target = new URL(identityEndpoint);
  const server: Server = createServer((req, res) => {
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: "GET", headers: req.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("end", () => {
          const body = Buffer.concat(chunks);
          const relay = (): void => void res.writeHead(answer.statusCode ?? 502, answer.headers).end(body);
          const resource = new URL(req.url ?? "/", "http://relay").searchParams.get("resource");
          if (answer.statusCode !== 200 || resource?.replace(/\/$/, "") !== redisResource) return relay();
          const { access_token: token, expires_on: expiresOn } = JSON.parse(body.toString("utf8")) as {
            access_token: string;
            expires_on: string;
          };
          redis.allowToken(token, Number(expiresOn)).then(relay, relay);
        });
      },
    );
    upstream.on("error", () => res.destroy());
    upstream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    identityEndpoint: `http://127.0.0.1:${port}${target.pathname}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The public-cloud Redis resource the app asks its managed identity for against the emulator. */
export const LOCAL_REDIS_RESOURCE = clouds.public.redisScope.replace(/\/\.default$/, "");

/**
 * A local Redis for an app run as a child process (`npm run dev -- --redis`): the server, the token relay in front of
 * the emulator's managed-identity endpoint, and the environment the app needs on top of `emu.appEnv()` — the Redis
 * settings, the relay as IDENTITY_ENDPOINT, and NODE_EXTRA_CA_CERTS trusting both the emulator and Redis.
 */
export async function startRedisForApp(
  emu: RunningEmulator,
  options: { binary?: string } = {},
): Promise<{ redis: LocalRedis; env: Record<string, string>; close(): Promise<void> }> {
  const redis = await startLocalRedis({ username: emu.registration.uami.principalId, binary: options.binary });
  const relay = await startRedisTokenRelay(emu.identityEndpoint, LOCAL_REDIS_RESOURCE, redis);
  const bundle = join(redis.caPath, "..", "trusted.pem");
  await writeFile(bundle, `${emu.caCertPem.trim()}\n${redis.caPem.trim()}\n`);
  return {
    redis,
    env: {
      IDENTITY_ENDPOINT: relay.identityEndpoint,
      NODE_EXTRA_CA_CERTS: bundle,
      [RedisSetting.HostName]: redis.host,
      [RedisSetting.Port]: String(redis.port),
      [RedisSetting.UserName]: redis.username,
    },
    async close() {
      await relay.close();
      await redis.close();
    },
  };
}
