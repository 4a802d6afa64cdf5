/**
 * Signed-in users' sessions in Redis, with the memory store's timeouts and bounds (see redis.ts for the key layout).
 * Every operation is one script, one round trip: creating a session writes it, its user's and the global count and
 * its front-channel logout index together or not at all; a logout ends every session of a sid at once.
 */
import type { RedisConnection } from "./redis-connection";
import { hash, unstamp } from "./redis-keys";
import { CREATE_SESSION, DELETE_BY_SID, DELETE_SESSION, GET_SESSION, REPLACE_SESSION } from "./redis-scripts";
import { sessionUser, type SessionIndexFields, type SessionLimits, type SessionStore } from "./types";

export function createRedisSessionStore<S extends SessionIndexFields>(
  { run }: RedisConnection,
  namespace: string,
  limits: SessionLimits,
  now: () => number,
): SessionStore<S> {
  const prefix = `${namespace}{s}:`;
  const all = `${prefix}all`;
  const sessionKey = (member: string): string => `${prefix}s:${member}`;
  const sidKey = (iss: string, sid: string): string => `${prefix}sid:${hash(`${iss}\n${sid}`)}`;
  const { idleTimeoutMs: idle, absoluteTimeoutMs: absolute } = limits;

  return {
    async get(id) {
      const member = hash(id);
      const raw = await run("read a session", (c) =>
        c.eval(GET_SESSION, 2, sessionKey(member), all, now(), idle, absolute, member, prefix),
      );
      return typeof raw === "string" ? unstamp<S>(raw, 2).value : undefined;
    },
    async create(id, session) {
      const member = hash(id);
      const user = sessionUser(session);
      const tag = user === undefined ? "" : hash(user);
      const iss = typeof session.claims.iss === "string" ? session.claims.iss : undefined;
      const indexed = iss !== undefined && !!session.sid;
      const created = await run("store a session", (c) =>
        c.eval(
          CREATE_SESSION,
          4,
          sessionKey(member),
          all,
          `${prefix}u:${tag}`,
          indexed ? sidKey(iss, session.sid!) : `${prefix}sid:`,
          now(),
          idle,
          absolute,
          limits.maxSessions,
          limits.maxSessionsPerUser,
          member,
          JSON.stringify(session),
          tag,
          indexed ? "1" : "0",
          prefix,
        ),
      );
      return created === 1;
    },
    async replace(id, session) {
      const json = JSON.stringify(session);
      return (await run("replace a session", (c) => c.eval(REPLACE_SESSION, 1, sessionKey(hash(id)), json))) === 1;
    },
    async delete(id) {
      const member = hash(id);
      const key = sessionKey(member);
      const ended = await run("end a session", (c) => c.eval(DELETE_SESSION, 2, key, all, member, prefix));
      return ended === 1;
    },
    async deleteBySid(iss, sid) {
      const index = sidKey(iss, sid);
      return Number(await run("end the sessions of a sid", (c) => c.eval(DELETE_BY_SID, 2, index, all, prefix)));
    },
  };
}
