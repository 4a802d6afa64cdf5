import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { describe, expect, it } from "vitest";
import {
  BootstrapConfigError,
  type RawBootstrapConfig,
  bootstrapConfigDefaults,
  bootstrapConfigKeys,
  parseBootstrapConfig,
} from "../../bootstrap/bootstrap-config";
import { BOOTSTRAP_DIR } from "../../offline/bootstrap-mocks";
import { ROOT, readRuntimeOptions } from "../../offline/language-host";

const valid: RawBootstrapConfig = {
  repository: "contoso/secretless-signin",
  location: "westeurope",
  stateStorageAccountName: "contosopulumistate",
  keyVaultName: "contoso-pulumi-kv",
};

/** The problems parseBootstrapConfig reports for `raw`, or fails the test when it accepts it. */
function problemsOf(raw: RawBootstrapConfig): { key: string; message: string }[] {
  try {
    parseBootstrapConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(BootstrapConfigError);
    return (e as BootstrapConfigError).problems;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe("bootstrap configuration", () => {
  it("accepts the minimal configuration and applies Pulumi.yaml's defaults", () => {
    expect(parseBootstrapConfig(valid)).toEqual({
      ...valid,
      deployEnvironment: "production",
      deployReviewerIds: [],
      targetResourceGroupName: "secretless-signin",
      stateResourceGroupName: "secretless-ci-state",
      stateContainerName: "pulumi-state",
      stateKeyName: "pulumi-state",
      stackName: "dev",
      deployAccess: "least",
      appRegistrationObjectId: undefined,
      operatorObjectId: undefined,
      tags: {},
    });
  });

  it("keeps the defaults identical to bootstrap/Pulumi.yaml's, and declares every key but tags there", () => {
    const project = load(readFileSync(join(BOOTSTRAP_DIR, "Pulumi.yaml"), "utf8")) as {
      main: string;
      config: Record<string, { default?: unknown }>;
    };
    const declared = Object.fromEntries(
      Object.entries(project.config)
        .filter(([, v]) => v.default !== undefined && v.default !== "")
        .map(([k, v]) => [k, typeof v.default === "string" ? v.default : JSON.stringify(v.default)]),
    );
    expect(declared).toEqual(bootstrapConfigDefaults);
    expect(Object.keys(project.config).sort()).toEqual(bootstrapConfigKeys.filter((k) => k !== "tags").sort());
    // Without `main`, the language host would find the repository's package.json and run the app stack instead.
    expect(project.main).toBe("index.ts");
  });

  it("loads its program the way the app stack does: the esbuild loader, no ts-node, no run-time type-check", () => {
    const app = readRuntimeOptions(ROOT);
    const bootstrap = readRuntimeOptions(BOOTSTRAP_DIR);
    expect(bootstrap.typescript).toBe(false);
    expect(app.typescript).toBe(false);
    // Each preload resolves, from its project's folder (where the host starts node), to the same loader file.
    const preload = (options: typeof app, dir: string) => {
      expect(options.nodeargs[0]).toBe("--require");
      return join(dir, options.nodeargs[1]!);
    };
    expect(preload(bootstrap, BOOTSTRAP_DIR)).toBe(preload(app, ROOT));
    expect(bootstrap.tsconfig).toBeUndefined();
  });

  it("reports every missing required key at once, each with the command that sets it", () => {
    const problems = problemsOf({});
    expect(problems.map((p) => p.key)).toEqual(["repository", "location", "stateStorageAccountName", "keyVaultName"]);
    for (const p of problems) expect(p.message).toContain(`pulumi -C bootstrap config set ${p.key} `);
  });

  it.each([
    [
      "repository",
      "contoso",
      /neither OWNER\/REPO nor GitHub's immutable OWNER@OWNER_ID\/REPO@REPO_ID.*gh api repos\/OWNER\/REPO/,
    ],
    ["repository", "contoso/app/extra", /neither OWNER\/REPO/],
    ["repository", "-contoso/app", /neither OWNER\/REPO/],
    ["repository", "contoso/app name", /neither OWNER\/REPO/],
    ["repository", "contoso/..", /neither OWNER\/REPO/],
    ["repository", "https://github.com/contoso/app", /neither OWNER\/REPO/],
    // The immutable form carries both IDs, as numbers, each after its own name.
    ["repository", "contoso@1234/app", /neither OWNER\/REPO/],
    ["repository", "contoso/app@5678", /neither OWNER\/REPO/],
    ["repository", "contoso@12ab/app@5678", /neither OWNER\/REPO/],
    ["repository", "contoso@0123/app@5678", /neither OWNER\/REPO/],
    ["repository", "contoso@1@2/app@3", /neither OWNER\/REPO/],
    ["repository", "contoso-1234/app-5678:pull_request", /neither OWNER\/REPO/],
    ["deployEnvironment", "prod env", /no spaces or ":"/],
    ["deployEnvironment", "prod:eu", /no spaces or ":"/],
    ["deployEnvironment", "x".repeat(256), /1-255/],
    ["location", "West Europe", /lower-case name/],
    ["targetResourceGroupName", "bad/group", /not a valid resource group name/],
    ["stateResourceGroupName", "SECRETLESS-SIGNIN", /same group as targetResourceGroupName/],
    ["stateStorageAccountName", "Contoso-State", /3-24 lower-case letters and digits/],
    ["stateContainerName", "Pulumi_State", /blob container name/],
    ["stateContainerName", "pulumi--state", /single hyphens/],
    ["keyVaultName", "1vault", /starting with a letter/],
    ["keyVaultName", "a-very-long-key-vault-name-1", /3-24/],
    ["stateKeyName", "pulumi.state", /key name/],
    ["stackName", "dev/prod", /Pulumi stack name/],
    ["deployAccess", "owner", /use least or contributor/],
    ["appRegistrationObjectId", "not-a-guid", /az ad app show/],
    ["operatorObjectId", "me", /az ad signed-in-user show/],
    ["tags", '["a"]', /map of tags; set each with pulumi -C bootstrap config set --path 'tags.<name>'/],
    ["tags", '{"a":1}', /tag values must be strings/],
    ["deployReviewerIds", '["octocat"]', /not a GitHub user ID.*gh api users/],
    [
      "deployReviewerIds",
      "12345",
      /list of GitHub user IDs; set items with pulumi -C bootstrap config set --path 'deployReviewerIds\[0\]'/,
    ],
  ] as const)("rejects %s = %j, naming the key and the fix", (key, value, message) => {
    const problems = problemsOf({ ...valid, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(key);
    expect(problems[0]!.message).toMatch(message);
  });

  it.each([
    ["repository", "Octo-Org/Repo.Name_2"],
    ["repository", "a/b"],
    ["repository", "contoso@1234567/secretless-signin@890123456"],
    ["deployEnvironment", "Production-EU_1.0"],
    ["stateContainerName", "abc"],
    ["keyVaultName", "kv-1"],
    ["operatorObjectId", "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"],
    ["deployAccess", "contributor"],
  ] as const)("accepts %s = %j", (key, value) => {
    expect(parseBootstrapConfig({ ...valid, [key]: value })[key]).toBe(value);
  });

  it("reads reviewer IDs set as numbers or as strings", () => {
    expect(parseBootstrapConfig({ ...valid, deployReviewerIds: '[583231, "9919"]' }).deployReviewerIds).toEqual([
      583231, 9919,
    ]);
  });

  it("falls back to the default when an optional key is set to an empty string", () => {
    expect(parseBootstrapConfig({ ...valid, deployEnvironment: "  " }).deployEnvironment).toBe("production");
  });

  it("says nothing was created and how to fix it", () => {
    expect(() => parseBootstrapConfig({ ...valid, repository: "contoso" })).toThrow(
      /Invalid bootstrap configuration \(1 problem\):\n {2}- repository: .*\nNothing was created\./,
    );
  });
});
