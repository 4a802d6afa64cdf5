import { describe, expect, it } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { planMainStack } from "../support/policy";

/** The scaled-out stack (its own file: the program is imported once per process) passes every guardrail. */

describe("on this project's scaled-out stack", () => {
  it(
    "every policy passes: Azure Managed Redis with access keys off, " + "TLS only, and its access policy assignment",
    async () => {
      const scaledOut = await planMainStack({ scaleOut: "true" });
      const redis = scaledOut
        .filter((r) => r.type.startsWith("azure-native:redisenterprise:"))
        .map((r) => r.type.split(":")[2]);
      expect(redis.sort()).toEqual(["AccessPolicyAssignment", "Database", "RedisEnterprise"]);
      expect(evaluateRecorded(scaledOut)).toEqual([]);
    },
  );
});
