/**
 * The Redis stores' contract on a real Redis (local/redis.ts), with the same limits the memory stores keep: whole
 * records, timeouts, bounds, and a single-use take that two instances cannot both win.
 */
import { randomBytes } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, expect, it } from "vitest";
import { randomId } from "../../app/random-id";
import { createRedisStores } from "../../app/stores/redis";
import type { SessionLimits, SignInAttemptLimits, Stores } from "../../app/stores/types";
import { startLocalRedis, type LocalRedis, LOCAL_REDIS_RESOURCE } from "../../local/redis";
import { describeWithRedis, eventually } from "../support/redis-stack";

interface TestSession {
  readonly claims: { readonly iss?: unknown; readonly name?: string };
  readonly sid?: string;
  /** Stands for anything a session carries, such as a serialised msal token cache. */
  readonly tokenCache?: string;
}

const USER = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9";
let redis: LocalRedis;
const opened: Stores<TestSession, { n: number }>[] = [];

/** Stores on the local Redis, each call under its own namespace unless `namespace` is given. */
async function stores(
  sessions: Partial<SessionLimits> = {},
  attempts: Partial<SignInAttemptLimits> = {},
  namespace = `secretless:${randomId().slice(0, 8)}:`,
) {
  const token = randomBytes(32).toString("base64url");
  await redis.allowToken(token, Date.now() / 1000 + 3600);
  const created = createRedisStores<TestSession, { n: number }>(
    {
      target: { host: redis.host, port: redis.port, username: USER, resource: LOCAL_REDIS_RESOURCE },
      tokens: { getToken: async () => ({ token, expiresOn: new Date(Date.now() + 3_600_000) }) },
      log: pino({ level: "silent" }),
      tls: { ca: redis.caPem },
      namespace,
    },
    {
      idleTimeoutMs: 60_000,
      absoluteTimeoutMs: 120_000,
      maxSessions: 10,
      maxSessionsPerUser: 5,
      ...sessions,
    } as SessionLimits,
    { ttlMs: 60_000, maxBrowsers: 3, maxPerBrowser: 2, ...attempts },
  );
  opened.push(created);
  await eventually("the store connected", () => created.available());
  return created;
}

describeWithRedis("the Redis stores", () => {
  beforeAll(async () => {
    redis = await startLocalRedis({ username: USER });
  });
  afterAll(async () => {
    for (const s of opened) await s.close();
    await redis?.close();
  });

  it("round-trips a session whole, extra serialisable fields included, and replaces it whole", async () => {
    const { sessions } = await stores();
    const id = randomId();
    await sessions.create(id, { claims: { iss: "https://issuer", name: "Ada" }, sid: "s1" });
    expect(await sessions.get(id)).toEqual({ claims: { iss: "https://issuer", name: "Ada" }, sid: "s1" });
    expect(
      await sessions.replace(id, {
        claims: { iss: "https://issuer", name: "Ada" },
        sid: "s1",
        tokenCache: '{"AccessToken":{}}',
      }),
    ).toBe(true);
    expect(await sessions.get(id)).toEqual({
      claims: { iss: "https://issuer", name: "Ada" },
      sid: "s1",
      tokenCache: '{"AccessToken":{}}',
    });
  });

  it("never brings a signed-out session back by replacing it", async () => {
    const { sessions } = await stores();
    const id = randomId();
    await sessions.create(id, { claims: {} });
    expect(await sessions.delete(id)).toBe(true);
    expect(await sessions.replace(id, { claims: {}, tokenCache: "x" })).toBe(false);
    expect(await sessions.get(id)).toBeUndefined();
  });

  it("ends a session at its absolute timeout however active, and after its idle timeout", async () => {
    const { sessions } = await stores({ idleTimeoutMs: 800, absoluteTimeoutMs: 2_000 });
    const active = randomId();
    const idle = randomId();
    await sessions.create(active, { claims: {} });
    await sessions.create(idle, { claims: {} });
    for (let t = 0; t < 4; t++) {
      await new Promise((resolve) => setTimeout(resolve, 400)); // each read within the idle timeout of the last
      expect(await sessions.get(active)).toBeDefined();
    }
    expect(await sessions.get(idle)).toBeUndefined(); // 1.6 s unread
    await new Promise((resolve) => setTimeout(resolve, 600)); // 2.2 s old
    expect(await sessions.get(active)).toBeUndefined();
  });

  it("ends every session of one Entra session (iss + sid) and no other", async () => {
    const { sessions } = await stores();
    const [a, b, c] = [randomId(), randomId(), randomId()];
    await sessions.create(a, { claims: { iss: "https://one" }, sid: "s" });
    await sessions.create(b, { claims: { iss: "https://one" }, sid: "s" });
    await sessions.create(c, { claims: { iss: "https://two" }, sid: "s" });
    expect(await sessions.deleteBySid("https://one", "s")).toBe(2);
    expect([await sessions.get(a), await sessions.get(b), (await sessions.get(c)) !== undefined]).toEqual([
      undefined,
      undefined,
      true,
    ]);
  });

  it("lets exactly one of many simultaneous takes of a sign-in attempt win, from separate clients", async () => {
    const namespace = `secretless:${randomId().slice(0, 8)}:`;
    const [one, two] = [await stores({}, {}, namespace), await stores({}, {}, namespace)];
    const binding = randomId();
    expect(await one.attempts.keep(undefined, binding, "state-1", { n: 1 })).toBe(binding);
    const takes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? one : two).attempts.take(binding, "state-1")),
    );
    expect(takes.filter((t) => t !== undefined)).toEqual([{ n: 1 }]);
  });

  it(
    "keeps a browser's newest attempts (its oldest dropped beyond the bound), " +
      "reuses a known binding and ignores an unknown one",
    async () => {
      const { attempts } = await stores();
      const binding = (await attempts.keep(undefined, randomId(), "a", { n: 1 }))!;
      expect(await attempts.keep(binding, randomId(), "b", { n: 2 })).toBe(binding);
      expect(await attempts.keep(binding, randomId(), "c", { n: 3 })).toBe(binding);
      expect(await attempts.take(binding, "a")).toBeUndefined();
      expect(await attempts.take(binding, "b")).toEqual({ n: 2 });
      const planted = randomId();
      const fresh = randomId();
      expect(await attempts.keep(planted, fresh, "d", { n: 4 })).toBe(fresh);
    },
  );

  it(
    "refuses a new browser beyond the bound rather than evicting " +
      "another's attempt, and has room again once one is used",
    async () => {
      const { attempts } = await stores({}, { maxBrowsers: 2 });
      const first = (await attempts.keep(undefined, randomId(), "s1", { n: 1 }))!;
      await attempts.keep(undefined, randomId(), "s2", { n: 2 });
      expect(await attempts.hasRoom(undefined)).toBe(false);
      expect(await attempts.keep(undefined, randomId(), "s3", { n: 3 })).toBeUndefined();
      expect(await attempts.hasRoom(first)).toBe(true);
      expect(await attempts.take(first, "s1")).toEqual({ n: 1 });
      expect(await attempts.hasRoom(undefined)).toBe(true);
    },
  );
});
