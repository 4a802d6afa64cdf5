import { describe, expect, it } from "vitest";
import { BoundedStore, randomId } from "../../app/store";

function storeWithClock(options: { idleTimeoutMs?: number; absoluteTimeoutMs: number; maxEntries: number }) {
  const clock = { now: 0 };
  return { clock, store: new BoundedStore<string>({ ...options, now: () => clock.now }) };
}

describe("randomId", () => {
  it("should be 256 random bits in base64url", () => {
    const ids = new Set(Array.from({ length: 1000 }, randomId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[\w-]{43}$/);
  });
});

describe("BoundedStore", () => {
  it("should expire entries that sit idle", () => {
    const { clock, store } = storeWithClock({ idleTimeoutMs: 100, absoluteTimeoutMs: 1000, maxEntries: 10 });
    store.set("a", "A");
    clock.now = 90;
    expect(store.get("a")).toBe("A"); // activity renews the idle timer
    clock.now = 180;
    expect(store.get("a")).toBe("A");
    clock.now = 280;
    expect(store.get("a")).toBeUndefined();
  });

  it("should expire entries at the absolute timeout however active", () => {
    const { clock, store } = storeWithClock({ idleTimeoutMs: 100, absoluteTimeoutMs: 250, maxEntries: 10 });
    store.set("a", "A");
    for (const t of [80, 160, 240]) {
      clock.now = t;
      expect(store.get("a")).toBe("A");
    }
    clock.now = 250;
    expect(store.get("a")).toBeUndefined();
  });

  it("should evict the oldest entries beyond the bound", () => {
    const { store } = storeWithClock({ absoluteTimeoutMs: 1000, maxEntries: 3 });
    for (const key of ["a", "b", "c", "d"]) store.set(key, key.toUpperCase());
    expect(store.size).toBe(3);
    expect(store.get("a")).toBeUndefined();
    expect(store.get("d")).toBe("D");
  });

  it("should refuse to add beyond the bound, evicting nothing, until an entry expires", () => {
    const { clock, store } = storeWithClock({ absoluteTimeoutMs: 100, maxEntries: 2 });
    expect(store.add("a", "A")).toBe(true);
    clock.now = 10;
    expect(store.add("b", "B")).toBe(true);
    expect(store.hasRoom()).toBe(false);
    expect(store.add("c", "C")).toBe(false);
    expect([store.get("a"), store.get("b"), store.get("c")]).toEqual(["A", "B", undefined]);
    clock.now = 100; // "a" has expired: adding sweeps it to make room
    expect(store.add("c", "C")).toBe(true);
    expect([store.get("a"), store.get("b"), store.get("c")]).toEqual([undefined, "B", "C"]);
  });

  it("should replace a live entry's value keeping its timeouts, and never bring back an ended or expired one", () => {
    const { clock, store } = storeWithClock({ absoluteTimeoutMs: 100, maxEntries: 3 });
    store.set("session", "tokens-1");
    clock.now = 60;
    expect(store.replace("session", "tokens-2")).toBe(true);
    expect(store.get("session")).toBe("tokens-2");
    clock.now = 100; // the absolute timeout still counts from creation
    expect(store.replace("session", "tokens-3")).toBe(false);
    expect(store.get("session")).toBeUndefined();
    store.set("other", "x");
    store.delete("other");
    expect(store.replace("other", "y")).toBe(false);
    expect(store.size).toBe(0);
  });

  it("should hand out an entry only once with take", () => {
    const { store } = storeWithClock({ absoluteTimeoutMs: 1000, maxEntries: 3 });
    store.set("state", "tx");
    expect(store.take("state")).toBe("tx");
    expect(store.take("state")).toBeUndefined();
  });

  it("should drop expired entries on sweep and delete by predicate", () => {
    const { clock, store } = storeWithClock({ absoluteTimeoutMs: 100, maxEntries: 10 });
    store.set("old", "x");
    clock.now = 50;
    store.set("new", "y");
    store.set("other", "z");
    clock.now = 120;
    store.sweep();
    expect(store.size).toBe(2);
    expect(store.deleteWhere((v) => v === "y")).toBe(1);
    expect(store.size).toBe(1);
  });
});
