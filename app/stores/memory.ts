/**
 * The default stores: this instance's memory, with the timeouts and bounds of {@link BoundedMap}: sessions
 * (memory-sessions.ts) and sign-in attempts by browser. Nothing is persisted: a restart signs everyone out, and
 * several instances need ARR affinity (see app/README.md).
 */
import { BoundedMap } from "./bounded-map";
import { createMemorySessionStore } from "./memory-sessions";
import type { SessionIndexFields, SessionLimits, SignInAttemptLimits, Stores } from "./types";

/** One browser's attempts in progress, by state, oldest first. */
interface PendingBrowser<A> {
  readonly attempts: Map<string, { readonly attempt: A; readonly keptAt: number }>;
}

/** Collaborators of the memory stores, for tests. */
export interface MemoryStoreOptions {
  /** Clock. Defaults to Date.now. */
  readonly now?: () => number;
}

const SWEEP_INTERVAL_MS = 60_000;

export function createMemoryStores<S extends SessionIndexFields, A>(
  sessionLimits: SessionLimits,
  attemptLimits: SignInAttemptLimits,
  options: MemoryStoreOptions = {},
): Stores<S, A> {
  const now = options.now ?? Date.now;
  const sessions = createMemorySessionStore<S>(sessionLimits, now);
  // No idle timeout: a browser's entry is re-set (refreshed, moved last) whenever it keeps a new attempt.
  const browsers = new BoundedMap<PendingBrowser<A>>({
    absoluteTimeoutMs: attemptLimits.ttlMs,
    maxEntries: attemptLimits.maxBrowsers,
    now,
  });
  const sweeper = setInterval(() => {
    sessions.sweep();
    browsers.sweep();
  }, SWEEP_INTERVAL_MS);
  sweeper.unref();

  return {
    kind: "memory",
    sessions,
    attempts: {
      hasRoom: async (binding) => (binding !== undefined && browsers.get(binding) !== undefined) || browsers.hasRoom(),
      async keep(presented, fresh, state, attempt) {
        const known = presented === undefined ? undefined : browsers.get(presented);
        const binding = known && presented ? presented : fresh;
        const browser: PendingBrowser<A> = known ?? { attempts: new Map() };
        if (known)
          browsers.set(binding, browser); // refresh: the TTL runs from this attempt
        else if (!browsers.add(binding, browser)) return undefined;
        while (browser.attempts.size >= attemptLimits.maxPerBrowser) {
          const oldest = browser.attempts.keys().next().value;
          if (oldest === undefined) break;
          browser.attempts.delete(oldest);
        }
        browser.attempts.set(state, { attempt, keptAt: now() });
        return binding;
      },
      async take(binding, state) {
        const browser = browsers.get(binding);
        const kept = browser?.attempts.get(state);
        if (!browser || !kept) return undefined;
        browser.attempts.delete(state);
        if (browser.attempts.size === 0) browsers.delete(binding);
        return now() - kept.keptAt < attemptLimits.ttlMs ? kept.attempt : undefined;
      },
    },
    available: async () => true,
    async close() {
      clearInterval(sweeper);
    },
  };
}
