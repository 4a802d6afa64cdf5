/**
 * IDENTITY_ENDPOINT is checked at start-up: App Service sets a plain-http URL on the worker itself (loopback on
 * Windows and Container Apps, link-local or the container bridge on Linux), and the app sends its X-IDENTITY-HEADER
 * there. Anything else is
 * refused with the setting named, unless IDENTITY_ENDPOINT_ANY_ORIGIN=true.
 */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, type Env } from "../../app/app-config";
import { offlineConfig } from "../support/offline-app";

function problems(env: Env): string[] {
  try {
    offlineConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  return [];
}

describe("IDENTITY_ENDPOINT", () => {
  it.each([
    ["App Service on Windows", "http://127.0.0.1:41741/MSI/token/"],
    ["App Service on Linux (link-local)", "http://169.254.129.2:8081/msi/token"],
    ["App Service on older Linux workers (container bridge)", "http://172.16.2.6:8081/msi/token"],
    ["Container Apps", "http://localhost:42356/msi/token"],
    ["IPv6 loopback", "http://[::1]:8081/msi/token"],
  ])("accepts %s: %s", (_name, endpoint) => {
    expect(offlineConfig({ IDENTITY_ENDPOINT: endpoint }).identityEndpoint).toBe(endpoint);
  });

  it("is undefined when the platform set none (no identity attached)", () => {
    expect(offlineConfig().identityEndpoint).toBeUndefined();
  });

  it.each([
    ["a public host", "http://evil.example/msi/token"],
    ["https to a public host", "https://evil.example/msi/token"],
    ["a private address that is not link-local", "http://10.0.0.4:8081/msi/token"],
    ["a private address just outside the container bridge range", "http://172.32.0.1:8081/msi/token"],
    ["https, even on loopback", "https://127.0.0.1:8081/msi/token"],
    ["credentials in the URL", "http://user:pw@127.0.0.1:8081/msi/token"],
    ["a query", "http://127.0.0.1:8081/msi/token?resource=x"],
    ["not a URL", "127.0.0.1:8081"],
  ])("refuses %s, naming the setting and the opt-in", (_name, endpoint) => {
    const found = problems({ IDENTITY_ENDPOINT: endpoint });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^IDENTITY_ENDPOINT /);
    expect(found[0]).toMatch(/remove|App Service/);
  });

  it("accepts another origin over https only when IDENTITY_ENDPOINT_ANY_ORIGIN=true", () => {
    const endpoint = "https://mi.example.test/msi/token";
    expect(problems({ IDENTITY_ENDPOINT: endpoint })[0]).toContain("IDENTITY_ENDPOINT_ANY_ORIGIN=true");
    expect(offlineConfig({ IDENTITY_ENDPOINT: endpoint, IDENTITY_ENDPOINT_ANY_ORIGIN: "true" }).identityEndpoint).toBe(
      endpoint,
    );
    expect(problems({ IDENTITY_ENDPOINT: "ftp://mi.example.test/", IDENTITY_ENDPOINT_ANY_ORIGIN: "true" })[0]).toMatch(
      /http or https/,
    );
    expect(
      problems({ IDENTITY_ENDPOINT: "http://user:pw@mi.example.test/", IDENTITY_ENDPOINT_ANY_ORIGIN: "true" })[0],
    ).toMatch(/credentials/);
  });

  it("refuses an opt-in value that is neither true nor false", () => {
    expect(problems({ IDENTITY_ENDPOINT_ANY_ORIGIN: "yes" })).toEqual([
      'IDENTITY_ENDPOINT_ANY_ORIGIN is "yes": set it to true or false, or leave it unset (false).',
    ]);
  });

  it("reports it with every other problem at once", () => {
    expect(() => loadConfig({ IDENTITY_ENDPOINT: "http://evil.example/" })).toThrow(
      /IDENTITY_ENDPOINT is "http:\/\/evil.example\/"/,
    );
  });
});
