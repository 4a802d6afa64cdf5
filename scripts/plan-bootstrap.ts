/**
 * `npm run plan:bootstrap [-- <stack>]`: evaluates the bootstrap program (bootstrap/) for a stack file (default
 * `bootstrap/Pulumi.example.yaml`) through the Pulumi language host's own code path, with the offline mocks standing in
 * for the engine and the providers, and prints what it would create: the identities and the GitHub subjects they
 * trust, every grant with its scope, the hardened state store, and the repository variables it outputs.
 *
 * OFFLINE: nothing here calls Azure, Microsoft Graph, GitHub or the Pulumi service. IDs and the tenant are placeholders.
 */
import { type RegisteredResource } from "../offline/azureMocks";
import { BuiltInRole } from "../bootstrap/roles";
import { runBootstrapThroughLanguageHost } from "../offline/bootstrapHost";
import { B, GRAPH_APP_ROLE_IDS, readBootstrapStack } from "../offline/bootstrapMocks";

const stack = process.argv[2] ?? "example";
const roleNames = new Map<string, string>(Object.entries(BuiltInRole).map(([name, guid]) => [guid, name]));
const graphRoleNames = new Map(Object.entries(GRAPH_APP_ROLE_IDS).map(([value, id]) => [id, value]));

function describe(r: RegisteredResource, principals: Map<string, string>): string[] {
  const i = r.inputs;
  switch (r.type) {
    case B.uami:
      return [`clientId     ${r.state.clientId}`, `principalId  ${r.state.principalId}`];
    case B.fic:
      return [`issuer       ${i.issuer}`, `subject      ${i.subject}`, `audiences    ${(i.audiences as string[]).join(", ")}`];
    case B.role:
      return [
        `${principals.get(i.principalId) ?? i.principalId} (${i.principalType}) gets ${roleNames.get(String(i.roleDefinitionId).split("/").pop()!) ?? i.roleDefinitionId}`,
        `scope        ${i.scope}`,
      ];
    case B.appRole:
      return [`${principals.get(i.principalObjectId) ?? i.principalObjectId} gets Microsoft Graph ${graphRoleNames.get(i.appRoleId) ?? i.appRoleId}`];
    case B.owner:
      return [`${principals.get(i.ownerObjectId) ?? i.ownerObjectId} owns ${i.applicationId}`];
    case B.account:
      return [
        `allowSharedKeyAccess=${i.allowSharedKeyAccess}, allowBlobPublicAccess=${i.allowBlobPublicAccess}, minimumTlsVersion=${i.minimumTlsVersion}, httpsOnly=${i.enableHttpsTrafficOnly}`,
      ];
    case B.container:
      return [`publicAccess=${i.publicAccess}`];
    case B.vault:
      return [`rbac=${i.properties.enableRbacAuthorization}, purgeProtection=${i.properties.enablePurgeProtection}, softDeleteDays=${i.properties.softDeleteRetentionInDays}`];
    case B.key:
      return [`${i.properties.kty} ${i.properties.keySize}, ops ${(i.properties.keyOps as string[]).join(", ")}`];
    default:
      return [];
  }
}

async function main(): Promise<void> {
  process.env.PULUMI_NODEJS_TRANSPILE_ONLY ??= "true"; // `npm test` type-checks; the plan only evaluates
  const { mocks, outputs, reported } = await runBootstrapThroughLanguageHost(readBootstrapStack(stack), stack);
  if (reported.length > 0) {
    process.exitCode = 1;
    return;
  }
  const principals = new Map(
    mocks.ofType(B.uami).map((r) => [r.state.principalId as string, r.name.replace(/^ci-/, "").replace(/-uami$/, " identity")]),
  );
  const lines: string[] = [
    `OFFLINE PLAN of the bootstrap stack "${stack}" (bootstrap/Pulumi.${stack}.yaml), evaluated by the Pulumi language host under mocks.`,
    "No Azure, Graph, GitHub or Pulumi service call was made; IDs and the tenant are placeholders.",
    "",
  ];
  const children = new Map<string, RegisteredResource[]>();
  for (const r of mocks.resources) {
    const parentUrn = mocks.options.get(`${r.type}::${r.name}`)?.parentUrn;
    const parent = r.type === "pulumi:pulumi:Stack" ? "" : (parentUrn?.split("::").pop() ?? "");
    children.set(parent, [...(children.get(parent) ?? []), r]);
  }
  const walk = (parent: string, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const pad = "    ".repeat(depth);
      lines.push(`${pad}+ ${r.type}  ${r.name}`);
      for (const d of describe(r, principals)) lines.push(`${pad}      ${d}`);
      walk(r.name, depth + 1);
    }
  };
  walk("", 0);
  const custom = mocks.resources.filter((r) => r.custom).length;
  lines.push("", `${custom} resources in ${mocks.resources.length - custom} components (including the stack).`, "");
  lines.push("Outputs (the repository variables; set them with: pulumi -C bootstrap stack output --shell | gh variable set -f -):");
  for (const [k, v] of Object.entries(outputs ?? {})) lines.push(`    ${k.padEnd(24)} ${String(v)}`);
  console.log(lines.join("\n"));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
