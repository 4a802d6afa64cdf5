import { describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator";
import { authorize, REDIRECT_URI, redirectParams, useEmulator } from "./helpers";

const emulator = useEmulator();

function logout(emu: RunningEmulator, params: Record<string, string>, method: "GET" | "POST" = "GET"): Promise<Response> {
  const url = `${emu.authority}/oauth2/v2.0/logout`;
  const query = new URLSearchParams(params);
  return method === "GET"
    ? fetch(`${url}?${query}`, { redirect: "manual" })
    : fetch(url, { method, body: query, redirect: "manual" }); // URLSearchParams body → x-www-form-urlencoded
}

describe("logout", () => {
  it("redirects to an allowed post_logout_redirect_uri, passing state on", async () => {
    const res = await logout(emulator(), { post_logout_redirect_uri: "http://localhost:5173/", state: "bye" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("http://localhost:5173/?state=bye");
  });

  it("allows, by default, each redirect URI and its origin + '/'", async () => {
    for (const uri of [REDIRECT_URI, "http://localhost:5173/"]) {
      expect((await logout(emulator(), { post_logout_redirect_uri: uri })).status).toBe(302);
    }
  });

  it("shows the signed-out page instead of redirecting to a URI that is not allowed", async () => {
    for (const uri of ["https://evil.example/", "http://localhost:5173/elsewhere", "http://localhost:5174/"]) {
      const res = await logout(emulator(), { post_logout_redirect_uri: uri });
      expect(res.status).toBe(200);
      const html = await res.text();
      expect(html).toContain("You signed out of your account");
      expect(html).not.toContain(uri);
    }
  });

  it("uses postLogoutRedirectUris instead of the default when it is set", async () => {
    const emu = emulator();
    emu.registration.postLogoutRedirectUris = ["http://localhost:5173/signed-out"];
    expect((await logout(emu, { post_logout_redirect_uri: "http://localhost:5173/signed-out" })).status).toBe(302);
    expect((await logout(emu, { post_logout_redirect_uri: "http://localhost:5173/" })).status).toBe(200);
  });

  it("loads the front-channel logout URL in an iframe, then continues to the allowed URI", async () => {
    const emu = emulator();
    emu.registration.frontChannelLogoutUrl = "http://localhost:5173/signout-oidc";
    const res = await logout(emu, { post_logout_redirect_uri: "http://localhost:5173/" });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toMatch(/<iframe id="front-channel-logout" src="http:\/\/localhost:5173\/signout-oidc"/);
    expect(html).toContain(`<a id="continue" href="http://localhost:5173/">`);
  });

  it("accepts a POSTed form", async () => {
    const res = await logout(emulator(), { post_logout_redirect_uri: "http://localhost:5173/" }, "POST");
    expect(res.headers.get("location")).toBe("http://localhost:5173/");
  });

  it("ends the emulator's SSO session: prompt=none then needs a new interactive sign-in", async () => {
    const emu = emulator();
    await authorize(emu); // signs in
    expect(redirectParams(await authorize(emu, { prompt: "none" })).get("code")).toBeTruthy();
    await logout(emu, {});
    const reply = redirectParams(await authorize(emu, { prompt: "none" }));
    expect(reply.get("error")).toBe("login_required");
    expect(reply.get("error_description")).toMatch(/^AADSTS50058: /);
  });
});
