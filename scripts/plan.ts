/**
 * `npm run plan [-- <stack>] [--config-file <file>]`: evaluates the real program for a stack file (default
 * `Pulumi.<stack>.yaml` at the root, `Pulumi.dev.yaml` without a stack; `--config-file` reads another) through the
 * Pulumi language host's own code path, with the offline mocks standing in for the engine and the Azure providers,
 * and prints the resource tree with the values that make the chain secretless.
 *
 * OFFLINE: nothing here calls Azure, Microsoft Graph or the Pulumi service, and it needs no credentials. IDs, host
 * names and the tenant are placeholders the mocks make up; the shape and wiring are the program's own.
 */
import { statSync } from "node:fs";
import { join } from "node:path";
import { appServiceScopeForResourceManagerScope } from "../contract/clouds";
import { READINESS_PATH } from "../contract/readiness";
import { type AzureMocks, GRAPH_APP_ID, T, type RegisteredResource } from "../offline/azure-mocks";
import { ROOT, appProject, runThroughLanguageHost } from "../offline/language-host";
import { planText, runPlan } from "../offline/plan-printer";
import { StackFileError, readStackFile, stackNameOf } from "../offline/stack-file";
import { checkPlannedResources } from "../policy/offline";
import { ROLE } from "../policy/rules";

const USAGE = "npm run plan [-- <stack>] [--config-file <file>]";

/** `[<stack>] [--config-file <file>]`: the stack name (default dev) and, as with the Pulumi CLI, another stack file. */
function parseArgs(argv: readonly string[]): { stack: string; configFile?: string } {
  const positional: string[] = [];
  let configFile: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--config-file" || arg.startsWith("--config-file=")) {
      configFile = arg.includes("=") ? arg.slice(arg.indexOf("=") + 1) : argv[++i];
      if (!configFile) {
        throw new StackFileError(`--config-file needs a file: ${USAGE}`);
      }
    } else if (arg.startsWith("-")) {
      throw new StackFileError(`Unknown option ${arg}: ${USAGE}`);
    } else positional.push(arg);
  }
  if (positional.length > 1) {
    throw new StackFileError(`One stack at a time, got ${positional.join(" ")}: ${USAGE}`);
  }
  return { stack: stackNameOf(positional[0] ?? "dev"), configFile };
}

/** The mocks of this run, for lines that depend on other resources. */
let mocksSeen: AzureMocks | undefined;

