import { describe, expect, it } from "vitest";
import { parseReadinessBody, readinessBody } from "../../contract/readiness";

const MI = { index: 0, sourceType: "SignedAssertionFromManagedIdentity" };

describe("the /readyz body that names the credential", () => {
  it("round-trips a ready body with the credential that proved the chain", () => {
    const body = readinessBody("ok", MI);
    expect(body).toEqual({ status: "ready", reason: "ok", credential: MI });
    expect(parseReadinessBody(JSON.parse(JSON.stringify(body)))).toEqual(body);
  });

  it("never names a credential on a not-ready body", () => {
    expect(readinessBody("fic_propagating", MI)).toEqual({ status: "not_ready", reason: "fic_propagating" });
    expect(parseReadinessBody({ status: "not_ready", reason: "fic_propagating", credential: MI })).toBeUndefined();
  });

  it.each([
    ["a negative index", { index: -1, sourceType: "ClientSecret" }],
    ["a fractional index", { index: 0.5, sourceType: "ClientSecret" }],
    ["a source type that is not a word", { index: 0, sourceType: "Client Secret <b>" }],
    ["another field", { index: 0, sourceType: "ClientSecret", value: "x" }],
  ])("refuses a credential with %s", (_name, credential) => {
    expect(parseReadinessBody({ status: "ready", reason: "ok", credential })).toBeUndefined();
  });
});
