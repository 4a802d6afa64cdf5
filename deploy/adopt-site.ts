/**
 * Makes an adopted Linux web app wear the stack's managed identity and present it first, or (with `--undo`, on
 * `pulumi destroy`) takes back exactly that, as the operator, through Azure Resource Manager (deploy/arm-site.ts):
 *
 * 1. Identity: merges the stack's user-assigned identity into the site's (PATCH; the site's other identities,
 *    system-assigned included, stay). The undo removes the stack's identity only.
 * 2. App settings: read-modify-write of the whole collection, changing only the stack's names
 *    (contract/adopt.ts `adoptSettings`): `AzureAd__Instance`, `__TenantId`, `__ClientId` and `__CallbackPath` where
 *    absent (a different existing value is refused), and the managed-identity credential at
 *    `AzureAd__ClientCredentials__0__…` with every existing credential kept after it in its order, so
 *    Microsoft.Identity.Web tries the managed identity first and the existing secret second. The undo removes the
 *    managed-identity entry (the others move back up) and the identity settings the create step added.
 *
 *   node --import tsx deploy/adopt-site.ts [--undo] --site-id <site ARM ID> --identity-id <UAMI ARM ID>
 *     --scope https://management.azure.com/.default --instance <url> --tenant-id <id> --client-id <id>
 *     --callback-path /signin-oidc --mi-client-id <UAMI client ID> --token-exchange-url api://AzureADTokenExchange
 *
 * Or ADOPT_SITE_ID, ADOPT_IDENTITY_ID, ADOPT_ARM_SCOPE, ADOPT_INSTANCE, ADOPT_TENANT_ID, ADOPT_CLIENT_ID,
 * ADOPT_CALLBACK_PATH, ADOPT_MI_CLIENT_ID, ADOPT_TOKEN_EXCHANGE_URL; none is secret. The values read from the site
 * (secrets included) stay in this process's memory: what it prints, and so what Pulumi keeps as the command's stdout,
 * is setting names and counts, and the last line `adopt-record: {"addedSettings":[…names],"addedIdentity":…}`, which
 * Pulumi hands back in PULUMI_COMMAND_STDOUT for the undo.
 *
 * Permissions: `Microsoft.Web/sites/write` and `Microsoft.Web/sites/config/list/action` on the site (Website
 * Contributor or Contributor), and `Microsoft.ManagedIdentity/userAssignedIdentities/assign/action` on the identity
 * (Managed Identity Operator or Contributor on the stack's group).
 */
import { parseArgs } from "node:util";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import {
  AdoptConflictError,
  type AdoptedAzureAd,
  adoptSettings,
  readRecord,
  recordLine,
  unadoptSettings,
} from "../contract/adopt";
import type { SettingsChange } from "../contract/credential-list";
import { isGuid } from "../contract/settings";
import { Arm, ArmRequestError, ArmSite, WEB_API_VERSION, isSiteId, isUserAssignedIdentityId } from "./arm-site";
import { DeployStepError, ExitCode, badInput, runMain } from "./cli";
import { gitHubActionsCredentialFromEnv } from "./github-actions-credential";

const NAME = "adopt-site";

export interface AdoptSiteOptions extends AdoptedAzureAd {
  /** The adopted site's ARM resource ID. */
  readonly siteId: string;
  /** The stack's user-assigned identity's ARM resource ID. */
  readonly identityId: string;
  /** The cloud's Azure Resource Manager scope; its origin is the ARM endpoint. */
  readonly scope: string;
  readonly undo?: boolean;
  /** The create step's stdout (PULUMI_COMMAND_STDOUT), for the undo. */
  readonly previousStdout?: string;
  readonly credential?: TokenCredential;
  readonly log?: (line: string) => void;
  readonly fetch?: typeof fetch;
}

/** Adopts (or with `undo` releases) the site; prints names and counts only. */
export async function adoptSite(options: AdoptSiteOptions): Promise<void> {
  try {
    await adopt(options);
  } catch (error) {
    if (error instanceof ArmRequestError) throw armFailure(error);
    throw error;
  }
}

async function adopt(options: AdoptSiteOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const input = validate(options);
  const credential = options.credential ?? gitHubActionsCredentialFromEnv(process.env) ?? new DefaultAzureCredential();
  const arm = {
    resourceManagerUrl: input.armOrigin,
    credential,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  };
  const site = new ArmSite({ ...arm, siteId: input.siteId });

  if (options.undo) {
    try {
      await release(site, arm, input, readRecord(options.previousStdout), log);
    } catch (error) {
      // A site deleted since (by its owner) holds nothing of the stack's: destroy goes on.
      if (!(error instanceof ArmRequestError && error.status === 404)) throw error;
      log("the site no longer exists; nothing to take back");
    }
    return;
  }
  await adoptOnto(site, input, log);
}

