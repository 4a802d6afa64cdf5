import { describe, expect, it } from "vitest";
import { AADSTS, explainAadsts, extractAadstsCode } from "../../app/auth/aadsts";

/** Entra's error_description shape: the message, then trace lines. */
function description(code: number, message: string): string {
  return `AADSTS${code}: ${message}\r\nTrace ID: 0b6e…\r\nCorrelation ID: 9c1a…\r\nTimestamp: 2026-11-26 10:00:00Z`;
}

describe("extractAadstsCode", () => {
  it("finds the code in an Entra description", () => {
    expect(
      extractAadstsCode(
        description(700213, "No matching federated identity record found for presented assertion subject"),
      ),
    ).toBe(700213);
  });

  it("returns undefined when there is no code", () => {
    expect(extractAadstsCode("The user cancelled")).toBeUndefined();
    expect(extractAadstsCode(undefined)).toBeUndefined();
  });
});

describe("explainAadsts", () => {
  const fixes: Array<[number, RegExp]> = [
    [700213, /subject to the managed identity's principal \(object\) ID, not its client ID/],
    [700211, /issuer to \{Instance\}\{TenantId\}\/v2\.0/],
    [700212, /audience to api:\/\/AzureADTokenExchange/],
    [7002138, /case-sensitively/],
    [70021, /wait a few minutes for it to propagate/],
    [700024, /clock/],
    [50011, /X-Forwarded-Proto/],
    [700016, /AzureAd__ClientId and AzureAd__TenantId/],
    [7000218, /SignedAssertionFromManagedIdentity/],
    [7000215, /secretless: remove any client secret/],
    [65004, /accept the consent prompt/],
    [50105, /assign you to the app/],
    [90072, /invite you as a guest/],
    [700226, /ManagedIdentityClientId/],
    [501481, /Sign in again/],
  ];

  it.each(fixes)("explains AADSTS%i with its fix", (code, fix) => {
    const problem = explainAadsts({ error: "invalid_client", description: description(code, "…") });
    expect(problem.code).toBe(`AADSTS${code}`);
    expect(problem.fix).toMatch(fix);
  });

  it("prefers error_codes over the description", () => {
    expect(explainAadsts({ error: "invalid_client", errorCodes: [700212], description: "something" }).code).toBe(
      "AADSTS700212",
    );
  });

  it("treats FIC propagation (70021) as transient with 503", () => {
    expect(
      explainAadsts({
        error: "invalid_client",
        description: description(70021, "No matching federated identity record"),
      }),
    ).toMatchObject({
      status: 503,
      kind: "transient",
    });
  });

  it("treats configuration mistakes as 502 and user problems as 403", () => {
    expect(explainAadsts({ description: description(700213, "x") })).toMatchObject({ status: 502, kind: "config" });
    expect(explainAadsts({ description: description(65004, "x") })).toMatchObject({ status: 403, kind: "user" });
  });

  it("explains access_denied without a code", () => {
    const problem = explainAadsts({ error: "access_denied", description: "The user has cancelled." });
    expect(problem).toMatchObject({
      status: 403,
      error: "access_denied",
      title: expect.stringMatching(/cancelled or access was denied/),
    });
    expect(problem.code).toBeUndefined();
  });

  it("explains temporarily_unavailable as transient", () => {
    expect(explainAadsts({ error: "temporarily_unavailable" })).toMatchObject({ status: 503, kind: "transient" });
  });

  it("points unknown codes at the error-code reference", () => {
    const problem = explainAadsts({ error: "invalid_request", description: description(9999999, "Something new") });
    expect(problem.code).toBe("AADSTS9999999");
    expect(problem.title).toMatch(/rejected the sign-in request/);
    expect(explainAadsts({ description: description(9999999, "new") }).fix).toMatch(
      /login\.microsoftonline\.com\/error\?code=9999999/,
    );
  });

  it("keeps only the first line of Entra's description, shortened", () => {
    const problem = explainAadsts({ error: "invalid_client", description: description(700213, "x".repeat(1000)) });
    expect(problem.description).not.toMatch(/Trace ID/);
    expect(problem.description!.length).toBeLessThanOrEqual(400);
  });

  it("has a title and fix for every mapped code", () => {
    for (const [code, explanation] of AADSTS) {
      expect(explanation.title, `AADSTS${code}`).toMatch(/\.$/);
      expect(explanation.fix.length, `AADSTS${code}`).toBeGreaterThan(10);
    }
  });
});
