/**
 * Sign-in attempts in progress in Redis, under the browser's binding (see redis.ts for the key layout). Each
 * operation is one script, so an attempt is taken (read and removed) once even when two instances race for it.
 */
import type { RedisConnection } from "./redis-connection";
import { hash, stamped, unstamp } from "./redis-keys";
import { HAS_ROOM, KEEP_ATTEMPT, TAKE_ATTEMPT } from "./redis-scripts";
import type { SignInAttemptLimits, SignInAttemptStore } from "./types";

export function createRedisSignInAttemptStore<A>(
  { run }: RedisConnection,
  namespace: string,
  limits: SignInAttemptLimits,
  now: () => number,
): SignInAttemptStore<A> {
  const browserKey = (binding: string): string => `${namespace}{att}:b:${hash(binding)}`;
  const browsersKey = `${namespace}{att}:browsers`;

  return {
    async hasRoom(binding) {
      const key = binding === undefined ? `${namespace}{att}:b:none` : browserKey(binding);
      const room = await run("check sign-ins in progress", (c) =>
        c.eval(HAS_ROOM, 2, key, browsersKey, now(), limits.maxBrowsers),
      );
      return room === 1;
    },
    async keep(presented, fresh, state, attempt) {
      const value = stamped(now(), attempt);
      const attemptWith = (binding: string, mustBeNew: boolean) =>
        run("keep a sign-in attempt", (c) =>
          c.eval(
            KEEP_ATTEMPT,
            2,
            browserKey(binding),
            browsersKey,
            now(),
            limits.ttlMs,
            limits.maxBrowsers,
            limits.maxPerBrowser,
            state,
            value,
            hash(binding),
            mustBeNew ? "1" : "0",
          ),
        );
      if (presented !== undefined && (await attemptWith(presented, false)) === 1) return presented;
      return (await attemptWith(fresh, true)) === 1 ? fresh : undefined;
    },
    async take(binding, state) {
      const raw = await run("take a sign-in attempt", (c) =>
        c.eval(TAKE_ATTEMPT, 2, browserKey(binding), browsersKey, state, hash(binding)),
      );
      if (typeof raw !== "string") return undefined;
      const { ms: keptAt, value } = unstamp<A>(raw);
      return now() - keptAt < limits.ttlMs ? value : undefined;
    },
  };
}
