import { describe, expect, it } from "vitest";
import { randomId } from "../../app/random-id";
import { BoundedMap } from "../../app/stores/bounded-map";
import { reauthenticationDelayMs } from "../../app/stores/redis";

function storeWithClock(options: { idleTimeoutMs?: number; absoluteTimeoutMs: number; maxEntries: number }) {
  const clock = { now: 0 };
  return { clock, store: new BoundedMap<string>({ ...options, now: () => clock.now }) };
}

describe("randomId", () => {
  it("is 256 random bits in base64url", () => {
    const ids = new Set(Array.from({ length: 1000 }, randomId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[\w-]{43}$/);
  });
});

describe("BoundedMap", () => {
  it("expires entries that sit idle", () => {
    const { clock, store } = storeWithClock({ idleTimeoutMs: 100, absoluteTimeoutMs: 1000, maxEntries: 10 });
    store.set("a", "A");
    clock.now = 90;
    expect(store.get("a")).toBe("A"); // activity renews the idle timer
    clock.now = 180;
    expect(store.get("a")).toBe("A");
    clock.now = 280;
    expect(store.get("a")).toBeUndefined();
  });

  it("expires entries at the absolute timeout however active", () => {
    const { clock, store } = storeWithClock({ idleTimeoutMs: 100, absoluteTimeoutMs: 250, maxEntries: 10 });
    store.set("a", "A");
    for (const t of [80, 160, 240]) {
      clock.now = t;
      expect(store.get("a")).toBe("A");
    }
    clock.now = 250;
    expect(store.get("a")).toBeUndefined();
  });

  it("evicts the oldest entries beyond the bound", () => {
    const { store } = storeWithClock({ absoluteTimeoutMs: 1000, maxEntries: 3 });
    for (const key of ["a", "b", "c", "d"]) store.set(key, key.toUpperCase());
    expect(store.size).toBe(3);
    expect(store.get("a")).toBeUndefined();
    expect(store.get("d")).toBe("D");
  });

  it("refuses to add beyond the bound, evicting nothing, until an entry expires", () => {
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

  it("replaces a live entry's value keeping its timeouts, and never bring back an ended or expired one", () => {
    const { clock, store } = storeWithClock({ idleTimeoutMs: 100, absoluteTimeoutMs: 200, maxEntries: 3 });
    store.set("session", "tokens-1");
    clock.now = 90;
    expect(store.replace("session", "tokens-2")).toBe(true);
    expect(store.get("session")).toBe("tokens-2"); // read at 90: the idle timer restarts
    clock.now = 180;
    expect(store.replace("session", "tokens-3")).toBe(true);
    clock.now = 190; // 100 since the read at 90: the replace at 180 did not restart the idle timer
    expect(store.get("session")).toBeUndefined();
    expect(store.replace("session", "tokens-4")).toBe(false);

    store.set("busy", "a"); // at 190
    for (const now of [280, 370]) {
      clock.now = now;
      expect(store.get("busy")).toBe("a");
    }
    clock.now = 390; // 200 since creation: the absolute timeout counts from creation, however active
    expect(store.replace("busy", "b")).toBe(false);
    expect(store.get("busy")).toBeUndefined();

    store.set("other", "x");
    store.delete("other");
    expect(store.replace("other", "y")).toBe(false);
    expect(store.replace("never", "z")).toBe(false);
    expect(store.size).toBe(0);
  });

  it("hands out an entry only once with take", () => {
    const { store } = storeWithClock({ absoluteTimeoutMs: 1000, maxEntries: 3 });
    store.set("state", "tx");
    expect(store.take("state")).toBe("tx");
    expect(store.take("state")).toBeUndefined();
  });

  it("drops expired entries on sweep and deletes by predicate", () => {
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

describe("reauthenticationDelayMs", () => {
  it.each([
    ["a 24 h token: half its life", 24 * 3600_000, 12 * 3600_000],
    ["a 20 min token: 5 minutes before it ends", 20 * 60_000, 10 * 60_000],
    ["a 12 min token: 5 minutes before it ends", 12 * 60_000, 6 * 60_000],
    ["an 8 s token: half its life", 8_000, 4_000],
    ["a token about to expire: no sooner than a second", 500, 1_000],
  ])("re-authenticates %s", (_what, lifetimeMs, delayMs) => {
    expect(reauthenticationDelayMs(new Date(1_000_000 + lifetimeMs), 1_000_000)).toBe(delayMs);
  });
});
