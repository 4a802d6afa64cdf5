import { describe, expect, it } from "vitest";
import {
  AppReadinessReason,
  ProbeCondition,
  READINESS_ADVICE,
  parseReadinessBody,
  readinessBody,
  readinessReasonForAadsts,
} from "../../contract/readiness";

/** The readiness contract (contract/readiness.ts) shared by the app's /readyz and the deploy step's wait. */

describe("the /readyz body", () => {
  it.each([
    ["ready", { status: "ready", reason: "ok" }],
    ["not ready, propagating", { status: "not_ready", reason: "fic_propagating" }],
    ["not ready, MI missing", { status: "not_ready", reason: "mi_not_configured" }],
  ])("accepts %s", (_what, body) => {
    expect(parseReadinessBody(body)).toEqual(body);
  });

  it.each([
    ["ready with a problem code", { status: "ready", reason: "fic_propagating" }],
    ["not ready with ok", { status: "not_ready", reason: "ok" }],
    ["an unknown code", { status: "not_ready", reason: "AADSTS700213" }],
    ["a probe condition (the app never sends those)", { status: "not_ready", reason: "not_started" }],
    [
      "any extra field, such as an ID",
      { status: "ready", reason: "ok", managedIdentityClientId: "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b" },
    ],
    ["the old shape", { status: "ready" }],
    ["not an object", "ready"],
    ["an array", ["ready", "ok"]],
    ["null", null],
  ])("rejects %s", (_what, body) => {
    expect(parseReadinessBody(body)).toBeUndefined();
  });

  it("is built by readinessBody for every app reason, and reads back the same", () => {
    for (const reason of Object.values(AppReadinessReason)) {
      const body = readinessBody(reason);
      expect(body.status).toBe(reason === "ok" ? "ready" : "not_ready");
      expect(parseReadinessBody(JSON.parse(JSON.stringify(body)))).toEqual(body);
    }
  });
});

describe("the reason codes", () => {
  it("are short snake_case codes, each with a summary and a fix", () => {
    for (const code of [...Object.values(AppReadinessReason), ...Object.values(ProbeCondition)]) {
      expect(code).toMatch(/^[a-z][a-z_]{1,30}$/);
      expect(READINESS_ADVICE[code].summary.length).toBeGreaterThan(0);
      expect(READINESS_ADVICE[code].fix.length).toBeGreaterThan(0);
    }
  });

  it.each([
    [70021, "fic_propagating", true],
    [700211, "fic_issuer_mismatch", false],
    [700212, "fic_audience_mismatch", false],
    [700213, "fic_subject_mismatch", false],
    [7002138, "fic_subject_case", false],
    [700016, "app_not_found", true],
    [7000215, "entra_rejected", false],
  ])("map AADSTS%i to %s (keep waiting: %s)", (code, reason, keepWaiting) => {
    expect(readinessReasonForAadsts(code)).toBe(reason);
    expect(READINESS_ADVICE[readinessReasonForAadsts(code)].keepWaiting).toBe(keepWaiting);
  });

  it.each(["mi_not_configured", "mi_identity_not_found", "mi_unavailable"] as const)(
    "stop the wait on the managed-identity error %s",
    (code) => {
      expect(READINESS_ADVICE[code].keepWaiting).toBe(false);
    },
  );

  it.each(["not_started", "http_error", "unexpected_response"] as const)("keep waiting while the app is %s", (code) => {
    expect(READINESS_ADVICE[code].keepWaiting).toBe(true);
  });
});
