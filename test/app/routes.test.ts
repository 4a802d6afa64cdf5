/**
 * The app's own paths are reserved from the routes it registers (contract/routes.ts), so a callback path can never
 * collide with one of them: Fastify would refuse to start ("Method 'GET' already declared").
 */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../app/app-config";
import { isReservedAppPath, RESERVED_APP_PATHS } from "../../contract/routes";
import { offlineConfig, useOfflineApp } from "../support/offline-app";

const CALLBACK_PATH = "/auth/callback";
const offline = useOfflineApp(offlineConfig({ AzureAd__CallbackPath: CALLBACK_PATH }));

describe("reserved app paths", () => {
  it("reserves every route the app registers, except the configured callback path", () => {
    const registered = new Set(offline.routes);
    expect(registered).toContain(CALLBACK_PATH);
    registered.delete(CALLBACK_PATH);
    expect([...registered].filter((path) => !isReservedAppPath(path))).toEqual([]);
  });

  it("reserves no path the app does not register", () => {
    expect(RESERVED_APP_PATHS.filter((path) => !offline.routes.includes(path))).toEqual([]);
  });

  it.each([
    ["/favicon.ico", true],
    ["/public/app.css", true],
    ["/Public/anything", true],
    ["/SIGNIN", true],
    ["/signin-oidc", false],
    ["/publicity", false],
    ["/signin/callback", false],
  ])("says whether %s is the app's own path (%s)", (path, reserved) => {
    expect(isReservedAppPath(path)).toBe(reserved);
  });

  it.each(RESERVED_APP_PATHS)("refuses %s as the callback path at start-up", (path) => {
    expect(() => offlineConfig({ AzureAd__CallbackPath: path })).toThrow(ConfigError);
  });
});
