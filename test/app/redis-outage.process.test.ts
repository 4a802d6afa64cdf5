/**
 * Redis down, hung and back: the app says not ready and "sign-in is temporarily unavailable" without crashing or
 * hanging, reconnects by itself, and signed-in sessions survive the restart (AOF on).
 */
import { expect, it } from "vitest";
import { describeWithRedis, eventually, useRedisStack } from "../support/redis-stack";
import { UserAgent } from "../../local/user-agent";

const stack = useRedisStack({ instances: 1 });
const url = (path: string): string => `${stack.baseUrl}${path}`;
/** Far longer than the store's 1 s command timeout: a request still open then is hanging. */
const HANG = 8_000;

async function get(ua: UserAgent, path: string): Promise<{ status: number; body: string }> {
  const page = await ua.request(url(path), { headers: { accept: path === "/me" ? "application/json" : "text/html" } });
  return { status: page.status, body: page.body };
}
const readyz = async (): Promise<{ status: number; body: unknown }> => {
  const response = await fetch(url("/readyz"), { signal: AbortSignal.timeout(HANG) });
  return { status: response.status, body: await response.json() };
};

describeWithRedis("the app while Redis is down", () => {
  it(
    "is not ready, answers 503 'temporarily unavailable' pages, keeps serving health " +
      "and signed-out pages, and recovers with the session intact",
    async () => {
      const ua = new UserAgent();
      await ua.navigate(url("/signin"));
      expect((await get(ua, "/me")).status).toBe(200);

      await stack.redis.kill();
      await eventually("/readyz not ready", async () => {
        const r = await readyz();
        return (
          r.status === 503 &&
          JSON.stringify(r.body) === JSON.stringify({ status: "not_ready", reason: "store_unavailable" })
        );
      });
      const home = await get(ua, "/");
      expect(home.status).toBe(503);
      expect(home.body).toContain('<h1 id="problem-title">Sign-in is temporarily unavailable</h1>');
      expect(await get(ua, "/me")).toEqual({
        status: 503,
        body: JSON.stringify({
          error: "store_unavailable",
          message: "Sign-in is temporarily unavailable: the app cannot reach its session store. Try again in a minute.",
        }),
      });
      expect((await get(new UserAgent(), "/signin")).status).toBe(503);
      expect((await get(ua, "/healthz")).status).toBe(200);
      expect((await get(new UserAgent(), "/")).status).toBe(200); // signed out: no store needed
      expect(stack.apps[0]!.server.listening).toBe(true);

      await stack.redis.start();
      await eventually("/readyz ready again", async () => (await readyz()).status === 200);
      // The AOF kept the session: the same cookie is still signed in, on the same kept client.
      expect((await get(ua, "/me")).status).toBe(200);
      expect(stack.logs.some((line) => line.includes('"msg":"redis connection error"'))).toBe(true);
    },
  );

  it("does not let a request hang on a Redis that accepts connections but never answers", async () => {
    const ua = new UserAgent();
    await ua.navigate(url("/signin"));
    stack.redis.pause();
    try {
      const me = await fetch(url("/me"), {
        headers: { cookie: `session=${ua.cookie(stack.baseUrl, "session")}` },
        signal: AbortSignal.timeout(HANG),
      });
      expect(me.status).toBe(503);
      const signIn = await fetch(url("/signin"), { redirect: "manual", signal: AbortSignal.timeout(HANG) });
      expect(signIn.status).toBe(503);
      expect((await readyz()).status).toBe(503);
    } finally {
      stack.redis.resume();
    }
    await eventually("/readyz ready again", async () => (await readyz()).status === 200);
    expect((await get(ua, "/me")).status).toBe(200);
  });
});
