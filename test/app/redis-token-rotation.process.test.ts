/**
 * The Redis password is the managed identity's token, and tokens expire: the app re-authenticates (`AUTH user token`)
 * on the same connection before each one does. The emulator issues 8-second tokens here; the local Redis accepts a
 * token only until it expires, as Azure does.
 */
import { expect, it } from "vitest";
import { describeWithRedis, eventually, useRedisStack } from "../support/redis-stack";
import { UserAgent } from "../../local/user-agent";

const TOKEN_SECONDS = 8;
const stack = useRedisStack({ instances: 1, emulator: { tokenLifetimeSeconds: TOKEN_SECONDS } });
const url = (path: string): string => `${stack.baseUrl}${path}`;

/** The app's connections (the ACL user is the identity's object ID), by id. */
async function appConnections(): Promise<string[]> {
  const list = (await stack.redis.admin.call("CLIENT", "LIST")) as string;
  return list
    .split("\n")
    .filter((line) => line.includes(` user=${stack.redis.username} `))
    .map((line) => /^id=(\d+)/.exec(line)![1]!);
}

/** AUTH calls the server has seen, and how many it refused. */
async function authStats(): Promise<{ calls: number; failed: number }> {
  const info = (await stack.redis.admin.info("commandstats")) as string;
  const line = /cmdstat_auth:calls=(\d+),.*?rejected_calls=(\d+),failed_calls=(\d+)/.exec(info);
  return { calls: Number(line?.[1] ?? 0), failed: Number(line?.[2] ?? 0) + Number(line?.[3] ?? 0) };
}

describeWithRedis("the app's Redis connection across token rotations", () => {
  it("re-authenticates on the same connection with each new token, and " +
    "keeps serving after the first tokens have expired", async () => {
    const ua = new UserAgent();
    await ua.navigate(url("/signin"));
    const [connection, ...others] = await appConnections();
    expect(others).toEqual([]);
    const before = await authStats();
    const expiredBefore = stack.redis.tokenStats.expired;

    // Two token lifetimes: every token the connection started with has expired and been removed from Redis.
    await eventually(
      "two tokens expired",
      async () => stack.redis.tokenStats.expired >= expiredBefore + 2,
      4 * TOKEN_SECONDS * 1000,
    );
    const after = await authStats();
    expect(after.calls - before.calls).toBeGreaterThanOrEqual(2);
    expect(after.failed).toBe(before.failed);
    expect(await appConnections()).toEqual([connection]);
    expect((await ua.request(url("/me"))).status).toBe(200);
    expect(stack.logs.some((line) => line.includes("redis re-authenticated with a new managed-identity token"))).toBe(
      true,
    );
  }, 60_000);

  it("reconnects with a live token when the connection drops", async () => {
    const ua = new UserAgent();
    await ua.navigate(url("/signin"));
    const [connection] = await appConnections();
    await stack.redis.admin.call("CLIENT", "KILL", "USER", stack.redis.username);
    await eventually("a new connection", async () => {
      const now = await appConnections();
      return now.length === 1 && now[0] !== connection;
    });
    await eventually("/me served again", async () => (await ua.request(url("/me"))).status === 200);
    const { failed } = await authStats();
    expect(failed).toBe(0);
  }, 60_000);
});
