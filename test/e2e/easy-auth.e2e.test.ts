/**
 * Easy Auth mode in Chromium: the built app (dist/app/server.js) in Easy Auth mode behind the local Easy Auth
 * stand-in, which signs in with the emulator (the managed identity's token as client assertion) and injects the
 * platform's headers. The browser only ever talks to the stand-in, as it only talks to App Service's front end.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { childApp, freePort, type ChildApp } from "../../local/child-app";
import { startEasyAuthProxy, type EasyAuthProxy } from "../../local/easy-auth-proxy";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { buildApp } from "../../deploy/build-app";
import { E2E_TIMEOUT, setupBrowser } from "../support/browser";

let stack: LocalStack<ChildApp>;
let proxy: EasyAuthProxy;
const appOutput: string[] = [];

beforeAll(async () => {
  const server = await buildApp();
  const env = { PATH: process.env.PATH ?? "", SignIn__AuthMode: "easyAuth", EASY_AUTH_LOCAL_STAND_IN: "true" };
  stack = await startLocalStack(
    childApp({ args: [server], port: await freePort(), env, output: appOutput, readyTimeoutMs: E2E_TIMEOUT }),
  );
  trustEmulatorCertificate(stack.emu);
  proxy = await startEasyAuthProxy({ emu: stack.emu, upstream: stack.app.url });
  stack.emu.setRedirectUris([proxy.redirectUri]);
}, E2E_TIMEOUT * 2);
afterAll(async () => {
  await proxy?.close();
  await stack?.close();
});

const browser = setupBrowser();

const sessionCookie = async () =>
  (await browser.context.cookies(proxy.url)).find((c) => c.name === "AppServiceAuthSession")?.value;

describe("Easy Auth mode in Chromium", () => {
  it(
    "signs in through Easy Auth's endpoints and shows the same signed-in " +
      "page, with the Graph profile from the token store",
    async () => {
      const { page } = browser;
      await page.goto(`${proxy.url}/`);
      await page.waitForSelector("#user-name");
      expect(page.url()).toBe(`${proxy.url}/`);
      expect(browser.requests).toContain(`GET ${proxy.url}/.auth/login/aad?post_login_redirect_uri=%2F`);
      expect(browser.requests).toContainEqual(
        expect.stringMatching(new RegExp(`^GET ${stack.emu.authority}/oauth2/v2\\.0/authorize\\?`)),
      );
      expect(browser.requests).toContainEqual(
        expect.stringMatching(new RegExp(`^GET ${proxy.url}/\\.auth/login/aad/callback\\?code=`)),
      );
      expect(await page.textContent("#user-name")).toBe("Ada Lovelace");
      expect(await page.textContent("#user-username")).toBe("ada@contoso.example");
      expect(await page.textContent("#user-tenant")).toBe(stack.emu.tenantId);
      expect(await page.textContent("#graph-name")).toBe("Ada Lovelace");
      expect(await page.textContent("#graph-job-title")).toBe("Mathematician");
      expect(await page.textContent("#trust-chain")).toContain(stack.emu.registration.uami.clientId);
      expect(browser.errors).toEqual([]);
    },
  );

  it("signs out through the app's form and Easy Auth's /.auth/logout, ending that session", async () => {
    const { page } = browser;
    const before = await sessionCookie();
    expect(before).toBeDefined();
    await page.click("#sign-out");
    // The stand-in lets the browser straight back in (the emulator signs its one user in silently), with a new session.
    await page.waitForSelector("#user-name");
    expect(browser.requests).toContain(`POST ${proxy.url}/signout`);
    expect(browser.requests).toContain(`GET ${proxy.url}/.auth/logout?post_logout_redirect_uri=%2F`);
    const after = await sessionCookie();
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const old = await fetch(`${proxy.url}/.auth/me`, { headers: { cookie: `AppServiceAuthSession=${before}` } });
    expect(old.status).toBe(401);
  });
});
