import { describe, expect, it } from "vitest";
import { tracedStores } from "../../app/telemetry/traced-stores";
import { TELEMETRY_OFF, type StepOptions, type Telemetry } from "../../app/telemetry/telemetry";
import { createMemoryStores } from "../../app/stores/memory";
import type { SessionIndexFields } from "../../app/stores/types";

interface Session extends SessionIndexFields {
  readonly name: string;
}

/** Telemetry that records each step it runs. */
function recording(): { telemetry: Telemetry; steps: { name: string; options: StepOptions }[] } {
  const steps: { name: string; options: StepOptions }[] = [];
  const telemetry: Telemetry = {
    ...TELEMETRY_OFF,
    enabled: true,
    step: (name, options, fn) => {
      steps.push({ name, options });
      return fn();
    },
  };
  return { telemetry, steps };
}

const limits = {
  sessions: { idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000, maxSessions: 10, maxSessionsPerUser: 5 },
  attempts: { ttlMs: 60_000, maxBrowsers: 10, maxPerBrowser: 3 },
};

describe("the traced Redis stores", () => {
  it("run each store operation as a Redis client step and return what the store returns", async () => {
    const { telemetry, steps } = recording();
    const inner = createMemoryStores<Session, string>(limits.sessions, limits.attempts);
    const stores = tracedStores(inner, telemetry, { host: "cache.example.net", port: 10000 });
    expect(await stores.sessions.create("s1", { name: "Ada", claims: { tid: "t", oid: "o" } })).toBe(true);
    expect(await stores.sessions.get("s1")).toMatchObject({ name: "Ada" });
    expect(await stores.sessions.get("nope")).toBeUndefined();
    expect(steps.map((step) => step.name)).toEqual([
      "redis sessions.create",
      "redis sessions.get",
      "redis sessions.get",
    ]);
    expect(steps[0]!.options).toEqual({
      kind: "client",
      peer: "redis",
      target: "https://cache.example.net:10000",
      attributes: { "db.system": "redis", "db.operation": "sessions.create" },
    });
    expect(stores.kind).toBe(inner.kind);
  });

  it("are the stores themselves when telemetry is off", () => {
    const inner = createMemoryStores<Session, string>(limits.sessions, limits.attempts);
    expect(tracedStores(inner, TELEMETRY_OFF, { host: "h", port: 1 })).toBe(inner);
  });
});
