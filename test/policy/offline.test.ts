import { beforeAll, describe, expect, it } from "vitest";
import { PACK_VERSION, checkPlannedResources, evaluateRecorded, formatPolicies } from "../../policy/offline";
import { type RegisteredResource, T } from "../../offline/azure-mocks";
import { planMainStack } from "../support/policy";

/** `npm run plan`'s guardrail step: the CLI's "Policies:" block, and a failing result on a mandatory violation. */

let mainStack: RegisteredResource[];
beforeAll(async () => {
  mainStack = await planMainStack();
});

function withFtpsAndHttp(): RegisteredResource[] {
  const rs = structuredClone(mainStack);
  const site = rs.find((r) => r.type === T.site)!;
  for (const props of [site.inputs, site.state]) {
    props.httpsOnly = false;
    props.siteConfig.ftpsState = "AllAllowed";
  }
  return rs;
}

describe("the offline policy check", () => {
  it("prints a passing pack the way the CLI does and reports success on the main stack", () => {
    const printed: string[] = [];
    expect(checkPlannedResources(mainStack, "dev", (t) => printed.push(t))).toBe(true);
    expect(printed).toEqual([`\nPolicies:\n    ✅ secretless-guardrails@v${PACK_VERSION} (local: policy)`]);
  });

  it(
    "prints each violation as the CLI does (level, policy, " + "resource, description, message) and reports failure",
    () => {
      const printed: string[] = [];
      expect(checkPlannedResources(withFtpsAndHttp(), "dev", (t) => printed.push(t))).toBe(false);
      expect(printed.join("\n").split("\n")).toEqual([
        "",
        "Policies:",
        "    ❌ secretless-guardrails@v0.1.0 (local: policy)",
        "        - [mandatory]  webapp-https-only  (azure-native:web:WebApp: secretless-web-site)",
        "          A web app serves HTTPS only.",
        '          WebApp "secretless-web-site" has httpsOnly false. Fix: set httpsOnly: true.',
        "        - [mandatory]  webapp-ftps-disabled  (azure-native:web:WebApp: secretless-web-site)",
        "          A web app has FTP and FTPS turned off.",
        '          WebApp "secretless-web-site" has siteConfig.ftpsState "AllAllowed". Fix: set ' +
          'siteConfig.ftpsState: "Disabled"; deploy with Entra ID tokens, not FTP.',
        "",
        "error: 2 mandatory policy violations; fix them before `pulumi up`.",
      ]);
    },
  );

  it("shows a violation charged to no resource against the stack", () => {
    const [violation] = evaluateRecorded(withFtpsAndHttp());
    const { resource: _, ...stackWide } = violation!;
    expect(formatPolicies([stackWide], "secretless-entra-webapp-dev")).toContain(
      "        - [mandatory]  webapp-https-only  (pulumi:pulumi:Stack: secretless-entra-webapp-dev)",
    );
  });
});
