/**
 * Two users with different app roles sign in, one after the other, in a real browser: the built app against the
 * emulator's demo directory, picking each on the emulator's account picker. The administrator sees their roles and
 * the /admin page; the reader gets the 403 page naming the missing role.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ALAN, GRACE, demoDirectory, type EmulatorUser } from "../../emulator";
import { setupBrowser, useBuiltStack } from "../support/browser";

const ROOT = resolve(__dirname, "..", "..");
const SIGNED_IN = join(ROOT, "test-results", "e2e-roles-signed-in.png");
const FORBIDDEN = join(ROOT, "test-results", "e2e-roles-forbidden.png");

const stack = useBuiltStack({ registration: demoDirectory() });
const browser = setupBrowser();

/** Signs in from the home page, choosing `user` on the emulator's account picker. */
async function signInAs(user: EmulatorUser): Promise<void> {
  const { page } = browser;
  await page.goto(`${stack.appUrl}/`);
  await page.click("#sign-in");
  await page.click(`a.account[data-upn="${user.preferredUsername}"]`);
  await page.waitForSelector("#user-name");
  expect(await page.textContent("#user-name")).toBe(user.name);
}

async function signOut(): Promise<void> {
  const { page } = browser;
  await page.goto(`${stack.appUrl}/`);
  await page.click("#sign-out");
  await page.waitForSelector("#sign-in");
}

/** Keeps a screenshot in test-results/, and in docs/ when asked to refresh the README's pictures. */
function keep(path: string, docsName: string): void {
  if (process.env.UPDATE_README_SCREENSHOT === "1") {
    mkdirSync(join(ROOT, "docs"), { recursive: true });
    copyFileSync(path, join(ROOT, "docs", docsName));
  }
}

describe("app roles in Chromium", () => {
  it("shows an administrator their roles and opens /admin for them", async () => {
    const { page } = browser;
    await signInAs(GRACE);
    expect(await page.$$eval("#user-roles code", (els) => els.map((e) => e.textContent))).toEqual(["Admin", "Reader"]);
    mkdirSync(join(ROOT, "test-results"), { recursive: true });
    await page.locator("#access").scrollIntoViewIfNeeded();
    await page.screenshot({ path: SIGNED_IN, fullPage: true });
    keep(SIGNED_IN, "roles-signed-in.png");
    await page.click("#admin-link");
    await page.waitForSelector("#admin-title");
    expect(await page.textContent("#admin-name")).toBe("Grace Hopper");
    await signOut();
  });

  it("answers a reader at /admin with the 403 page naming the missing role", async () => {
    const { page } = browser;
    await signInAs(ALAN);
    expect(await page.$$eval("#user-roles code", (els) => els.map((e) => e.textContent))).toEqual(["Reader"]);
    expect(await page.isVisible("#admin-link")).toBe(false);
    const response = await page.goto(`${stack.appUrl}/admin`);
    expect(response?.status()).toBe(403);
    expect(await page.textContent("#problem-title")).toBe("You need the Admin role");
    expect(await page.textContent("#user-oid")).toBe(ALAN.oid);
    expect(await page.textContent("#how-to-assign")).toContain("Users and groups");
    await page.screenshot({ path: FORBIDDEN, fullPage: true });
    keep(FORBIDDEN, "roles-forbidden.png");
    await signOut();
  });

  it("has produced no console errors or CSP violations", () => {
    // The 403 response itself is logged by Chromium as a failed resource load; nothing else may be.
    expect(browser.errors.filter((e) => !/status of 403/.test(e))).toEqual([]);
  });
});
