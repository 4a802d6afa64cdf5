import { execFile, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { tierOf } from "./tier-guard";

describe("the tier guard, in a unit file", () => {
  it("refuses a listening socket and names the tier that allows it", () => {
    expect(() => createServer().listen(0, "127.0.0.1")).toThrow(
      /tier-guard\.test\.ts listens on a socket.*\*\.integration\.test\.ts/,
    );
  });

  it("refuses an outgoing connection, fetch's included", async () => {
    await expect(fetch("http://127.0.0.1:9/")).rejects.toMatchObject({ cause: { message: /opens a socket/ } });
  });

  it("refuses child processes, through execFile's promisified form and spawnSync too", () => {
    const run = () => promisify(execFile)(process.execPath, ["--version"]);
    expect(run).toThrow(/starts a child process.*\*\.process\.test\.ts/);
    expect(() => spawnSync(process.execPath, ["--version"])).toThrow(/starts a child process/);
  });

  it.each([
    ["test/app/config.test.ts", "unit"],
    ["test/app/signin.integration.test.ts", "integration"],
    ["test/app/redis-store.process.test.ts", "other"],
    ["test/e2e/signin.e2e.test.ts", "other"],
  ])("reads %s as tier %s", (file, tier) => expect(tierOf(file)).toBe(tier));
});
