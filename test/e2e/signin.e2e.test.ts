/**
 * A real browser signs in and out of the built app (dist/app/server.js, as App Service runs it) against the
 * emulator: form_post across sites with the SameSite=None sign-in attempt cookie over http://localhost, the session
 * cookie, the page content with the Microsoft Graph profile, sign-out through the end-session endpoint with
 * front-channel logout, and /me afterwards.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { setupBrowser, useBuiltStack } from "../support/browser";
import { REPO } from "../support/repo";

const SCREENSHOT = join(REPO, "test-results", "e2e-signed-in.png");

const stack = useBuiltStack();
const browser = setupBrowser();

describe("signing in and out in Chromium", () => {
  it("signs in through the emulator and shows the user's name, claims and trust chain", async () => {
    const { page, context } = browser;
    await page.goto(`${stack.appUrl}/`);
    await page.click("#sign-in");
    await page.waitForSelector("#user-name");

    expect(page.url()).toBe(`${stack.appUrl}/`);
    expect(browser.requests).toContainEqual(expect.stringMatching(new RegExp(`^GET ${stack.emu.authority}/oauth2/v2\\.0/authorize\\?`)));
    expect(browser.requests).toContain(`POST ${stack.appUrl}/signin-oidc`);
    expect(await page.textContent("#user-name")).toBe("Ada Lovelace");
    expect(await page.textContent("#user-username")).toBe("ada@contoso.example");
    expect(await page.textContent("#user-tenant")).toBe(stack.emu.tenantId);
    expect(await page.textContent("#claims")).toContain(stack.emu.registration.user.oid);
    expect(await page.isVisible("#trust-chain")).toBe(true);
    expect(await page.textContent("#trust-chain")).toContain(stack.emu.registration.uami.clientId);
    // The profile the app read from the emulator's Microsoft Graph as the user, next to the ID-token claims.
    expect(await page.textContent("#graph-name")).toBe("Ada Lovelace");
    expect(await page.textContent("#graph-mail")).toBe("ada@contoso.example");
    expect(await page.textContent("#graph-job-title")).toBe("Mathematician");

    // The stylesheet applied under the strict CSP (no inline styles): the chain boxes are filled white.
    // (tsconfig has no DOM lib: reach getComputedStyle through globalThis inside the page.)
    type StyleWindow = { getComputedStyle(element: unknown): { fill: string } };
    const fill = await page.$eval(".chain-box", (el) => (globalThis as unknown as StyleWindow).getComputedStyle(el).fill);
    expect(fill).toBe("rgb(255, 255, 255)");

    const cookies = await context.cookies(stack.appUrl);
    const session = cookies.find((c) => c.name === "session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    // Chromium kept the Secure; SameSite=None sign-in attempt cookie on http://localhost and sent it with the form_post.
    expect(cookies.find((c) => c.name === "signin")).toMatchObject({ httpOnly: true, secure: true, sameSite: "None" });

    mkdirSync(join(REPO, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // The README's picture is refreshed on request only, so a test run leaves the working tree as it found it.
    if (process.env.UPDATE_README_SCREENSHOT === "1") {
      mkdirSync(join(REPO, "docs"), { recursive: true });
      copyFileSync(SCREENSHOT, join(REPO, "docs", "signed-in.png"));
    }
  });

  it("returns the claims at /me while signed in", async () => {
    const response = await browser.page.goto(`${stack.appUrl}/me`);
    expect(response?.status()).toBe(200);
    expect(await response?.json()).toMatchObject({ name: "Ada Lovelace", tid: stack.emu.tenantId });
  });

  it("returns the Graph profile at /me/graph while signed in, and no token", async () => {
    const response = await browser.page.goto(`${stack.appUrl}/me/graph`);
    expect(response?.status()).toBe(200);
    expect(await response?.json()).toEqual({ displayName: "Ada Lovelace", mail: "ada@contoso.example", jobTitle: "Mathematician" });
  });

  it("signs out through the end-session endpoint and its front-channel logout, leaving no session", async () => {
    const { page } = browser;
    await page.goto(`${stack.appUrl}/`);
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in");

    expect(page.url()).toBe(`${stack.appUrl}/`);
    expect(browser.requests).toContainEqual(expect.stringMatching(new RegExp(`^GET ${stack.emu.authority}/oauth2/v2\\.0/logout\\?`)));
    // The IdP's signed-out page framed the app's front-channel logout URL (allowed by frame-ancestors).
    expect(browser.requests).toContainEqual(expect.stringMatching(new RegExp(`^GET ${stack.appUrl}/signout-oidc\\?iss=[^&]+&sid=[0-9a-f-]{36}$`)));

    const me = await page.goto(`${stack.appUrl}/me`);
    expect(me?.status()).toBe(401);
    expect(await me?.json()).toMatchObject({ error: "not_signed_in" });
  });

  it("has produced no console errors or CSP violations on the app's pages", () => {
    const expected = `${stack.appUrl}/me: Failed to load resource: the server responded with a status of 401 (Unauthorized)`;
    const unexpected = browser.errors.filter((e) => e !== expected && (e.startsWith(stack.appUrl) || /Content Security Policy|Refused to/.test(e)));
    expect(unexpected).toEqual([]);
  });

  it("has logged no tokens", () => {
    const output = stack.appOutput.join("");
    expect(output).toContain("signed in");
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });
});
