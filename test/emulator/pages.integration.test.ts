/**
 * The emulator's HTML pages look right with scripts off: an inline stylesheet that their Content-Security-Policy
 * allows by hash, while every other script, style and plugin stays blocked.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { authorize, useEmulator } from "../support/emulator";

const emulator = useEmulator();
const sha256 = (text: string): string => `'sha256-${createHash("sha256").update(text).digest("base64")}'`;

/** The CSP's directives by name. */
function directives(res: Response): Map<string, string> {
  const csp = res.headers.get("content-security-policy") ?? "";
  return new Map(csp.split(";").map((d) => d.trim().split(/\s+(.*)/) as [string, string]));
}

describe("the emulator's pages", () => {
  it.each([
    [
      "an error page",
      0,
      (): Promise<Response> => authorize(emulator(), { client_id: "00000000-0000-0000-0000-000000000bad" }),
    ],
    ["the form_post page", 1, (): Promise<Response> => authorize(emulator(), { response_mode: "form_post" })],
    ["the signed-out page", 0, (): Promise<Response> => fetch(`${emulator().authority}/oauth2/v2.0/logout`)],
  ])(
    "%s carries an inline stylesheet its CSP allows, and allows its %i script(s) and nothing else",
    async (_, count, request) => {
      const res = await request();
      const html = await res.text();
      const style = /<style>([\s\S]*?)<\/style>/.exec(html)?.[1];
      expect(style).toMatch(/body\{[^}]*font:/);
      const csp = directives(res);
      expect(csp.get("default-src")).toBe("'none'");
      expect(csp.get("style-src")).toBe(sha256(style!));
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => sha256(m[1]!));
      expect(scripts).toHaveLength(count);
      expect(csp.get("script-src")).toBe(scripts.length ? scripts.join(" ") : "'none'");
      expect(csp.get("base-uri")).toBe("'none'");
      expect(csp.get("frame-ancestors")).toBe("'none'");
    },
  );
});
