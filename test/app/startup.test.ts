import { describe, expect, it } from "vitest";
import { startupFailure } from "../../app/startup";

describe("a failure to start", () => {
  it.each([
    [true, "Invalid app settings (1 problem):\n- x\n"],
    [false, undefined],
  ])("on a terminal (%s) is readable text, otherwise one JSON log line", (terminal, text) => {
    const out = startupFailure(
      { level: 50, msg: "Invalid app settings (1 problem):\n- x", problems: ["x"] },
      "Invalid app settings (1 problem):\n- x",
      terminal,
    );
    if (text) return expect(out).toBe(text);
    expect(out.split("\n")).toHaveLength(2);
    expect(JSON.parse(out)).toMatchObject({
      level: 50,
      msg: "Invalid app settings (1 problem):\n- x",
      problems: ["x"],
      time: expect.any(Number),
    });
  });
});