function describe(r: RegisteredResource): string[] {
  const i = r.inputs;
  switch (r.type) {
    case "azure-native:resources:ResourceGroup":
      return [`location     ${i.location}`];
    case "azure-native:managedidentity:UserAssignedIdentity":
      return [`clientId     ${r.state.clientId}`, `principalId  ${r.state.principalId}`];
    case "azuread:index/applicationRegistration:ApplicationRegistration":
      return [
        `displayName  ${i.displayName}`,
        `audience     ${i.signInAudience}`,
        `clientId     ${r.state.clientId}`,
        "credentials  none (no password, no certificate)",
      ];
    case "azuread:index/applicationFederatedIdentityCredential:ApplicationFederatedIdentityCredential":
      return [
        `issuer       ${i.issuer}`,
        `subject      ${i.subject}  (managed identity principalId)`,
        `audiences    ${(i.audiences as string[]).join(", ")}`,
      ];
    case "azuread:index/applicationApiAccess:ApplicationApiAccess":
      return [
        `api          ${i.apiClientId === GRAPH_APP_ID ? "Microsoft Graph " : ""}${i.apiClientId} (looked up)`,
        ...(i.scopeIds as string[]).map((id) => `delegated    ${scopeName(id)} ${id} (looked up)`),
        ...(mocksSeen?.ofType(
          "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant",
        ).length
          ? []
          : [
              "admin consent not granted here (grantAdminConsent=false): users " +
                "consent at sign-in, or an admin uses the consent link",
            ]),
      ];
    case "azuread:index/servicePrincipalDelegatedPermissionGrant:ServicePrincipalDelegatedPermissionGrant":
      return [
        `grants       ${(i.claimValues as string[]).join(" ")} for all users (tenant-wide admin ` +
          `consent) on resource ${i.resourceServicePrincipalObjectId}`,
      ];
    case "azuread:index/applicationRedirectUris:ApplicationRedirectUris":
      return (i.redirectUris as string[]).map((u) => `${i.type} redirect  ${u}`);
    case "azure-native:web:AppServicePlan":
      return [`sku          ${i.sku.name} (${i.sku.tier}), ${i.kind}`];
    case "azure-native:web:WebApp":
      return [
        `host         ${r.state.defaultHostName}`,
        `runtime      ${i.siteConfig.linuxFxVersion}, httpsOnly=${i.httpsOnly}, ` +
          `minTls=${i.siteConfig.minTlsVersion}, scmMinTls=${i.siteConfig.scmMinTlsVersion}, ` +
          `ftps=${i.siteConfig.ftpsState}`,
        `start        ${i.siteConfig.appCommandLine || "(the runtime image's own start-up detection)"}`,
        `identity     ${i.identity.type} ${(i.identity.userAssignedIdentities as string[]).join(", ")}`,
        ...(i.siteConfig.appSettings as { name: string; value: string }[]).map(
          (s) => `setting      ${s.name}=${s.value}`,
        ),
      ];
    case "azure-native:web:WebAppDiagnosticLogsConfiguration":
      return [
        `http logs    ${i.httpLogs.fileSystem.enabled ? "on" : "off"}, kept ` +
          `${i.httpLogs.fileSystem.retentionInDays} days, at most ${i.httpLogs.fileSystem.retentionInMb} MB`,
        `errors       detailed error pages ${i.detailedErrorMessages.enabled ? "on" : "off"}`,
      ];
    case "azure-native:operationalinsights:Workspace":
      return [
        `sku          ${i.sku.name}, kept ${i.retentionInDays} days` +
          (i.workspaceCapping ? `, capped at ${i.workspaceCapping.dailyQuotaGb} GB a day` : ", no daily cap"),
        `local auth   ${i.features?.disableLocalAuth === true ? "off (Entra ID only, no shared keys)" : "ON"}`,
        `workspace    ${r.state.customerId}  (customer ID, for queries)`,
      ];
    // Hosting on Container Apps.
    case "azure-native:containerregistry:Registry":
      return [
        `login server ${r.state.loginServer}`,
        `admin user   ${i.adminUserEnabled === false ? "off (no registry password)" : "ON"}`,
        `anonymous    ${i.anonymousPullEnabled === true ? "ON" : "off"}  (sku ${i.sku?.name})`,
      ];
    case "azure-native:app:ManagedEnvironment":
      return [
        `logs         ${i.appLogsConfiguration?.destination} (no Log Analytics shared key)`,
        `domain       ${r.state.defaultDomain}`,
      ];
    case "azure-native:app:ContainerApp": {
      const ingress = i.configuration?.ingress ?? {};
      const container = i.template?.containers?.[0] ?? {};
      return [
        `identity     ${i.identity?.type} ${(i.identity?.userAssignedIdentities ?? []).join(", ")}`,
        `ingress      ${ingress.external ? "external" : "internal"} ${ingress.transport}, allowInsecure ` +
          `${ingress.allowInsecure}, port ${ingress.targetPort}`,
        `fqdn         ${r.state.configuration?.ingress?.fqdn}`,
        `image        ${container.image}`,
        ...(i.configuration?.registries ?? []).map(
          (reg: { server: string; identity: string }) => `pulls        ${reg.server} as ${reg.identity}`,
        ),
        `probes       ${(container.probes ?? []).map((p: any) => `${p.type} ${p.httpGet?.path}`).join(", ")}`,
        `replicas     ${i.template?.scale?.minReplicas}-${i.template?.scale?.maxReplicas}`,
        `env          ${(container.env ?? []).length} plain values, ` +
          `secrets: ${(i.configuration?.secrets ?? []).length}`,
      ];
    }
    case "azure-native:applicationinsights:Component":
      return [
        `kind         ${i.kind}, ${i.ingestionMode} on ${i.workspaceResourceId}`,
        `local auth   ${i.disableLocalAuth === true ? "off (Entra-authenticated telemetry only)" : "ON"}`,
      ];
    case "azure-native:authorization:RoleAssignment":
      return [
        `role         ${roleLabel(String(i.roleDefinitionId))}`,
        `to           ${i.principalId} (${i.principalType})`,
        `at           ${i.scope}`,
      ];
    case "azure-native:monitor:DiagnosticSetting":
      return [
        `reads        ${i.resourceUri}`,
        `logs         ${(i.logs as { category: string }[]).map((l) => l.category).join(", ")}`,
        `to           ${i.workspaceId}`,
      ];
    case "azure-native:web:WebAppScmAllowed":
    case "azure-native:web:WebAppFtpAllowed":
      return [`basic auth   allow=${i.allow}`];
    case "azure-native:web:WebAppAuthSettingsV2WithoutSecrets": {
      const aad = i.identityProviders.azureActiveDirectory;
      return [
        `Easy Auth    Microsoft provider, clientId ` +
          `${aad.registration.clientId}, issuer ${aad.registration.openIdIssuer}`,
        `credential   ${aad.registration.clientSecretSettingName} (the managed ` +
          `identity's token through the FIC; no secret)`,
        `unauthed     ${i.globalValidation.unauthenticatedClientAction}, except ` +
          `${(i.globalValidation.excludedPaths as string[]).join(", ")}`,
        `login        ${(aad.login.loginParameters as string[]).join("; ")}; token ` +
          `store ${i.login.tokenStore.enabled ? "on" : "off"}`,
      ];
    }
    case "azure-native:web:WebAppSlotConfigurationNames":
      return [`slot-sticky  ${(i.appSettingNames as string[]).join(", ")}`];
    case "command:local:Command":
      return describeCommand(i);
    default:
      return [];
  }
}

