/**
 * What the sign-in error page says when the authority's OpenID metadata cannot be read (a wrong instance or tenant, or
 * Entra unreachable): a transient 503 whose fix is the reason, never a token or a stack.
 */
import { describe, expect, it } from "vitest";
import { AuthorityError } from "../../app/auth/authority";
import { explainSignInFailure } from "../../app/auth/sign-in-failure";
import { offlineConfig } from "../support/offline-app";

describe("explaining a sign-in that failed on the authority's metadata", () => {
  it.each([
    "GET https://login.microsoftonline.com/x/v2.0/.well-known/openid-configuration answered HTTP 404",
    "GET https://login.example/x/v2.0/.well-known/openid-configuration failed " +
      "(ECONNREFUSED): check AzureAd__Instance and AzureAd__TenantId",
  ])("answers 503 'metadata could not be read' with the reason as the fix: %s", (reason) => {
    const problem = explainSignInFailure(new AuthorityError(reason), offlineConfig());
    expect(problem).toMatchObject({
      status: 503,
      kind: "transient",
      title: "Entra's sign-in metadata could not be read.",
      fix: reason,
    });
  });
});
