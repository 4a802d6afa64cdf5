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
} from "../../bootstrap/config";
import { BOOTSTRAP_DIR } from "../../offline/bootstrapMocks";

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
        .map(([k, v]) => [k, String(v.default)]),
    );
    expect(declared).toEqual(bootstrapConfigDefaults);
    expect(Object.keys(project.config).sort()).toEqual(bootstrapConfigKeys.filter((k) => k !== "tags").sort());
    // Without `main`, the language host would find the repository's package.json and run the app stack instead.
    expect(project.main).toBe("index.ts");
  });

  it("reports every missing required key at once, each with the command that sets it", () => {
    const problems = problemsOf({});
    expect(problems.map((p) => p.key)).toEqual(["repository", "location", "stateStorageAccountName", "keyVaultName"]);
    for (const p of problems) expect(p.message).toContain(`pulumi -C bootstrap config set ${p.key} `);
  });

  it.each([
    ["repository", "contoso", /not OWNER\/REPO.*exactly as GitHub spells it/],
    ["repository", "contoso/app/extra", /not OWNER\/REPO/],
    ["repository", "-contoso/app", /not OWNER\/REPO/],
    ["repository", "contoso/app name", /not OWNER\/REPO/],
    ["repository", "contoso/..", /not OWNER\/REPO/],
    ["repository", "https://github.com/contoso/app", /not OWNER\/REPO/],
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
    ["deployAccess", "owner", /least .* or contributor/],
    ["appRegistrationObjectId", "not-a-guid", /az ad app show/],
    ["operatorObjectId", "me", /az ad signed-in-user show/],
    ["tags", '["a"]', /map of string tags/],
    ["tags", '{"a":1}', /map of string tags/],
  ] as const)("rejects %s = %j, naming the key and the fix", (key, value, message) => {
    const problems = problemsOf({ ...valid, [key]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.key).toBe(key);
    expect(problems[0]!.message).toMatch(message);
  });

  it.each([
    ["repository", "Octo-Org/Repo.Name_2"],
    ["repository", "a/b"],
    ["deployEnvironment", "Production-EU_1.0"],
    ["stateContainerName", "abc"],
    ["keyVaultName", "kv-1"],
    ["operatorObjectId", "5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"],
    ["deployAccess", "contributor"],
  ] as const)("accepts %s = %j", (key, value) => {
    expect(parseBootstrapConfig({ ...valid, [key]: value })[key]).toBe(value);
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
