import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator";
import {
  authorize,
  miToken,
  REDIRECT_URI,
  redirectParams,
  signInAndRedeem,
  tokenRequest,
  useEmulator,
} from "../support/emulator";

const emulator = useEmulator();

function logout(
  emu: RunningEmulator,
  params: Record<string, string>,
  method: "GET" | "POST" = "GET",
): Promise<Response> {
  const url = `${emu.authority}/oauth2/v2.0/logout`;
  const query = new URLSearchParams(params);
  return method === "GET"
    ? fetch(`${url}?${query}`, { redirect: "manual" })
    : fetch(url, { method, body: query, redirect: "manual" }); // URLSearchParams body → x-www-form-urlencoded
}

/** The URL the signed-out page's front-channel iframe loads, if it has one. */
function frontChannelRequest(html: string): URL | undefined {
  const src = /<iframe id="front-channel-logout" src="([^"]+)"/.exec(html)?.[1];
  return src === undefined ? undefined : new URL(src.replaceAll("&amp;", "&"));
}

/** The `sid` claim of the ID token a token response carries. */
async function sidOf(res: Response): Promise<unknown> {
  return decodeJwt(((await res.json()) as { id_token: string }).id_token).sid;
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
    expect(frontChannelRequest(html)?.pathname).toBe("/signout-oidc");
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

describe("sign-in session id (sid) and front-channel logout 1.0", () => {
  it(
    "puts one sid per IdP session in ID tokens: kept across " + "single sign-on and refresh, new after logout",
    async () => {
      const emu = emulator();
      await logout(emu, {}); // start without an IdP session
      const first = await signInAndRedeem(emu);
      const body = (await first.clone().json()) as { refresh_token: string };
      const sid = await sidOf(first);
      expect(sid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

      expect(await sidOf(await signInAndRedeem(emu))).toBe(sid);
      const refreshed = await tokenRequest(emu, {
        grant_type: "refresh_token",
        refresh_token: body.refresh_token,
        redirect_uri: undefined,
        client_assertion: await miToken(emu),
      });
      expect(await sidOf(refreshed)).toBe(sid);

      await logout(emu, {});
      const next = await sidOf(await signInAndRedeem(emu));
      expect(next).toEqual(expect.any(String));
      expect(next).not.toBe(sid);
    },
  );

  it("sends iss and the ended session's sid to the front-channel logout URL, keeping the URL's own query", async () => {
    const emu = emulator();
    emu.registration.frontChannelLogoutUrl = "http://localhost:5173/signout-oidc?tenant=a";
    const sid = await sidOf(await signInAndRedeem(emu));
    const request = frontChannelRequest(
      await (await logout(emu, { post_logout_redirect_uri: "http://localhost:5173/" })).text(),
    );
    expect(`${request?.origin}${request?.pathname}`).toBe("http://localhost:5173/signout-oidc");
    expect(Object.fromEntries(request!.searchParams)).toEqual({ tenant: "a", iss: emu.issuer, sid });
  });

  it("sends iss but no sid when no IdP session was open", async () => {
    const emu = emulator();
    emu.registration.frontChannelLogoutUrl = "http://localhost:5173/signout-oidc";
    await logout(emu, {});
    const request = frontChannelRequest(await (await logout(emu, {})).text());
    expect(Object.fromEntries(request!.searchParams)).toEqual({ iss: emu.issuer });
  });
});
