/**
 * The Redis stores with each operation a client step of the request (`redis sessions.get`, `redis attempts.take` …):
 * one span per store operation, which is one Redis round trip or one Lua script. The memory stores are not wrapped:
 * they call no service.
 */
import type { SessionIndexFields, Stores } from "../stores/types";
import type { Telemetry } from "./telemetry";

export function tracedStores<S extends SessionIndexFields, A>(
  stores: Stores<S, A>,
  telemetry: Telemetry,
  target: { host: string; port: number },
): Stores<S, A> {
  if (!telemetry.enabled) return stores;
  const origin = `https://${target.host}:${target.port}`;
  const traced = <T extends object>(area: string, store: T): T =>
    new Proxy(store, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver);
        if (typeof value !== "function" || typeof property !== "string") return value;
        const operation = `${area}.${property}`;
        return (...args: unknown[]) =>
          telemetry.step(
            `redis ${operation}`,
            {
              kind: "client",
              peer: "redis",
              target: origin,
              attributes: { "db.system": "redis", "db.operation": operation },
            },
            () => value.apply(object, args) as Promise<unknown>,
          );
      },
    });
  return {
    sessions: traced("sessions", stores.sessions),
    attempts: traced("attempts", stores.attempts),
    kind: stores.kind,
    available: () => stores.available(),
    close: () => stores.close(),
  };
}
