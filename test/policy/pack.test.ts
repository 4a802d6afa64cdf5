import { join } from "node:path";
import type {
  PolicyResource,
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { PACK_NAME, makePolicies } from "../../policy/pack";
import { GITHUB_ISSUER, rules } from "../../policy/rules";
import { AzureAdSetting } from "../../contract/settings";
import { type RegisteredResource, T } from "../../offline/azure-mocks";
import { PACK_CONTEXT, bootstrapLike, handMade, planMainStack } from "../support/policy";
import { REPO } from "../support/repo";

/** The rules in their `@pulumi/policy` form, driven the way the SDK's analyzer server drives them. */

const urnOf = (r: { type: string; name: string }) => `urn:pulumi:dev::secretless-entra-webapp::${r.type}::${r.name}`;

/** What the SDK's server hands a resource policy (server.js `analyze`), minus what these policies never read. */
function resourceArgs(type: string, name: string, props: Record<string, any>): ResourceValidationArgs {
  return {
    type,
    name,
    props,
    urn: urnOf({ type, name }),
    opts: {
      protect: false,
      ignoreChanges: [],
      aliases: [],
      customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
      additionalSecretOutputs: [],
    },
    stackTags: new Map(),
    isType: () => false,
    asType: () => undefined,
    getConfig: <C extends object>() => ({}) as C,
    notApplicable: (reason?: string) => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

function stackArgs(
  resources: { type: string; name: string; props: Record<string, any> }[],
  config: object = {},
): StackValidationArgs {
  return {
    resources: resources.map(
      (r): PolicyResource => ({
        ...r,
        urn: urnOf(r),
        opts: resourceArgs(r.type, r.name, {}).opts,
        dependencies: [],
        propertyDependencies: {},
        isType: () => false,
        asType: () => undefined,
      }),
    ),
    stackTags: new Map(),
    getConfig: <C extends object>() => config as C,
    notApplicable: (reason?: string) => {
      throw new Error(`not applicable: ${reason}`);
    },
  };
}

const isResourcePolicy = (p: ResourceValidationPolicy | StackValidationPolicy): p is ResourceValidationPolicy =>
  "validateResource" in p;

/**
 * Runs a whole pack as the engine does: every resource policy on every resource's inputs, then every stack policy on
 * the outputs.
 */
async function runPack(inputs: RegisteredResource[], outputs: RegisteredResource[], config: object = {}) {
  const policies = makePolicies();
  const reported: { policy: string; message: string; urn?: string }[] = [];
  for (const p of policies) {
    const report: ReportViolation = (message, urn) =>
      reported.push({ policy: p.name, message, ...(urn ? { urn } : {}) });
    if (isResourcePolicy(p)) {
      for (const r of inputs)
        await (p.validateResource as (a: ResourceValidationArgs, v: ReportViolation) => void)(
          resourceArgs(r.type, r.name, r.inputs),
          report,
        );
    }
  }
  for (const p of policies) {
    const report: ReportViolation = (message, urn) =>
      reported.push({ policy: p.name, message, ...(urn ? { urn } : {}) });
    if (!isResourcePolicy(p))
      await p.validateStack(
        stackArgs(
          outputs.map((r) => ({ type: r.type, name: r.name, props: r.state })),
          p.configSchema ? config : {},
        ),
        report,
      );
  }
  return reported;
}

/**
 * The web app's outputs as Azure returns them: no app settings (readable only through the list action), and the
 * identity as a map of resource ID → { clientId, principalId }.
 */
function asAzureReturnsIt(resources: RegisteredResource[]): RegisteredResource[] {
  const out = structuredClone(resources);
  const uami = out.find((r) => r.type === T.uami)!;
  const site = out.find((r) => r.type === T.site)!;
  delete site.state.siteConfig.appSettings;
  site.state.identity = {
    type: "UserAssigned",
    userAssignedIdentities: { [uami.id!]: { clientId: uami.state.clientId, principalId: uami.state.principalId } },
  };
  for (const r of out.filter((x) => x.type === T.scm || x.type === T.ftp))
    r.state.name = r.type === T.scm ? "scm" : "ftp";
  return out;
}

let mainStack: RegisteredResource[];
beforeAll(async () => {
  mainStack = await planMainStack();
});

describe("the policy pack", () => {
  it("has one mandatory policy per rule, with the rule's name and description", () => {
    const policies = makePolicies();
    expect(policies.map((p) => [p.name, p.description, p.enforcementLevel])).toEqual(
      rules.map((r) => [r.name, r.description, "mandatory"]),
    );
    expect(new Set(policies.map((p) => p.name)).size).toBe(policies.length);
    expect(policies.filter((p) => !isResourcePolicy(p)).map((p) => p.name)).toEqual(
      rules.filter((r) => r.kind === "stack").map((r) => r.name),
    );
  });

  it("reports a resource rule's violations through reportViolation", () => {
    const policy = makePolicies().find((p) => p.name === "no-app-credential-resources") as ResourceValidationPolicy;
    const report = vi.fn();
    (policy.validateResource as (a: ResourceValidationArgs, v: ReportViolation) => void)(
      resourceArgs("azuread:index/applicationPassword:ApplicationPassword", "app-secret", { displayName: "ci" }),
      report,
    );
    expect(report).toHaveBeenCalledExactlyOnceWith(
      expect.stringMatching(/^ApplicationPassword "app-secret" gives an app registration/),
    );
  });

  it("passes the main stack when run as the engine runs it, even though Azure returns no app settings", async () => {
    expect(await runPack(mainStack, asAzureReturnsIt(mainStack))).toEqual([]);
  });

  it(
    "checks the app settings of the inputs in the stack policies, and " + "charges the violation to the web app's URN",
    async () => {
      const broken = structuredClone(mainStack);
      const site = broken.find((r) => r.type === T.site)!;
      const principalId = broken.find((r) => r.type === T.uami)!.state.principalId;
      site.inputs.siteConfig.appSettings = site.inputs.siteConfig.appSettings.map(
        (s: { name: string; value: string }) =>
          s.name === AzureAdSetting.ManagedIdentityClientId ? { ...s, value: principalId } : s,
      );
      expect(await runPack(broken, asAzureReturnsIt(mainStack))).toEqual([
        {
          policy: "webapp-identity-matches-fic",
          message: expect.stringMatching(/That is the identity's principal ID/),
          urn: urnOf(site),
        },
      ]);
    },
  );

  it(
    "reads the CI repository from the fic-trust-allowed policy's " + "config (--policy-pack-config), and only there",
    async () => {
      const policy = makePolicies().find((p) => p.name === "fic-trust-allowed")!;
      expect(policy.configSchema).toEqual({ properties: { repository: expect.objectContaining({ type: "string" }) } });
      const withCi = [...structuredClone(mainStack), ...bootstrapLike()];
      expect((await runPack(withCi, withCi, PACK_CONTEXT)).map((v) => v.policy)).toEqual([]);
      expect((await runPack(withCi, withCi)).map((v) => v.policy)).toEqual(["fic-trust-allowed"]);
    },
  );

  it(
    "gives the same verdicts as the offline check (npm run plan) " + "on attacks, resource and stack rules alike",
    async () => {
      const rs = [...structuredClone(mainStack), ...bootstrapLike()];
      const uami = rs.find((r) => r.type === T.uami)!;
      rs.push(
        {
          type: "azure-native:resources:Deployment",
          name: "arm",
          inputs: { properties: { template: {} } },
          custom: true,
          id: "arm",
          state: {},
        },
        {
          type: "pulumi:providers:azuread",
          name: "admin",
          inputs: { clientSecret: "s" },
          custom: true,
          id: "admin",
          state: { clientSecret: "s" },
        },
        handMade("azure-native:managedidentity:FederatedIdentityCredential", "mi-github", {
          resourceGroupName: uami.inputs.resourceGroupName,
          resourceName: uami.state.name,
          issuer: GITHUB_ISSUER,
          subject: "repo:attacker/x:pull_request",
          audiences: ["api://AzureADTokenExchange"],
        }),
      );
      const offline = evaluateRecorded(rs, PACK_CONTEXT)
        .map((v) => `${v.policy} ${v.resource?.name}`)
        .sort();
      const viaPack = (await runPack(rs, rs, PACK_CONTEXT))
        .map((v) => `${v.policy} ${v.urn?.split("::").at(-1) ?? v.message.match(/"([^"]+)"/)?.[1]}`)
        .sort();
      expect(offline).toEqual([
        "fic-trust-allowed mi-github",
        "no-secret-inputs admin",
        "provider-settings-allowed admin",
        "resource-type-allowed arm",
      ]);
      expect(viaPack).toEqual(offline);
    },
  );

  it("is named the same in PulumiPolicy.yaml", async () => {
    const { readFile } = await import("node:fs/promises");
    expect(await readFile(join(REPO, "policy", "PulumiPolicy.yaml"), "utf8")).toMatch(
      new RegExp(`^name: ${PACK_NAME}$`, "m"),
    );
  });
});
