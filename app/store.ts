import { randomBytes, timingSafeEqual } from "node:crypto";

/** A random 256-bit identifier, base64url: session ids, sign-in attempt bindings, state, nonce, CSRF tokens. */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares two such identifiers in constant time. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

interface BoundedStoreOptions {
  /** Entries older than this are gone, however active. */
  readonly absoluteTimeoutMs: number;
  /** Entries not read for this long are gone. Defaults to the absolute timeout. */
  readonly idleTimeoutMs?: number;
  /** At most this many entries; adding one more evicts the oldest. */
  readonly maxEntries: number;
  /** Clock, for tests. */
  readonly now?: () => number;
}

interface Entry<V> {
  readonly value: V;
  readonly createdAt: number;
  lastSeenAt: number;
}

/**
 * An in-memory map with idle and absolute timeouts and a size bound, for sessions and sign-in attempts.
 * Nothing is persisted: a restart forgets everything (see app/README.md for what that means when scaling out).
 */
export class BoundedStore<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly options: BoundedStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Stores a value under a key, evicting the oldest entries beyond the size bound. */
  set(key: string, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.options.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
    const now = this.now();
    this.entries.set(key, { value, createdAt: now, lastSeenAt: now });
  }

  /** The live value under a key (and marks it active), or undefined. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    if (this.expired(entry, now)) {
      this.entries.delete(key);
      return undefined;
    }
    entry.lastSeenAt = now;
    return entry.value;
  }

  /** Removes and returns the live value under a key: single use. */
  take(key: string): V | undefined {
    const value = this.get(key);
    this.entries.delete(key);
    return value;
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  /** Removes every entry the predicate selects; returns how many. */
  deleteWhere(predicate: (value: V) => boolean): number {
    let removed = 0;
    for (const [key, entry] of this.entries) {
      if (predicate(entry.value)) {
        this.entries.delete(key);
        removed++;
      }
    }
    return removed;
  }

  /** Drops expired entries (run periodically so memory is returned without reads). */
  sweep(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (this.expired(entry, now)) this.entries.delete(key);
    }
  }

  private expired(entry: Entry<V>, now: number): boolean {
    const idle = this.options.idleTimeoutMs ?? this.options.absoluteTimeoutMs;
    return now - entry.createdAt >= this.options.absoluteTimeoutMs || now - entry.lastSeenAt >= idle;
  }
}
