import { describe, expect, it } from "vitest";
import { authorize, pkce, REDIRECT_URI, redirectParams, useEmulator } from "../support/emulator";

const emulator = useEmulator();

describe("authorize endpoint", () => {
  it("redirects back with a code and the state in the query", async () => {
    const res = await authorize(emulator(), { code_challenge: pkce().challenge, code_challenge_method: "S256" });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.get("location")!);
    expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
    expect(location.searchParams.get("code")).toMatch(/^1\.[\w-]{40,}$/);
    expect(location.searchParams.get("state")).toBe("state-123");
  });

  it("posts code and state back with an auto-submitting form for response_mode=form_post", async () => {
    const res = await authorize(emulator(), { response_mode: "form_post" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toContain(`<form method="POST" name="hiddenform" action="${REDIRECT_URI}">`);
    expect(html).toMatch(/<input type="hidden" name="code" value="1\.[\w-]+">/);
    expect(html).toContain(`<input type="hidden" name="state" value="state-123">`);
    expect(html).toContain("document.forms[0].submit()");
    expect(html).toMatch(/<noscript>.*<input type="submit"/s);
  });

  it("puts code and state in the fragment for response_mode=fragment", async () => {
    const res = await authorize(emulator(), { response_mode: "fragment" });
    const fragment = new URLSearchParams(new URL(res.headers.get("location")!).hash.slice(1));
    expect(fragment.get("code")).toBeTruthy();
    expect(fragment.get("state")).toBe("state-123");
  });

  it("tolerates the extra parameters msal-node sends", async () => {
    const res = await authorize(emulator(), {
      claims: JSON.stringify({ id_token: { login_hint: { essential: true } } }),
      client_info: "1",
      clidata: "1",
      "client-request-id": "7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b",
      "x-client-SKU": "msal.js.node",
      "x-client-VER": "7.2.3",
      prompt: "select_account",
      login_hint: "ada@contoso.example",
    });
    expect(res.status).toBe(302);
    expect(redirectParams(res).get("code")).toBeTruthy();
  });

  it("shows AADSTS50011 and does not redirect when the redirect URI is not registered", async () => {
    const res = await authorize(emulator(), { redirect_uri: "http://localhost:5173/other" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    const html = await res.text();
    expect(html).toContain("AADSTS50011");
    expect(html).toContain("http://localhost:5173/other");
  });

  it("matches redirect URIs exactly, including trailing slash and case", async () => {
    for (const uri of [`${REDIRECT_URI}/`, REDIRECT_URI.toUpperCase(), REDIRECT_URI.replace("5173", "5174")]) {
      expect(await (await authorize(emulator(), { redirect_uri: uri })).text()).toContain("AADSTS50011");
    }
  });

  it("honours redirect URIs set after start (the app's port is often known late)", async () => {
    const emu = emulator();
    emu.setRedirectUris(["http://localhost:61234/signin-oidc"]);
    const res = await authorize(emu, { redirect_uri: "http://localhost:61234/signin-oidc" });
    expect(res.headers.get("location")).toMatch(/^http:\/\/localhost:61234\/signin-oidc\?code=/);
  });

  it("shows AADSTS700016 and does not redirect for an unknown client id", async () => {
    const res = await authorize(emulator(), { client_id: "00000000-0000-0000-0000-000000000000" });
    expect(res.status).toBe(400);
    expect(res.headers.get("location")).toBeNull();
    expect(await res.text()).toContain("AADSTS700016");
  });

  it.each<[string, Record<string, string | undefined>, string, string]>([
    ["response_type=token", { response_type: "token" }, "unsupported_response_type", "AADSTS700051"],
    ["a scope without openid", { scope: "profile" }, "invalid_scope", "AADSTS70011"],
    ["no scope", { scope: undefined }, "invalid_request", "AADSTS900144"],
    [
      "an unsupported code_challenge_method",
      { code_challenge: pkce().challenge, code_challenge_method: "S512" },
      "invalid_request",
      "AADSTS9002313",
    ],
    [
      "a code challenge of the wrong size",
      { code_challenge: "short", code_challenge_method: "S256" },
      "invalid_request",
      "AADSTS501491",
    ],
  ])("sends %s back to the app as %s (%s) with error_description and state", async (_case, params, error, code) => {
    const res = await authorize(emulator(), params);
    expect(res.status).toBe(302);
    const reply = redirectParams(res);
    expect(reply.get("error")).toBe(error);
    expect(reply.get("error_description")).toMatch(
      new RegExp(`^${code}: .+\\r\\nTrace ID: .+\\r\\nCorrelation ID: .+\\r\\nTimestamp: `, "s"),
    );
    expect(reply.get("state")).toBe("state-123");
    expect(reply.get("code")).toBeNull();
  });

  it("sends the injected authorizeError to the app, e.g. the user declining consent", async () => {
    const emu = emulator();
    emu.faults.authorizeError = {
      error: "access_denied",
      description: "AADSTS65004: User declined to consent to access the app.",
    };
    const reply = redirectParams(await authorize(emu));
    expect(reply.get("error")).toBe("access_denied");
    expect(reply.get("error_description")).toMatch(/^AADSTS65004: User declined/);
    expect(reply.get("state")).toBe("state-123");
  });

  it("sends the injected error through form_post too", async () => {
    const emu = emulator();
    emu.faults.authorizeError = {
      error: "access_denied",
      description: "AADSTS65004: User declined to consent to access the app.",
    };
    const html = await (await authorize(emu, { response_mode: "form_post" })).text();
    expect(html).toContain(`name="error" value="access_denied"`);
  });

  it("counts authorize requests", async () => {
    const emu = emulator();
    const before = emu.stats.authorizeRequests;
    await authorize(emu);
    expect(emu.stats.authorizeRequests).toBe(before + 1);
  });
});
