/**
 * Issue 19, attacks 1 and 4 on a real Redis (redis-server, local/redis.ts), with the eviction policy the stack
 * deploys (components/session-redis.ts): per-user and global session bounds as in memory, and a front-channel logout
 * that cannot miss a session, even when Redis runs out of memory.
 */
import { randomBytes } from "node:crypto";
import Redis from "ioredis";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SESSION_REDIS_EVICTION_POLICY } from "../../contract/catalogue";
import { randomId } from "../../app/random-id";
import { createRedisStores } from "../../app/stores/redis";
import { StoreUnavailableError, type SessionLimits, type Stores } from "../../app/stores/types";
import { LOCAL_REDIS_RESOURCE, startLocalRedis, type LocalRedis } from "../../local/redis";
import { describeWithRedis, eventually } from "../support/redis-stack";

interface TestSession {
  readonly claims: { readonly iss?: unknown; readonly tid?: unknown; readonly oid?: unknown };
  readonly sid?: string;
  readonly tokenCache?: string;
}

const USER = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ISS = `https://login.example/${TID}/v2.0`;
const user = (n: number, sid?: string, tokenCache?: string): TestSession => ({
  claims: { iss: ISS, tid: TID, oid: `oid-${n}` },
  ...(sid ? { sid } : {}),
  ...(tokenCache ? { tokenCache } : {}),
});
let redis: LocalRedis;
const opened: Stores<TestSession, unknown>[] = [];

async function stores(limits: Partial<SessionLimits> = {}, now?: () => number) {
  const token = randomBytes(32).toString("base64url");
  await redis.allowToken(token, Date.now() / 1000 + 3600);
  const created = createRedisStores<TestSession, unknown>(
    {
      target: { host: redis.host, port: redis.port, username: USER, resource: LOCAL_REDIS_RESOURCE },
      tokens: { getToken: async () => ({ token, expiresOn: new Date(Date.now() + 3_600_000) }) },
      log: pino({ level: "silent" }),
      tls: { ca: redis.caPem },
      namespace: `secretless:${randomId().slice(0, 8)}:`,
      ...(now ? { now } : {}),
    },
    { idleTimeoutMs: 600_000, absoluteTimeoutMs: 1_200_000, maxSessions: 4, maxSessionsPerUser: 2, ...limits },
    { ttlMs: 60_000, maxBrowsers: 3, maxPerBrowser: 2 },
  );
  opened.push(created);
  await eventually("the store connected", () => created.available());
  return created;
}

