/**
 * `npm run plan:bootstrap [-- <stack>]`: evaluates the bootstrap program (bootstrap/) for a stack file (default
 * `bootstrap/Pulumi.example.yaml`) through the Pulumi language host's own code path, with the offline mocks standing in
 * for the engine and the providers, and prints what it would create: the identities and the GitHub subjects they
 * trust, every grant with its scope, the hardened state store, and the repository variables it outputs.
 *
 * OFFLINE: nothing here calls Azure, Microsoft Graph, GitHub or the Pulumi service. IDs and the tenant are
 * placeholders.
 */
import type { RegisteredResource } from "../offline/azure-mocks";
import { BuiltInRole } from "../bootstrap/roles";
import { B, BOOTSTRAP_PROJECT, GRAPH_APP_ROLE_IDS, bootstrapProject } from "../offline/bootstrap-mocks";
import { checkPlannedResources } from "../policy/offline";
import { runThroughLanguageHost } from "../offline/language-host";
import { planText, runPlan } from "../offline/plan-printer";
import { readStackFile, stackNameOf } from "../offline/stack-file";

const stack = stackNameOf(process.argv[2] ?? "example");
const roleNames = new Map<string, string>(Object.entries(BuiltInRole).map(([name, guid]) => [guid, name]));
const graphRoleNames = new Map(Object.entries(GRAPH_APP_ROLE_IDS).map(([value, id]) => [id, value]));

function describe(r: RegisteredResource, principals: Map<string, string>): string[] {
  const i = r.inputs;
  switch (r.type) {
    case B.uami:
      return [`clientId     ${r.state.clientId}`, `principalId  ${r.state.principalId}`];
    case B.fic:
      return [
        `issuer       ${i.issuer}`,
        `subject      ${i.subject}`,
        `audiences    ${(i.audiences as string[]).join(", ")}`,
      ];
    case B.role:
      return [
        `${principals.get(i.principalId) ?? i.principalId} (${i.principalType}) gets ` +
          `${roleNames.get(String(i.roleDefinitionId).split("/").pop()!) ?? i.roleDefinitionId}`,
        `scope        ${i.scope}`,
      ];
    case B.appRole:
      return [
        `${principals.get(i.principalObjectId) ?? i.principalObjectId} gets Microsoft ` +
          `Graph ${graphRoleNames.get(i.appRoleId) ?? i.appRoleId}`,
      ];
    case B.owner:
      return [`${principals.get(i.ownerObjectId) ?? i.ownerObjectId} owns ${i.applicationId}`];
    case B.account:
      return [
        `allowSharedKeyAccess=${i.allowSharedKeyAccess}, allowBlobPublicAccess=${i.allowBlobPublicAccess}, ` +
          `minimumTlsVersion=${i.minimumTlsVersion}, httpsOnly=${i.enableHttpsTrafficOnly}`,
      ];
    case B.container:
      return [`publicAccess=${i.publicAccess}`];
    case B.vault:
      return [
        `rbac=${i.properties.enableRbacAuthorization}, purgeProtection=${i.properties.enablePurgeProtection}, ` +
          `softDeleteDays=${i.properties.softDeleteRetentionInDays}`,
      ];
    case B.key:
      return [`${i.properties.kty} ${i.properties.keySize}, ops ${(i.properties.keyOps as string[]).join(", ")}`];
    default:
      return [];
  }
}

async function main(): Promise<void> {
  process.env.PULUMI_NODEJS_TRANSPILE_ONLY ??= "true"; // `npm test` type-checks; the plan only evaluates
  const { file, config, warnings } = readStackFile(bootstrapProject.dir, stack, bootstrapProject.schema);
  for (const warning of warnings) console.error(`warning: ${warning}`);
  const run = await runThroughLanguageHost(config, stack, bootstrapProject);
  if (run.reported.length > 0) {
    process.exitCode = 1; // the host has printed the error
    return;
  }
  const principals = new Map(
    run.mocks
      .ofType(B.uami)
      .map((r) => [r.state.principalId as string, r.name.replace(/^ci-/, "").replace(/-uami$/, " identity")]),
  );
  const text = planText(run, {
    header: [
      `OFFLINE PLAN of the bootstrap stack "${stack}" (${file}), evaluated by the Pulumi language host under mocks.`,
      "No Azure, Graph, GitHub or Pulumi service call was made; IDs and the tenant are placeholders.",
      `Azure region: ${config["secretless-ci-bootstrap:location"] ?? "(not set)"}`,
    ],
    describe: (r) => describe(r, principals),
    first: [B.rg],
    outputsTitle:
      "Outputs (the repository variables; set them with: pulumi -C " +
      "bootstrap stack output --shell | gh variable set -f -):",
  });
  console.log(text);
  // The policy pack over the planned resources, told the repository the CI identities may trust (as
  // `pulumi preview --policy-pack policy --policy-pack-config` would be).
  const repository = config[`${BOOTSTRAP_PROJECT}:repository`];
  if (
    !checkPlannedResources(run.mocks.resources, stack, undefined, repository ? { repository } : {}, BOOTSTRAP_PROJECT)
  )
    process.exitCode = 1;
}

runPlan(main);
