/**
 * The /signin rate limit's two decisions: whose budget a request spends ({@link rateLimitKey}), and the clock its
 * windows run on ({@link clockedRateLimitStore}), so a test moves time instead of sleeping.
 */
import { isIPv4, isIPv6 } from "node:net";
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from "@fastify/rate-limit";

/** How many /signin requests one client (an IPv4 address, or an IPv6 /64) may make in a time window. */
export interface SignInRateLimit {
  readonly max: number;
  readonly timeWindowMs: number;
  /** The clock the windows run on, in milliseconds. Defaults to Date.now. */
  readonly now?: () => number;
}

/** How many clients the limiter remembers at once; beyond it, the one seen longest ago is forgotten first. */
export const RATE_LIMIT_CLIENTS = 10_000;

/**
 * The rate-limit key of a client address (req.ip: the socket's address, or on App Service the front end's
 * X-Forwarded-For entry, which may carry a port): an IPv4 address as it is, an IPv4-mapped IPv6 address
 * (`::ffff:a.b.c.d`) as its IPv4 address, and any other IPv6 address as its /64. One IPv6 subscriber, host or
 * cloud VM is routinely given a whole /64 (RFC 6177 suggests /56 or /48 for end sites, and SLAAC needs /64), so an
 * address-by-address budget would let one client rotate through 2^64 addresses.
 */
export function rateLimitKey(ip: string): string {
  const bare = withoutPort(ip);
  if (isIPv4(bare)) return bare;
  const hextets = isIPv6(bare) ? expandIPv6(bare) : undefined;
  if (!hextets) return bare;
  const mapped = hextets.slice(0, 5).every((h) => h === 0) && hextets[5] === 0xffff;
  if (mapped) return [hextets[6]! >> 8, hextets[6]! & 0xff, hextets[7]! >> 8, hextets[7]! & 0xff].join(".");
  return `${hextets
    .slice(0, 4)
    .map((h) => h.toString(16))
    .join(":")}::/64`;
}

/** `1.2.3.4:5678` → `1.2.3.4`; `[2001:db8::1]:443` and `[2001:db8::1]` → `2001:db8::1`; anything else as it is. */
function withoutPort(ip: string): string {
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(ip);
  if (v4) return v4[1]!;
  const v6 = /^\[([0-9a-f:.]+)\](?::\d+)?$/i.exec(ip);
  return v6 ? v6[1]! : ip;
}

/** The eight 16-bit groups of a valid IPv6 address (zone dropped, an embedded IPv4 tail as two groups). */
function expandIPv6(address: string): number[] | undefined {
  let text = address.replace(/%.*$/, "").toLowerCase();
  const v4Tail = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4Tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split("::") as [string, string | undefined];
  const groups = (part: string | undefined): number[] => (part ? part.split(":").map((h) => parseInt(h, 16)) : []);
  const front = groups(head);
  const back = groups(tail);
  const fill = tail === undefined ? [] : new Array<number>(8 - front.length - back.length).fill(0);
  const all = [...front, ...fill, ...back];
  return all.length === 8 && all.every((h) => Number.isInteger(h) && h >= 0 && h <= 0xffff) ? all : undefined;
}

interface RateLimitCount {
  readonly current: number;
  readonly ttl: number;
}

interface Window {
  count: number;
  startMs: number;
}

/**
 * A fixed-window store for @fastify/rate-limit on the given clock (its own LocalStore reads Date.now). Each client's
 * window starts at its first request and lasts `timeWindow`; at most {@link RATE_LIMIT_CLIENTS} clients are kept,
 * forgetting the least recently seen first (as LocalStore's LRU does).
 */
export function clockedRateLimitStore(now: () => number, capacity = RATE_LIMIT_CLIENTS): FastifyRateLimitStoreCtor {
  class ClockedStore implements FastifyRateLimitStore {
    private readonly windows = new Map<string, Window>();

    incr(key: string, callback: (error: Error | null, result?: RateLimitCount) => void, timeWindow: number): void {
      const nowMs = now();
      let window = this.windows.get(key);
      this.windows.delete(key); // re-inserted below: the Map's order is least recently seen first
      if (!window || window.startMs + timeWindow <= nowMs) window = { count: 0, startMs: nowMs };
      window.count++;
      this.windows.set(key, window);
      if (this.windows.size > capacity) this.windows.delete(this.windows.keys().next().value!);
      callback(null, { current: window.count, ttl: window.startMs + timeWindow - nowMs });
    }

    child(): FastifyRateLimitStore {
      return new ClockedStore();
    }
  }
  return ClockedStore;
}
