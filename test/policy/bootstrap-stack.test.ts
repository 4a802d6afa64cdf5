/**
 * The guardrails hold on this project's second stack too: the real CI bootstrap program (bootstrap/index.ts),
 * evaluated under the offline engine with its example stack, breaks no policy. Its resources are the kinds the main
 * stack lacks (GitHub-trusted FICs on user-assigned identities, role assignments, the state storage account), so this
 * also proves those rules accept a correct, real configuration and not only hand-made inputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AzureMocks, type RegisteredResource, promiseOf, runProgram } from "../../offline/azure-mocks";
import { attachBootstrapMocks, B, BOOTSTRAP_PROJECT, readBootstrapStack } from "../../offline/bootstrap-mocks";
import { evaluateRecorded } from "../../policy/offline";
import { ALLOWED_TYPES } from "../../policy/rules";

let mocks: AzureMocks;
/** The repository the example stack configures, as `npm run plan:bootstrap` tells the pack. */
const repository = readBootstrapStack("example")[`${BOOTSTRAP_PROJECT}:repository`]!;

beforeAll(async () => {
  mocks = await attachBootstrapMocks(readBootstrapStack("example"));
  const program = await runProgram(mocks, () => import("../../bootstrap/index.js"));
  await promiseOf(program.AZURE_DEPLOY_CLIENT_ID);
});

/** The plan with its CI subjects rewritten from `repo:<from>:` to `repo:<to>:`. */
function withSubjects(from: string, to: string): RegisteredResource[] {
  return structuredClone(mocks.resources).map((r) => {
    if (r.type !== B.fic) return r;
    for (const p of [r.inputs, r.state]) p.subject = String(p.subject).replace(`repo:${from}:`, `repo:${to}:`);
    return r;
  });
}

describe("the policy pack on the CI bootstrap stack", () => {
  it("finds no violation in the bootstrap as it is, told the configured repository", () => {
    expect(repository).toBe("contoso/secretless-signin");
    expect(evaluateRecorded(mocks.resources, { repository })).toEqual([]);
  });

  it("creates only allow-listed types, and uses every bootstrap entry of the allow-list", () => {
    const allowed = new Set(ALLOWED_TYPES.map((t) => t.type));
    const types = new Set(mocks.resources.map((r) => r.type));
    expect([...types].filter((t) => !allowed.has(t))).toEqual([]);
    // The GitHub deploy environment's types need GITHUB_TOKEN: bootstrap-github.test.ts plans them.
    const withoutToken = ALLOWED_TYPES.filter((t) => t.stack === "bootstrap" && t.when !== "GITHUB_TOKEN set");
    expect(withoutToken.filter((t) => !types.has(t.type)).map((t) => t.type)).toEqual([]);
    for (const type of [B.fic, B.account, B.role, B.blobService]) expect(types).toContain(type);
  });

  it("accepts GitHub's immutable subject form when that is the configured form", () => {
    const immutable = "contoso@9919/secretless-signin@771234567";
    const rs = withSubjects(repository, immutable);
    expect(rs.filter((r) => r.type === B.fic).map((r) => r.inputs.subject)).toEqual([
      `repo:${immutable}:pull_request`,
      `repo:${immutable}:environment:production`,
    ]);
    expect(evaluateRecorded(rs, { repository: immutable })).toEqual([]);
  });

  it(
    "refuses subjects in the other form than the configured one (an " + "exact match is the only match Entra makes)",
    () => {
      const violations = evaluateRecorded(mocks.resources, { repository: "contoso@9919/secretless-signin@771234567" });
      expect(violations.map((v) => [v.policy, v.resource?.name])).toEqual([
        ["fic-trust-allowed", "ci-preview-github"],
        ["fic-trust-allowed", "ci-deploy-github"],
      ]);
      expect(violations[0]!.message).toMatch(
        new RegExp(
          String.raw`trusts GitHub repository "contoso\/secretless-signin" .*not the configured ` +
            String.raw`"contoso@9919\/secretless-signin@771234567"`,
        ),
      );
    },
  );

  it(
    "refuses the CI identities' GitHub trust when the pack is not " + "told the repository, and says how to tell it",
    () => {
      const violations = evaluateRecorded(mocks.resources);
      expect(violations.map((v) => v.policy)).toEqual(["fic-trust-allowed", "fic-trust-allowed"]);
      expect(violations[0]!.message).toMatch(
        /--policy-pack-config .*\{"fic-trust-allowed": \{"repository": "OWNER\/REPO"\}\}/,
      );
    },
  );

  it("refuses a configured repository that is in neither of GitHub's forms", () => {
    const violations = evaluateRecorded(mocks.resources, { repository: "contoso/secretless-signin@77" });
    expect(violations[0]!.message).toMatch(
      /configured repository "contoso\/secretless-signin@77" is neither OWNER\/REPO nor OWNER@OWNER_ID\/REPO@REPO_ID/,
    );
  });

  it("refuses the bootstrap's storage account once shared-key access is turned back on", () => {
    const broken = mocks.resources.map((r) =>
      r.type === B.account ? { ...r, inputs: { ...r.inputs, allowSharedKeyAccess: true } } : r,
    );
    expect(evaluateRecorded(broken, { repository }).map((v) => v.policy)).toEqual(["storage-account-hardened"]);
  });

  it("refuses Contributor for the preview identity, whose token any pull request's code can get", () => {
    const preview = mocks.resources.find((r) => r.type === B.uami && r.name.includes("preview"))!;
    const broken = structuredClone(mocks.resources).map((r) => {
      if (
        r.type === B.role &&
        r.inputs.principalId === preview.state.principalId &&
        String(r.inputs.roleDefinitionId).endsWith("acdd72a7-3385-48ef-bd42-f606fba81ae7")
      ) {
        for (const p of [r.inputs, r.state])
          p.roleDefinitionId = String(p.roleDefinitionId).replace(
            "acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
          );
      }
      return r;
    });
    expect(evaluateRecorded(broken, { repository }).map((v) => [v.policy, v.message])).toEqual([
      [
        "role-assignment-allowed",
        expect.stringMatching(
          new RegExp(
            String.raw`gives CI identity "ci-preview-uami\w*" \(which pull requests' code can use\) role Contributor ` +
              String.raw`.*\(allowed: Reader, StorageBlobDataReader, KeyVaultCryptoUser\)`,
          ),
        ),
      ],
    ]);
  });
});