describeWithRedis("Redis session bounds and logout", () => {
  beforeAll(async () => {
    redis = await startLocalRedis({ username: USER });
    // The policy the stack deploys, in redis-server's spelling (NoEviction -> noeviction, VolatileLRU -> volatile-lru).
    const policy = SESSION_REDIS_EVICTION_POLICY.replace(/^(Volatile|AllKeys)(?=.)/, "$1-").toLowerCase();
    await redis.admin.config("SET", "maxmemory-policy", policy);
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await redis?.close();
  });

  it("keeps a session written by a script across a crash, and still lets no one in without a token", async () => {
    const { sessions } = await stores();
    await sessions.create("survivor", user(1, "kept-sid"));
    await redis.kill();
    await redis.start();
    const back = async (): Promise<boolean> => (await sessions.get("survivor").catch(() => undefined)) !== undefined;
    await eventually("the session is back", back);
    expect(await sessions.deleteBySid(ISS, "kept-sid")).toBe(1); // the sid index survived too
    const anonymous = new Redis({
      host: redis.host,
      port: redis.port,
      tls: { ca: redis.caPem, servername: "localhost" },
      lazyConnect: true,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
    });
    anonymous.on("error", () => undefined);
    try {
      await anonymous.connect();
      await expect(anonymous.get("secretless:x")).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
    }
  });

  it("ends a session at its absolute timeout by the injected clock however active, and frees its place", async () => {
    // The real time plus a jump: Redis's own TTLs (the idle timeout) still run in real time.
    let jump = 0;
    const limits = { idleTimeoutMs: 600_000, absoluteTimeoutMs: 1_200_000, maxSessions: 1 };
    const { sessions } = await stores(limits, () => Date.now() + jump);
    await sessions.create("old", user(1));
    jump += 1_190_000;
    expect(await sessions.get("old")).toEqual(user(1));
    expect(await sessions.create("refused", user(2))).toBe(false);
    jump += 10_000;
    expect(await sessions.get("old")).toBeUndefined();
    expect(await sessions.create("newcomer", user(2))).toBe(true);
  });

  it("lets one user's repeated sign-ins end only that user's own oldest sessions", async () => {
    const { sessions } = await stores();
    await sessions.create("victim-1", user(1));
    await sessions.create("victim-2", user(2));
    for (let i = 0; i < 12; i++) expect(await sessions.create(`attacker-${i}`, user(9))).toBe(true);
    expect(await sessions.get("victim-1")).toEqual(user(1));
    expect(await sessions.get("victim-2")).toEqual(user(2));
    expect(await sessions.get("attacker-10")).toBeDefined();
    expect(await sessions.get("attacker-11")).toBeDefined();
    expect(await sessions.get("attacker-9")).toBeUndefined();
  });

  it("refuses a new user at the global bound, evicting no one, and has room once a session ends", async () => {
    const { sessions } = await stores({ maxSessions: 3, maxSessionsPerUser: 1 });
    for (const n of [1, 2, 3]) expect(await sessions.create(`s-${n}`, user(n))).toBe(true);
    expect(await sessions.create("newcomer", user(4))).toBe(false);
    expect(await sessions.get("newcomer")).toBeUndefined();
    for (const n of [1, 2, 3]) expect(await sessions.get(`s-${n}`)).toEqual(user(n));
    // A user at their own cap may still sign in again at the global bound: their own oldest makes way.
    expect(await sessions.create("s-1b", user(1))).toBe(true);
    expect(await sessions.get("s-1")).toBeUndefined();
    expect(await sessions.get("s-1b")).toEqual(user(1));
    expect(await sessions.delete("s-2")).toBe(true);
    expect(await sessions.create("newcomer", user(4))).toBe(true);
  });

  it("ends every session of a sid even after Redis ran out of memory under a flood of sign-ins", async () => {
    const { sessions } = await stores({ maxSessions: 100_000, maxSessionsPerUser: 100_000 });
    await sessions.create("victim-a", user(1, "entra-sid"));
    await sessions.create("victim-b", user(1, "entra-sid"));
    const { used_memory } = Object.fromEntries(
      ((await redis.admin.info("memory")) as string).split("\r\n").map((line) => line.split(":") as [string, string]),
    ) as { used_memory: string };
    await redis.admin.config("SET", "maxmemory", String(Number(used_memory) + 4 * 1024 * 1024));
    try {
      const filler = "x".repeat(32 * 1024);
      let refused = 0;
      // Twice the free memory in other users' sessions, the victims staying active (read) meanwhile.
      for (let i = 0; i < 256; i++) {
        await sessions.create(`filler-${i}`, user(100 + i, `other-${i}`, filler)).catch((error: unknown) => {
          expect(error).toBeInstanceOf(StoreUnavailableError); // out of memory is loud: a 503, never a silent loss
          refused++;
        });
        await sessions.get("victim-a");
        await sessions.get("victim-b");
      }
      expect(refused).toBeGreaterThan(0);
      expect(await sessions.deleteBySid(ISS, "entra-sid")).toBe(2);
      expect(await sessions.get("victim-a")).toBeUndefined();
      expect(await sessions.get("victim-b")).toBeUndefined();
    } finally {
      await redis.admin.config("SET", "maxmemory", "0");
      await redis.admin.flushall();
    }
  });
});
