/**
 * A real browser signs in and out of the built app (dist/app/server.js, as App Service runs it) against the
 * emulator: form_post across sites with the SameSite=None sign-in attempt cookie over http://localhost, the session
 * cookie, the page content with the Microsoft Graph profile, sign-out through the end-session endpoint with
 * front-channel logout, and /me afterwards.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { setupBrowser, useBuiltStack } from "../support/browser";
import { REPO } from "../support/repo";

const SCREENSHOT = join(REPO, "test-results", "e2e-signed-in.png");
const PHONE_SCREENSHOT = join(REPO, "test-results", "e2e-signed-in-phone.png");

const stack = useBuiltStack();
const browser = setupBrowser();

describe("signing in and out in Chromium", () => {
  it("signs in through the emulator and shows the user's name, claims and trust chain", async () => {
    const { page, context } = browser;
    await page.goto(`${stack.appUrl}/`);
    await page.click("#sign-in");
    await page.waitForSelector("#user-name");

    expect(page.url()).toBe(`${stack.appUrl}/`);
    expect(browser.requests).toContainEqual(
      expect.stringMatching(new RegExp(`^GET ${stack.emu.authority}/oauth2/v2\\.0/authorize\\?`)),
    );
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

    // The stylesheet applied under the strict CSP (no inline styles): the chain boxes are white with a border.
    // (tsconfig has no DOM lib: reach getComputedStyle through globalThis inside the page.)
    type StyleWindow = { getComputedStyle(element: unknown): { backgroundColor: string; borderTopStyle: string } };
    const box = await page.$eval(".chain-box", (el) => {
      const style = (globalThis as unknown as StyleWindow).getComputedStyle(el);
      return { background: style.backgroundColor, border: style.borderTopStyle };
    });
    expect(box).toEqual({ background: "rgb(255, 255, 255)", border: "solid" });

    const cookies = await context.cookies(stack.appUrl);
    const session = cookies.find((c) => c.name === "session");
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/" });
    // Chromium kept the Secure; SameSite=None sign-in attempt cookie on http://localhost and sent it with the
    // form_post.
    expect(cookies.find((c) => c.name === "signin")).toMatchObject({ httpOnly: true, secure: true, sameSite: "None" });

    mkdirSync(join(REPO, "test-results"), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    // The README's picture is refreshed on request only, so a test run leaves the working tree as it found it.
    if (process.env.UPDATE_README_SCREENSHOT === "1") {
      mkdirSync(join(REPO, "docs"), { recursive: true });
      copyFileSync(SCREENSHOT, join(REPO, "docs", "signed-in.png"));
    }
  });

  it(
    "keeps the signed-in page readable at phone width: trust-chain text " +
      "at 12 px or more, nothing wider than the screen",
    async () => {
      const { page } = browser;
      await page.setViewportSize({ width: 390, height: 844 });
      try {
        await page.goto(`${stack.appUrl}/`);
        await page.waitForSelector("#user-name");
        // (tsconfig has no DOM lib: reach the page's globals through globalThis inside it.)
        type Doc = { documentElement: { scrollWidth: number } };
        type StyleWindow = { getComputedStyle(element: unknown): { fontSize: string } };
        const sizes = await page.$$eval("#trust-chain .chain-detail, #trust-chain .chain-title", (elements) =>
          elements.map((el) => parseFloat((globalThis as unknown as StyleWindow).getComputedStyle(el).fontSize)),
        );
        expect(sizes.length).toBeGreaterThan(10);
        expect(Math.min(...sizes)).toBeGreaterThanOrEqual(12);
        const scrollWidth = await page.evaluate(
          () => (globalThis as unknown as { document: Doc }).document.documentElement.scrollWidth,
        );
        expect(scrollWidth).toBeLessThanOrEqual(390);
        await page.screenshot({ path: PHONE_SCREENSHOT, fullPage: true });
        if (process.env.UPDATE_README_SCREENSHOT === "1")
          copyFileSync(PHONE_SCREENSHOT, join(REPO, "docs", "signed-in-phone.png"));
      } finally {
        await page.setViewportSize({ width: 1000, height: 900 });
      }
    },
  );

  it(
    "starts no sign-in for another site's <img src=/signin>: " + "Chromium labels the requests, the app refuses them",
    async () => {
      // Another site: 127.0.0.1 is a different site from localhost. Distinct URLs, so Chromium loads all five.
      const images = [1, 2, 3, 4, 5].map((i) => `<img src="${stack.appUrl}/signin?returnUrl=/${i}" alt="">`).join("");
      const other = createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end(images));
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
      const page = await browser.context.newPage();
      const requested: string[] = [];
      page.on("request", (request) => {
        if (request.url().startsWith(`${stack.appUrl}/signin?`)) requested.push(request.url());
      });
      // (Chromium's Opaque Response Blocking keeps an HTML answer from an image, so the app's log tells what it did.)
      const refusals = (): number => stack.appOutput.join("").split("sign-in refused: not a navigation").length - 1;
      const before = refusals();
      try {
        await page.goto(`http://127.0.0.1:${(other.address() as AddressInfo).port}/`, { waitUntil: "load" });
        expect(requested).toHaveLength(5);
        await expect.poll(() => refusals() - before).toBe(5);
      } finally {
        await page.close();
        await new Promise((resolve) => other.close(resolve));
      }
    },
  );

  it("returns the claims at /me while signed in", async () => {
    const response = await browser.page.goto(`${stack.appUrl}/me`);
    expect(response?.status()).toBe(200);
    expect(await response?.json()).toMatchObject({ name: "Ada Lovelace", tid: stack.emu.tenantId });
  });

  it("returns the Graph profile at /me/graph while signed in, and no token", async () => {
    const response = await browser.page.goto(`${stack.appUrl}/me/graph`);
    expect(response?.status()).toBe(200);
    expect(await response?.json()).toEqual({
      displayName: "Ada Lovelace",
      mail: "ada@contoso.example",
      jobTitle: "Mathematician",
    });
  });

  it("signs out through the end-session endpoint and its front-channel logout, leaving no session", async () => {
    const { page } = browser;
    await page.goto(`${stack.appUrl}/`);
    await page.click("#sign-out");
    await page.waitForSelector("#sign-in");

    expect(page.url()).toBe(`${stack.appUrl}/`);
    expect(browser.requests).toContainEqual(
      expect.stringMatching(new RegExp(`^GET ${stack.emu.authority}/oauth2/v2\\.0/logout\\?`)),
    );
    // The IdP's signed-out page framed the app's front-channel logout URL (allowed by frame-ancestors).
    expect(browser.requests).toContainEqual(
      expect.stringMatching(new RegExp(`^GET ${stack.appUrl}/signout-oidc\\?iss=[^&]+&sid=[0-9a-f-]{36}$`)),
    );

    const me = await page.goto(`${stack.appUrl}/me`);
    expect(me?.status()).toBe(401);
    expect(await me?.json()).toMatchObject({ error: "not_signed_in" });
  });

  it("has produced no console errors or CSP violations on the app's pages", () => {
    const expected =
      `${stack.appUrl}/me: Failed to load resource: the server ` + `responded with a status of 401 (Unauthorized)`;
    const unexpected = browser.errors.filter(
      (e) => e !== expected && (e.startsWith(stack.appUrl) || /Content Security Policy|Refused to/.test(e)),
    );
    expect(unexpected).toEqual([]);
  });

  it("has logged no tokens", () => {
    const output = stack.appOutput.join("");
    expect(output).toContain("signed in");
    expect(output).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });
});
