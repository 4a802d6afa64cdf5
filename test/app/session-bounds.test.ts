/**
 * Issue 19, attack 1: at the memory store's bound a fresh sign-in must never evict another user's session. A user's
 * own oldest session makes way beyond the per-user cap (tid + oid); at the global bound a new sign-in is refused.
 */
import { afterEach, expect, it } from "vitest";
import { createMemoryStores } from "../../app/stores/memory";
import type { Stores } from "../../app/stores/types";

interface TestSession {
  readonly claims: { readonly iss?: unknown; readonly tid?: unknown; readonly oid?: unknown };
  readonly sid?: string;
}

const TID = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const ISS = `https://login.example/${TID}/v2.0`;
const user = (n: number): TestSession => ({ claims: { iss: ISS, tid: TID, oid: `oid-${n}` } });
let opened: Stores<TestSession, unknown> | undefined;
afterEach(() => opened?.close());

function memoryStores(maxSessions: number, maxSessionsPerUser: number) {
  let now = 1_000_000;
  opened = createMemoryStores<TestSession, unknown>(
    { idleTimeoutMs: 60_000, absoluteTimeoutMs: 120_000, maxSessions, maxSessionsPerUser },
    { ttlMs: 60_000, maxBrowsers: 3, maxPerBrowser: 2 },
    { now: () => now },
  );
  return { stores: opened, tick: (ms: number) => (now += ms) };
}

it("lets one user's repeated sign-ins at the bound end only that user's own oldest sessions", async () => {
  const { stores, tick } = memoryStores(4, 2);
  const { sessions } = stores;
  await sessions.create("victim-1", user(1));
  await sessions.create("victim-2", user(2));
  for (let i = 0; i < 20; i++) {
    tick(1_000);
    expect(await sessions.create(`attacker-${i}`, user(9))).toBe(true);
  }
  expect(await sessions.get("victim-1")).toEqual(user(1));
  expect(await sessions.get("victim-2")).toEqual(user(2));
  expect(await sessions.get("attacker-18")).toBeDefined();
  expect(await sessions.get("attacker-19")).toBeDefined();
  expect(await sessions.get("attacker-17")).toBeUndefined();
});

it("refuses a new user's sign-in at the global bound, evicting no one, and has room once one ends", async () => {
  const { stores, tick } = memoryStores(3, 1);
  const { sessions } = stores;
  for (const n of [1, 2, 3]) expect(await sessions.create(`s-${n}`, user(n))).toBe(true);
  expect(await sessions.create("newcomer", user(4))).toBe(false);
  expect(await sessions.get("newcomer")).toBeUndefined();
  for (const n of [1, 2, 3]) expect(await sessions.get(`s-${n}`)).toEqual(user(n));
  // A user at their own cap may still sign in again at the global bound: their own oldest makes way.
  expect(await sessions.create("s-1b", user(1))).toBe(true);
  expect(await sessions.get("s-1")).toBeUndefined();
  expect(await sessions.get("s-1b")).toEqual(user(1));
  expect(await sessions.get("s-2")).toEqual(user(2));
  expect(await sessions.delete("s-2")).toBe(true);
  expect(await sessions.create("newcomer", user(4))).toBe(true);
  tick(60_001); // every session idles out: room for all again
  expect(await sessions.create("later", user(5))).toBe(true);
});
