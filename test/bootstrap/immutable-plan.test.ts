import { beforeAll, expect, it } from "vitest";
import { type AzureMocks, promiseOf, runProgram } from "../../offline/azure-mocks";
import { B, attachBootstrapMocks, readBootstrapStack } from "../../offline/bootstrap-mocks";

/**
 * The real bootstrap program (bootstrap/index.ts) for a repository in GitHub's immutable form: both identities trust
 * the immutable subjects, and nothing else changes.
 */

const REPOSITORY = "contoso@1234567/secretless-signin@890123456";
let mocks: AzureMocks;

beforeAll(async () => {
  delete process.env.GITHUB_TOKEN;
  mocks = await attachBootstrapMocks({
    ...readBootstrapStack("example"),
    "secretless-ci-bootstrap:repository": REPOSITORY,
  });
  const program = await runProgram(mocks, () => import("../../bootstrap/index.js"));
  await promiseOf(program.AZURE_DEPLOY_CLIENT_ID);
});

it("trusts the immutable pull-request and environment subjects, built from the form given", () => {
  const subject = (which: string) =>
    mocks.resources.find((r) => r.type === B.fic && r.name === `ci-${which}-github`)!.inputs.subject;
  expect(subject("preview")).toBe(`repo:${REPOSITORY}:pull_request`);
  expect(subject("deploy")).toBe(`repo:${REPOSITORY}:environment:production`);
});

it("creates nothing on GitHub without a token, and the same Azure resources as the name-based form", () => {
  expect(mocks.ofType(B.environment)).toEqual([]);
  expect(mocks.ofType(B.uami)).toHaveLength(2);
  expect(mocks.ofType(B.role)).toHaveLength(10);
});
