/**
 * The guardrails hold on this project's second stack too: the real CI bootstrap program (bootstrap/index.ts),
 * evaluated under the offline engine with its example stack, breaks no policy. Its resources are the kinds the main
 * stack lacks (GitHub-trusted FICs on user-assigned identities, role assignments, the state storage account), so this
 * also proves those rules accept a correct, real configuration and not only hand-made inputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type AzureMocks, promiseOf, runProgram } from "../../offline/azureMocks";
import { attachBootstrapMocks, B, readBootstrapStack } from "../../offline/bootstrapMocks";
import { evaluateRecorded } from "../../policy/offline";

let mocks: AzureMocks;

beforeAll(async () => {
  mocks = await attachBootstrapMocks(readBootstrapStack("example"));
  const program = await runProgram(mocks, () => import("../../bootstrap/index.js"));
  await promiseOf(program.AZURE_DEPLOY_CLIENT_ID);
});

describe("the policy pack on the CI bootstrap stack", () => {
  it("finds no violation in the bootstrap as it is", () => {
    expect(evaluateRecorded(mocks.resources)).toEqual([]);
  });

  it("covers the bootstrap's federated credentials, role assignments and storage account", () => {
    const types = new Set(mocks.resources.map((r) => r.type));
    for (const type of [B.fic, B.account, B.role]) expect(types).toContain(type);
  });

  it("refuses the bootstrap's storage account once shared-key access is turned back on", () => {
    const broken = mocks.resources.map((r) =>
      r.type === B.account ? { ...r, inputs: { ...r.inputs, allowSharedKeyAccess: true } } : r,
    );
    expect(evaluateRecorded(broken).map((v) => v.policy)).toEqual(["storage-account-hardened"]);
  });
});