/** The undo: the stack's credential entry and added settings off the site, then its identity. */
async function release(
  site: ArmSite,
  arm: ConstructorParameters<typeof Arm>[0],
  input: ReturnType<typeof validate>,
  record: ReturnType<typeof readRecord>,
  log: (line: string) => void,
): Promise<void> {
  const change = unadoptSettings(await site.settings(), record?.addedSettings ?? [], input.managedIdentityClientId);
  await apply(site, change, log, "removed the stack's settings");
  // The identity is the stack's own whatever the record says: it goes, every other identity stays.
  const identity = await site.identity();
  const others = identity.userAssignedIdentityIds.filter((id) => id.toLowerCase() !== input.identityId.toLowerCase());
  if (others.length < identity.userAssignedIdentityIds.length) {
    await new Arm(arm).request("PATCH", input.siteId, WEB_API_VERSION, "take the stack's identity off the site", {
      identity: withoutIdentity(identity, input.identityId),
    });
    log(`the site no longer wears the stack's identity; its ${others.length} other user-assigned one(s) stay`);
  }
}

/** The create: checks, the identity, then the settings that name it; the record line last. */
async function adoptOnto(site: ArmSite, input: ReturnType<typeof validate>, log: (line: string) => void) {
  // The site may have changed since the preview checked it: never write a Windows site's settings.
  const described = await site.describe();
  if (!described.kind.toLowerCase().split(",").includes("linux")) {
    throw new DeployStepError(
      `the site's kind is "${described.kind}", not Linux`,
      "adopt a Linux web app (existingWebAppName), or unset existingWebAppName to create one",
      ExitCode.BadInput,
    );
  }
  // Plan the settings first: a site whose settings disagree with the stack's is refused before anything changes.
  let plan: ReturnType<typeof adoptSettings>;
  try {
    plan = adoptSettings(await site.settings(), input);
  } catch (error) {
    if (error instanceof AdoptConflictError) {
      throw new DeployStepError(
        error.message,
        "nothing was changed on the site; fix the mismatch and run pulumi up again",
        ExitCode.BadInput,
      );
    }
    throw error;
  }
  // The identity before the settings that name it: the app never presents an identity the site does not wear.
  const identity = await site.identity();
  const wearing = identity.userAssignedIdentityIds.some((id) => id.toLowerCase() === input.identityId.toLowerCase());
  if (!wearing) {
    await site.addUserAssignedIdentity(input.identityId);
    log(`the site now wears the stack's identity beside its ${identity.userAssignedIdentityIds.length} other(s)`);
  }
  await apply(site, plan.change, log, "the managed identity is the first credential");
  log(recordLine({ addedSettings: plan.added, addedIdentity: !wearing }));
}

/**
 * The site's identity without `identityId`, as a PATCH body, in ARM's managed-identity convention: the identities
 * kept are named (as ArmSite.addUserAssignedIdentity names every one it keeps), the one removed is set to null, and
 * `type` says what remains, `None` or `SystemAssigned` when no user-assigned identity does (ARM refuses
 * `UserAssigned` with an empty set). Sources: learn.microsoft.com/azure/automation/remove-user-assigned-identity
 * ("Remove using the REST API"), learn.microsoft.com/azure/app-service/overview-managed-identity ("Remove an
 * identity"). A system-assigned identity is kept.
 */
export function withoutIdentity(identity: { type: string; userAssignedIdentityIds: string[] }, identityId: string) {
  const systemAssigned = /systemassigned/i.test(identity.type);
  const others = identity.userAssignedIdentityIds.filter((id) => id.toLowerCase() !== identityId.toLowerCase());
  if (others.length === 0) return { type: systemAssigned ? "SystemAssigned" : "None" };
  const userAssignedIdentities: Record<string, object | null> = Object.fromEntries(others.map((id) => [id, {}]));
  for (const id of identity.userAssignedIdentityIds) if (!others.includes(id)) userAssignedIdentities[id] = null;
  return { type: systemAssigned ? "SystemAssigned, UserAssigned" : "UserAssigned", userAssignedIdentities };
}

/**
 * ARM's refusal, with the fix: what was being done, ARM's status and error code only. ARM's own message is left out: a
 * refused settings write may quote a value it was sent, and this output is kept in Pulumi state.
 */
