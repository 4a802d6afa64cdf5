/** The pieces of /readyz's check that need no server: the Graph scope per cloud and the reason for each failure. */
import { AuthError, ServerError } from "@azure/msal-node";
import { describe, expect, it } from "vitest";
import { ManagedIdentityError } from "../../app/auth/managed-identity";
import { classifyChainFailure } from "../../app/auth/readiness";
import { clouds, graphScopeForInstance } from "../../contract/clouds";

describe("graphScopeForInstance", () => {
  it.each([
    [clouds.public.instance, "https://graph.microsoft.com/.default"],
    [clouds.usgov.instance, "https://graph.microsoft.us/.default"],
    [clouds.china.instance, "https://microsoftgraph.chinacloudapi.cn/.default"],
    ["https://LOGIN.microsoftonline.us", "https://graph.microsoft.us/.default"],
    ["https://localhost:8443/", "https://graph.microsoft.com/.default"],
  ])("asks %s for %s", (instance, scope) => {
    expect(graphScopeForInstance(instance)).toBe(scope);
  });
});

describe("classifyChainFailure", () => {
  it.each([
    [
      "AADSTS70021 (propagation)",
      new ServerError(
        "invalid_client",
        "",
        "AADSTS70021: No matching federated identity record found.",
        "",
        "70021",
        401,
      ),
      "fic_propagating",
    ],
    [
      "AADSTS700213 from the description only",
      new ServerError(
        "invalid_client",
        "",
        "AADSTS700213: No matching federated identity record found for presented assertion subject 'x'.",
        "",
        "",
        401,
      ),
      "fic_subject_mismatch",
    ],
    [
      "an AADSTS code without a reason of its own",
      new ServerError("invalid_client", "", "AADSTS7000215: Invalid client secret provided.", "", "7000215", 401),
      "entra_rejected",
    ],
    [
      "503 temporarily_unavailable",
      new ServerError("temporarily_unavailable", "", "AADSTS90033: A transient error has occurred.", "", "90033", 503),
      "entra_unavailable",
    ],
    ["msal-node's throttling replay", new ServerError("90033", "correlation-id", ""), "entra_unavailable"],
    [
      "no connection to Entra",
      new AuthError("network_error", "", "Network request failed: fetch failed"),
      "entra_unavailable",
    ],
    [
      "the managed identity",
      new ManagedIdentityError(
        "mi_identity_not_found",
        "HTTP 400 from http://127.0.0.1:1/msi/token: Unable to load the proper Managed Identity.",
      ),
      "mi_identity_not_found",
    ],
    ["anything else", new Error("boom"), "entra_rejected"],
  ])("reports %s as its contract code", (_name, error, reason) => {
    const result = classifyChainFailure(error);
    expect(result.reason).toBe(reason);
    expect(result.detail).toBeTruthy();
  });
});