/** A role definition ID with the built-in role's name, when the pack knows it. */
function roleLabel(roleDefinitionId: string): string {
  const guid = roleDefinitionId.split("/").at(-1) ?? "";
  const name = Object.entries(ROLE).find(([, id]) => id === guid)?.[0];
  return name ? `${name} (${guid})` : roleDefinitionId;
}

/** The permission a looked-up scope ID names in the mock directory's Microsoft Graph. */
function scopeName(id: string): string {
  const scopes = mocksSeen?.graphServicePrincipal.oauth2PermissionScopeIds ?? {};
  return Object.keys(scopes).find((name) => scopes[name] === id) ?? "(unknown scope)";
}

/** A local command: what it runs, what the deploy step pushes and waits for, and every input (none is secret). */
function describeCommand(i: Record<string, any>): string[] {
  const env: Record<string, string> = i.environment ?? {};
  const lines = [`runs         ${i.create}`, ...(i.delete ? [`on destroy   ${i.delete}`] : [])];
  if (env.DEPLOY_ZIP_PATH) {
    const bytes = statSync(join(ROOT, env.DEPLOY_ZIP_PATH)).size;
    lines.push(
      `package      ${env.DEPLOY_ZIP_PATH}, ${bytes} bytes, sha256 ${env.DEPLOY_ZIP_SHA256}`,
      `publishes    https://${env.DEPLOY_SCM_HOST}/api/publish?type=zip (OneDeploy), as the deployer (Entra token, ` +
        `fetched by the script, for ${
          appServiceScopeForResourceManagerScope(env.DEPLOY_ARM_SCOPE ?? "") ?? "the App Service audience"
        }` +
        `, or ${env.DEPLOY_ARM_SCOPE} once if Kudu answers 401)`,
    );
  }
  if (env.READY_HOST && env.READY_PATH) {
    lines.push(
      `waits        up to ${env.READY_TIMEOUT_MINUTES} min for ` +
        `https://${env.READY_HOST}${env.READY_PATH} to answer 200 (your app's own readiness path)`,
    );
  } else if (env.READY_HOST) {
    lines.push(
      `waits        up to ${env.READY_TIMEOUT_MINUTES} min for ` +
        `https://${env.READY_HOST}${READINESS_PATH} to prove managed identity → FIC → Entra`,
    );
  }
  lines.push(...Object.entries(env).map(([k, v]) => `env          ${k}=${v}`));
  lines.push(`triggers     ${(i.triggers ?? []).join(", ")}  (re-runs when one changes)`);
  return lines;
}

async function main(): Promise<void> {
  const { stack, configFile } = parseArgs(process.argv.slice(2));
  const { file, config, warnings } = readStackFile(appProject.dir, stack, appProject.schema, configFile);
  for (const warning of warnings) console.error(`warning: ${warning}`);
  const run = await runThroughLanguageHost(config, stack);
  mocksSeen = run.mocks;
  if (run.reported.length > 0) {
    process.exitCode = 1; // the host has printed the error
    return;
  }
  const regions = [
    ...new Set(
      run.mocks.resources.flatMap((r) =>
        r.custom && typeof r.inputs.location === "string" ? [r.inputs.location] : [],
      ),
    ),
  ];
  const text = planText(run, {
    header: [
      `OFFLINE PLAN of stack "${stack}" (${file}), evaluated by the Pulumi language host under mocks.`,
      "No Azure, Graph or Pulumi service call was made; IDs, host names and the tenant are placeholders.",
      `Azure region: ${regions.join(", ") || "(none)"}`,
    ],
    describe,
    first: [T.rg],
    outputsTitle: "Outputs:",
  });
  console.log(text);
  // The policy pack's guardrails over the planned resources, printed as `pulumi preview --policy-pack policy` would.
  if (!checkPlannedResources(run.mocks.resources, stack)) process.exitCode = 1;
}

runPlan(main);
