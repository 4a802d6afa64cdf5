import { beforeAll, describe, expect, it } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { type RegisteredResource, T } from "../../offline/azure-mocks";
import { planMainStack } from "../support/policy";

/** The Graph permission, the admin-consent grant and the `DownstreamApis__…` settings pass every guardrail. */

let stack: RegisteredResource[];
beforeAll(async () => {
  stack = await planMainStack({ grantAdminConsent: "true" });
});

describe("calling Microsoft Graph under the policy pack", () => {
  it("plans the permission, the consent grant and the Graph settings, and the pack finds nothing to report", () => {
    expect(stack.filter((r) => r.type === T.apiAccess)).toHaveLength(1);
    expect(stack.filter((r) => r.type === T.grant)).toHaveLength(1);
    const site = stack.find((r) => r.type === T.site)!;
    const names = (site.inputs.siteConfig.appSettings as { name: string }[]).map((s) => s.name);
    expect(names).toEqual(
      expect.arrayContaining(["DownstreamApis__MicrosoftGraph__BaseUrl", "DownstreamApis__MicrosoftGraph__Scopes__0"]),
    );
    expect(evaluateRecorded(stack)).toEqual([]);
  });
});
