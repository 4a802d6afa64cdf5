import { describe, expect, it } from "vitest";
import { sanitiseReturnUrl } from "../../app/return-url";

describe("sanitiseReturnUrl", () => {
  it("defaults to / when absent or empty", () => {
    expect(sanitiseReturnUrl(undefined)).toBe("/");
    expect(sanitiseReturnUrl("")).toBe("/");
  });

  it.each([
    ["/", "/"],
    ["/me", "/me"],
    ["/reports?year=2026#q3", "/reports?year=2026#q3"],
    ["/a/../b", "/b"],
    ["/%2F%2Fevil.example", "/%2F%2Fevil.example"],
  ])("accepts the same-origin path %s", (input, output) => {
    expect(sanitiseReturnUrl(input)).toBe(output);
  });

  it.each([
    ["an absolute URL", "https://evil.example/"],
    ["an http URL", "http://evil.example"],
    ["a scheme-relative URL", "//evil.example/path"],
    ["a backslash trick", "/\\evil.example"],
    ["a double backslash", "\\\\evil.example"],
    ["a mixed slash trick", "\\/evil.example"],
    ["a tab trick", "/\t/evil.example"],
    ["a newline trick", "/\n/evil.example"],
    ["a javascript: URL", "javascript:alert(1)"],
    ["a data: URL", "data:text/html,hi"],
    ["a relative path", "me"],
    ["a dot-segment trick", "/.//evil.example"],
    ["a space", "/ /evil.example"],
    ["a very long URL", `/${"a".repeat(3000)}`],
  ])("refuses %s", (_name, input) => {
    expect(sanitiseReturnUrl(input)).toBeUndefined();
  });
});
