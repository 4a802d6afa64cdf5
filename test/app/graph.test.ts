import { InteractionRequiredAuthError, ServerError } from "@azure/msal-node";
import { describe, expect, it } from "vitest";
import { adminConsentUrl, explainTokenFailure } from "../../app/auth/graph";
import { loadConfig } from "../../app/app-config";
import { AppReadinessReason } from "../../contract/readiness";
import { ManagedIdentityError } from "../../app/auth/managed-identity";

const config = loadConfig({
  AzureAd__Instance: "https://login.microsoftonline.us/",
  AzureAd__TenantId: "contoso.onmicrosoft.us",
  AzureAd__ClientId: "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
  AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
  AzureAd__ClientCredentials__0__ManagedIdentityClientId: "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
  PUBLIC_BASE_URL: "http://localhost:3000",
});

describe("adminConsentUrl", () => {
  it("is the tenant-wide admin-consent endpoint of the app's instance and tenant, with its client ID", () => {
    expect(adminConsentUrl(config)).toBe(
      "https://login.microsoftonline.us/contoso.onmicrosoft.us/adminconsent" +
        "?client_id=0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    );
  });
});

describe("explainTokenFailure", () => {
  it.each([
    [
      "consent missing on refresh",
      new InteractionRequiredAuthError(
        "invalid_grant",
        "",
        "AADSTS65001: The user or administrator has not consented",
        "consent_required",
        undefined,
        undefined,
        undefined,
        "65001",
      ),
      "consent",
      "AADSTS65001",
    ],
    [
      "a revoked refresh token (no suberror)",
      new ServerError(
        "invalid_grant",
        "",
        "AADSTS50173: The provided grant has expired due to it being revoked",
        undefined,
        "50173",
      ),
      "sign-in",
      "AADSTS50173",
    ],
    [
      "no tokens for the account",
      new InteractionRequiredAuthError("no_tokens_found", "", "No refresh token found in the cache."),
      "sign-in",
      undefined,
    ],
    [
      "the FIC refusing the assertion on refresh",
      new ServerError(
        "invalid_client",
        "",
        "AADSTS70021: No matching federated identity record found",
        undefined,
        "70021",
      ),
      "unavailable",
      "AADSTS70021",
    ],
    [
      "a FIC subject mismatch on refresh",
      new ServerError(
        "invalid_client",
        "",
        "AADSTS700213: No matching federated identity record found",
        undefined,
        "700213",
      ),
      "config",
      "AADSTS700213",
    ],
    [
      "the managed identity endpoint down",
      new ManagedIdentityError(AppReadinessReason.MiUnavailable, "http://127.0.0.1/msi/token: fetch failed"),
      "unavailable",
      undefined,
    ],
    ["anything else", new Error("socket hang up"), "unavailable", undefined],
  ])("explains %s", (_what, error, kind, code) => {
    const problem = explainTokenFailure(error, config);
    expect(problem.kind).toBe(kind);
    expect(problem.code).toBe(code);
    expect(problem.endSession ?? false).toBe(kind === "sign-in");
    expect(problem.adminConsentUrl !== undefined).toBe(kind === "consent");
    expect(JSON.stringify(problem)).not.toMatch(/127\.0\.0\.1|socket/);
  });
});
