/**
 * Sessions in this instance's memory: a {@link BoundedMap} (idle and absolute timeouts, a bound that refuses rather
 * than evicts) and, per user (`tid` + `oid`), their session ids in creation order, so a user's new sign-in beyond
 * the per-user cap ends that user's own oldest session and never anyone else's.
 */
import { BoundedMap } from "./bounded-map";
import { sessionUser, type SessionIndexFields, type SessionLimits, type SessionStore } from "./types";

export interface MemorySessionStore<S extends SessionIndexFields> extends SessionStore<S> {
  /** Drops expired sessions and the per-user index entries of every session gone. */
  sweep(): void;
}

export function createMemorySessionStore<S extends SessionIndexFields>(
  limits: SessionLimits,
  now: () => number,
): MemorySessionStore<S> {
  const sessions = new BoundedMap<S>({
    idleTimeoutMs: limits.idleTimeoutMs,
    absoluteTimeoutMs: limits.absoluteTimeoutMs,
    maxEntries: limits.maxSessions,
    now,
  });
  /** Session ids by user, oldest first; entries of ended sessions are dropped lazily (here and on sweep). */
  const byUser = new Map<string, string[]>();
  const liveIdsOf = (user: string): string[] => {
    const ids = (byUser.get(user) ?? []).filter((id) => sessions.has(id));
    if (ids.length > 0) byUser.set(user, ids);
    else byUser.delete(user);
    return ids;
  };

  return {
    get: async (id) => sessions.get(id),
    async create(id, session) {
      const user = sessionUser(session);
      const ids = user === undefined ? [] : liveIdsOf(user);
      // The user's own oldest make way first, so a user at the global bound can still sign in again.
      while (ids.length >= limits.maxSessionsPerUser) sessions.delete(ids.shift()!);
      if (!sessions.add(id, session)) return false;
      if (user !== undefined) byUser.set(user, [...ids, id]);
      return true;
    },
    replace: async (id, session) => sessions.replace(id, session),
    delete: async (id) => sessions.delete(id),
    deleteBySid: async (iss, sid) => sessions.deleteWhere((s) => s.sid === sid && s.claims.iss === iss),
    sweep() {
      sessions.sweep();
      for (const user of [...byUser.keys()]) liveIdsOf(user);
    },
  };
}
