import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

describe("the policy pack", () => {
  it(
    "can be imported without loading the @pulumi/policy runtime (only " +
      "`new PolicyPack` in index.ts serves the analyzer)",
    async () => {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [
          "--require",
          "tsx/cjs",
          "-e",
          "require('./policy/pack'); " +
            "console.log(Object.keys(require.cache).filter((k) => " +
            "k.includes('@pulumi/policy')).length)",
        ],
        { cwd: REPO, timeout: 30_000 },
      );
      expect(stdout.trim()).toBe("0");
    },
  );
});