function armFailure(error: ArmRequestError): DeployStepError {
  const message = `Azure Resource Manager refused to ${error.what}: ${error.status} ${error.code}`;
  if (error.status === 401 || error.status === 403) {
    return new DeployStepError(
      message,
      "Adopting a site needs Microsoft.Web/sites/write and Microsoft.Web/sites/config/list/action on it (Website " +
        "Contributor or Contributor) and Microsoft.ManagedIdentity/userAssignedIdentities/assign/action on the " +
        "identity (Managed Identity Operator or Contributor on its group); your administrator grants them with az " +
        "role assignment create. Nothing else was changed.",
      ExitCode.Unauthorized,
    );
  }
  if (error.status === 404) {
    return new DeployStepError(
      message,
      "check existingWebAppResourceGroup and existingWebAppName, and `az account show` is the site's subscription",
      ExitCode.NotFound,
    );
  }
  return new DeployStepError(message, "run again (pulumi up); nothing else was changed", ExitCode.Failed);
}

async function apply(site: ArmSite, change: SettingsChange, log: (l: string) => void, done: string) {
  const names = [...Object.keys(change.set), ...change.remove];
  if (names.length === 0) {
    log("the settings already say so; nothing to write");
    return;
  }
  await site.applySettings(change);
  log(
    `${done}: set ${Object.keys(change.set).sort().join(", ") || "none"}; ` +
      `removed ${change.remove.join(", ") || "none"}`,
  );
}

function validate(o: AdoptSiteOptions) {
  if (!isSiteId(o.siteId ?? "")) throw badInput("--site-id must be a web app's ARM resource ID", "pass the site ID");
  if (!isUserAssignedIdentityId(o.identityId ?? "")) {
    throw badInput("--identity-id must be a user-assigned identity's ARM resource ID", "pass the identity's ID");
  }
  const scope = /^https:\/\/([a-z0-9.-]+(?::\d{1,5})?)\/\.default$/i.exec(o.scope ?? "");
  if (!scope) throw badInput("--scope must be an ARM scope such as https://management.azure.com/.default", "pass it");
  for (const [flag, value] of [
    ["--tenant-id", o.tenantId],
    ["--client-id", o.clientId],
    ["--mi-client-id", o.managedIdentityClientId],
  ] as const) {
    if (!isGuid(value ?? "")) throw badInput(`${flag} must be a GUID`, `pass the ${flag.slice(2)}`);
  }
  if (!/^https:\/\/[a-z0-9.-]+\/$/i.test(o.instance ?? "")) {
    throw badInput("--instance must be the Entra login instance with a trailing slash", "pass the cloud's instance");
  }
  if (!/^\/[A-Za-z0-9._~/-]{1,200}$/.test(o.callbackPath ?? "")) {
    throw badInput("--callback-path must be a path such as /signin-oidc", "pass the callback path");
  }
  if (!/^api:\/\/AzureADTokenExchange[A-Za-z]*$/.test(o.tokenExchangeUrl ?? "")) {
    throw badInput(
      "--token-exchange-url must be the cloud's token-exchange audience",
      "pass api://AzureADTokenExchange",
    );
  }
  return { ...o, armOrigin: `https://${scope[1]}` };
}

if (require.main === module) {
  runMain(NAME, async () => {
    const flags = ["site-id", "identity-id", "scope", "instance", "tenant-id", "client-id", "callback-path"];
    const options: Record<string, { type: "string" | "boolean" }> = { undo: { type: "boolean" } };
    for (const flag of [...flags, "mi-client-id", "token-exchange-url"]) options[flag] = { type: "string" };
    const { values } = parseArgs({ options, strict: true });
    const v = values as Record<string, string | boolean | undefined>;
    const s = (flag: string, env: string) => (v[flag] as string | undefined) ?? process.env[env] ?? "";
    await adoptSite({
      undo: v.undo === true,
      siteId: s("site-id", "ADOPT_SITE_ID"),
      identityId: s("identity-id", "ADOPT_IDENTITY_ID"),
      scope: s("scope", "ADOPT_ARM_SCOPE"),
      instance: s("instance", "ADOPT_INSTANCE"),
      tenantId: s("tenant-id", "ADOPT_TENANT_ID"),
      clientId: s("client-id", "ADOPT_CLIENT_ID"),
      callbackPath: s("callback-path", "ADOPT_CALLBACK_PATH"),
      managedIdentityClientId: s("mi-client-id", "ADOPT_MI_CLIENT_ID"),
      tokenExchangeUrl: s("token-exchange-url", "ADOPT_TOKEN_EXCHANGE_URL"),
      previousStdout: process.env.PULUMI_COMMAND_STDOUT,
    });
  });
}
