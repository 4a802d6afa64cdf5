import { describe, expect, it } from "vitest";
import {
  LOG_FIELDS,
  METRIC_ATTRIBUTES,
  MAX_TEXT,
  SPAN_ATTRIBUTES,
  allowed,
  scrubText,
} from "../../app/telemetry/allow-list";

const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU";
const STATE = "q3Jx8v0bLw5hYk2NfT7aRz1CmUe9GdPs4WoXiAtBnHc";

describe("the telemetry allow-lists", () => {
  it("keep the named span attributes whose values have the allowed shape", () => {
    const kept = {
      "http.request.method": "POST",
      "http.response.status_code": 303,
      "http.route": "/signin-oidc",
      "url.full": "https://app.azurewebsites.net/signin-oidc",
      "signin.aadsts": "AADSTS700213",
      "signin.error": "invalid_client",
      "peer.service": "entra",
      "url.path": "/00000000-0000-4000-8000-00000000feed/oauth2/v2.0/token",
    };
    expect(allowed(kept, SPAN_ATTRIBUTES)).toEqual(kept);
  });

  it("drop attributes not on the list, however harmless, and every header, cookie and token field", () => {
    const dropped = {
      "http.request.header.authorization": `Bearer ${JWT}`,
      "http.request.header.cookie": `session=${STATE}`,
      "enduser.id": "ada@contoso.example",
      "client.address": "203.0.113.9",
      code: STATE,
      state: STATE,
      client_assertion: JWT,
    };
    expect(allowed(dropped, SPAN_ATTRIBUTES)).toEqual({});
  });

  it("drop an allowed attribute of another shape: a query string, a token in a path, a made-up code", () => {
    const wrong = {
      "url.full": `https://app.example/signin-oidc?code=${STATE}&state=${STATE}`,
      "url.path": `/nowhere/${JWT}`,
      "http.route": `/x/${STATE}`,
      "signin.aadsts": `AADSTS1 ${STATE}`,
      "signin.error": "Invalid_Client!",
      "http.response.status_code": "200",
    };
    expect(allowed(wrong, SPAN_ATTRIBUTES)).toEqual({});
  });

  it("keep a metric's error dimension only for a known OAuth error code", () => {
    expect(allowed({ outcome: "failed", aadsts: "AADSTS50105", error: "access_denied" }, METRIC_ATTRIBUTES)).toEqual({
      outcome: "failed",
      aadsts: "AADSTS50105",
      error: "access_denied",
    });
    expect(allowed({ error: "made_up_by_a_client" }, METRIC_ATTRIBUTES)).toEqual({});
  });

  it("keep log fields by name and shape only", () => {
    const line = {
      aadsts: "AADSTS50173",
      "err.type": "ServerError",
      "req.headers.cookie": STATE,
      oid: "x",
      csrf: STATE,
    };
    expect(allowed(line, LOG_FIELDS)).toEqual({ aadsts: "AADSTS50173", "err.type": "ServerError" });
  });

  it("scrub JWTs and long token-like runs from free text and cut it short", () => {
    expect(scrubText(`assertion ${JWT} refused; state ${STATE}; AADSTS700213: No matching federated identity`)).toBe(
      "assertion [redacted] refused; state [redacted]; AADSTS700213: No matching federated identity",
    );
    expect(scrubText("word ".repeat(200)).length).toBe(MAX_TEXT + 1);
  });
});
