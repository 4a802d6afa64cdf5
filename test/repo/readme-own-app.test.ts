import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { azureAdSettings, graphSettings } from "../../contract/settings";
import { REPO } from "../support/repo";

/**
 * The README's "Bring your own app" shows the settings the stack writes twice, as an appsettings.json section and as
 * App Service settings. Both must be what the stack really writes (contract/settings.ts), and the JSON must parse:
 * the blog post this project grew from printed `ClientCredentials` as an array of bare properties, which is not JSON.
 */

const readme = readFileSync(join(REPO, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("### The ASP.NET Core side"), readme.indexOf("### Node and Python apps"));
const block = (lang: string) => new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(section)?.[1] ?? "";

/** What the stack writes, with placeholders where the stack fills in IDs. */
const written = {
  ...azureAdSettings({
    instance: "https://login.microsoftonline.com/",
    tenantId: "<tenant ID>",
    clientId: "<app registration's client ID>",
    callbackPath: "/signin-oidc",
    managedIdentityClientId: "<managed identity's client ID>",
    tokenExchangeUrl: "api://AzureADTokenExchange",
  }),
  ...graphSettings({ baseUrl: "https://graph.microsoft.com/v1.0" }),
};

/** A JSON value as .NET configuration keys: objects by name, arrays by index, `__` between sections. */
function flatten(value: unknown, prefix = ""): Record<string, string> {
  if (value === null || typeof value !== "object") return { [prefix]: String(value) };
  return Object.assign({}, ...Object.entries(value).map(([k, v]) => flatten(v, prefix ? `${prefix}__${k}` : k)));
}

describe("the README's settings for an app of your own", () => {
  it("shows ClientCredentials as valid JSON, an array of objects", () => {
    const json = JSON.parse(block("json")) as { AzureAd: { ClientCredentials: unknown } };
    expect(Array.isArray(json.AzureAd.ClientCredentials)).toBe(true);
    expect((json.AzureAd.ClientCredentials as unknown[]).every((c) => typeof c === "object" && c !== null)).toBe(true);
  });

  it("shows in JSON exactly the settings the stack writes", () => {
    expect(flatten(JSON.parse(block("json")))).toEqual(written);
  });

  it("lists as App Service settings exactly the settings the stack writes", () => {
    const lines = block("text").trim().split("\n");
    expect(Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]))).toEqual(
      written,
    );
  });
});
