import { describe, expect, it } from "vitest";
import { DEFAULT_SESSION_LIMITS, SessionLimitsError, sessionLimits } from "../../app/sessions/limits";

describe("sessionLimits", () => {
  it("defaults to 10 sessions per user within 10 000 in all", () => {
    const limits = sessionLimits();
    expect(limits.sessions).toEqual({
      idleTimeoutMs: 3_600_000,
      absoluteTimeoutMs: 28_800_000,
      maxSessions: 10_000,
      maxSessionsPerUser: 10,
    });
    expect(DEFAULT_SESSION_LIMITS.maxSessionsPerUser).toBe(10);
  });

  it("takes a per-user cap set explicitly", () => {
    expect(sessionLimits({ maxSessionsPerUser: 3 }).sessions.maxSessionsPerUser).toBe(3);
  });

  it.each([0, -1, 2.5, Number.NaN, 1_001])("refuses a per-user cap of %s, naming the limit and its range", (value) => {
    expect(() => sessionLimits({ maxSessionsPerUser: value })).toThrow(SessionLimitsError);
    const message = /sessions\.maxSessionsPerUser is .*: set a whole number from 1 to 1000 \(default 10\)/;
    expect(() => sessionLimits({ maxSessionsPerUser: value })).toThrow(message);
  });

  it("reports every bad limit at once", () => {
    const error = (() => {
      try {
        sessionLimits({ maxSessions: 0, maxSessionsPerUser: 0, signInAttempts: { maxBrowsers: -3 } });
      } catch (thrown) {
        return thrown as SessionLimitsError;
      }
      throw new Error("expected a SessionLimitsError");
    })();
    expect(error.problems).toHaveLength(3);
  });
});
