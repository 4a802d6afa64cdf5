interface BoundedMapOptions {
  /** Entries older than this are gone, however active. */
  readonly absoluteTimeoutMs: number;
  /** Entries not read for this long are gone. Defaults to the absolute timeout. */
  readonly idleTimeoutMs?: number;
  /** At most this many entries: {@link BoundedMap.set} evicts the oldest beyond it, {@link BoundedMap.add} refuses. */
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
 * Nothing is persisted: a restart forgets everything. The memory stores (memory.ts) are built on it.
 */
export class BoundedMap<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly now: () => number;

  constructor(private readonly options: BoundedMapOptions) {
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

  /**
   * Stores a value under a new key unless the store is full of live entries; returns false (and evicts nothing) when
   * it is. For entries one client must not be able to push out on behalf of another, such as pending sign-ins.
   */
  add(key: string, value: V): boolean {
    if (!this.hasRoom()) return false;
    const now = this.now();
    this.entries.set(key, { value, createdAt: now, lastSeenAt: now });
    return true;
  }

  /** True when {@link BoundedMap.add} would store a new entry (expired ones are swept to make room). */
  hasRoom(): boolean {
    if (this.entries.size < this.options.maxEntries) return true;
    // Entries are in creation order: sweep only when the oldest has expired, so a full store costs O(1) to refuse.
    const oldest = this.entries.values().next().value;
    if (oldest && this.expired(oldest, this.now())) this.sweep();
    return this.entries.size < this.options.maxEntries;
  }

  /** Whether a live entry is under a key, without marking it active. */
  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && !this.expired(entry, this.now());
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

  /**
   * Replaces the live value under a key, keeping its timestamps (so its timeouts run on) and place; returns false,
   * storing nothing, when there is no live entry: an ended or expired entry is never brought back.
   */
  replace(key: string, value: V): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(entry, this.now())) return false;
    this.entries.set(key, { ...entry, value });
    return true;
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
