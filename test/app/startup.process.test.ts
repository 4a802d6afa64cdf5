import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

/** app/server.ts with no settings at all; `viaTerminal` runs it under script(1), whose stderr is a terminal. */
function startWithoutSettings(viaTerminal: boolean): Promise<{ code: number; stdout: string; stderr: string }> {
  const node = `${process.execPath} --import tsx app/server.ts`;
  const [file, args] = viaTerminal
    ? ["script", ["-qec", node, "/dev/null"]]
    : [process.execPath, ["--import", "tsx", "app/server.ts"]];
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: REPO, env: { PATH: process.env.PATH ?? "" }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("a failure to start", () => {
  it("without settings, writes one JSON line for a log stream, listing every missing setting", async () => {
    const { code, stderr } = await startWithoutSettings(false);
    expect(code).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!) as { level: number; problems: string[] };
    expect(entry.level).toBe(50);
    expect(entry.problems.join("\n")).toMatch(/AzureAd__ClientId is missing/);
  });

  it.runIf(existsSync("/usr/bin/script"))(
    "without settings, on a terminal, prints the problems as lines and how to run it locally",
    async () => {
      const { stdout } = await startWithoutSettings(true); // script(1) copies the terminal to its stdout
      expect(stdout).toMatch(/^Invalid app settings \(\d+ problems\):\r?\n- AzureAd__Instance is missing/m);
      expect(stdout).toContain("npm run dev");
      expect(stdout).not.toContain('{"level"');
    },
  );
});
