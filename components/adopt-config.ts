/**
 * The adopt keys of the stack configuration: an existing app registration (`existingAppClientId`) and, separately, an
 * existing Linux web app (`existingWebAppResourceGroup` + `existingWebAppName`). Checked here with the rest of the
 * configuration, before anything registers; what only Azure and Entra can answer (does it exist, in this tenant, with
 * this audience, on Linux, in this region) is asked with invokes before any resource of the stack registers
 * (components/adoption.ts).
 *
 * An adopted object is not the stack's, so the keys that would change it are refused with the fix, and the defaults
 * that would (the default app roles on a registration, the deploy step on a site) are off.
 */
import { AdoptKey, appClientIdProblem } from "../contract/adopt";
import { resourceGroupNameProblem, webAppNameProblem } from "../contract/rules";
import type { AppAccessConfig } from "./app-roles";
import { type ConfigKey, type Reader, configDefaults } from "./stack-config-keys";

/** The adopted objects, as SecretlessWebApp takes them. */
export interface AdoptionConfig {
  /** An existing app registration the stack adds its federated credential and redirect URI to; owns nothing else. */
  existingApp?: { clientId: string };
  /** An existing Linux web app the stack adds its identity and `AzureAd__…` settings to; owns nothing else. */
  existingWebApp?: { resourceGroupName: string; name: string };
}

/** Keys that change the registration itself: refused (when set to anything but their default) on an adopted one. */
const REGISTRATION_KEYS: readonly ConfigKey[] = [
  "appDisplayName",
  "appRoleAssignmentRequired",
  "grantAdminConsent",
  "appOwnerObjectIds",
  "appRoles",
  "appRoleAssignments",
  "securityGroupClaims",
];

/** Keys that change the site or what runs on it: refused (when not their default) on an adopted one. */
const SITE_KEYS: readonly ConfigKey[] = [
  "planSku",
  "existingPlanId",
  "nodeVersion",
  "alwaysOn",
  "healthCheckPath",
  "uniqueDefaultHostname",
  "scaleOut",
  "instanceCount",
  "redisSku",
  "stagingSlot",
  "stagingSlotAfterSwap",
  "waitForReady",
  "readinessTimeoutMinutes",
  // Telemetry writes its settings and a diagnostic setting onto the site.
  "telemetry",
  // An app of your own (components/own-app-config.ts) is deployed onto a site the stack runs; not an adopted one.
  "appPackagePath",
  "runtimeStack",
  "startupCommand",
  "readinessPath",
];

export function readAdoption(
  r: Reader,
  webAppName: string | undefined,
): { adoption: AdoptionConfig; overrides: Partial<AppAccessConfig> & { deployApp?: boolean } } {
  const adoption: AdoptionConfig = {};
  const overrides: Partial<AppAccessConfig> & { deployApp?: boolean } = {};
  const clientId = r.optional(AdoptKey.AppClientId, appClientIdProblem);
  if (clientId !== undefined) {
    adoption.existingApp = { clientId: clientId.toLowerCase() };
    refuseChanges(r, REGISTRATION_KEYS, `${AdoptKey.AppClientId} adopts a registration the stack does not own`);
    // The registration's roles are its owner's: none are declared on it (the default Admin and Reader included).
    overrides.appRoles = [];
    overrides.appRoleAssignments = [];
    if (r.value("authMode") === "easyAuth") {
      r.report(
        "authMode",
        `is easyAuth, which turns on ID token issuance on the registration; ${AdoptKey.AppClientId} adopts a ` +
          "registration the stack does not change. Use authMode app (pulumi config set authMode app).",
      );
    }
  }

  const group = r.optional(AdoptKey.WebAppResourceGroup, resourceGroupNameProblem);
  const name = r.optional(AdoptKey.WebAppName, webAppNameProblem);
  if ((group === undefined) !== (name === undefined)) {
    const [missing, set] =
      group === undefined
        ? [AdoptKey.WebAppResourceGroup, AdoptKey.WebAppName]
        : [AdoptKey.WebAppName, AdoptKey.WebAppResourceGroup];
    r.report(
      missing,
      `is unset but ${set} is set; an adopted web app is named by both (pulumi config set ${missing} <value>), or ` +
        `unset ${set} to create a web app.`,
    );
  }
  if (group !== undefined && name !== undefined) {
    adoption.existingWebApp = { resourceGroupName: group, name };
    if (webAppName !== undefined && webAppName.toLowerCase() !== name.toLowerCase()) {
      r.report(
        "webAppName",
        `is "${webAppName}" but ${AdoptKey.WebAppName} is "${name}"; the stack names the adopted site. Unset ` +
          "webAppName (pulumi config rm webAppName).",
      );
    }
    refuseChanges(r, SITE_KEYS, `${AdoptKey.WebAppName} adopts a web app the stack does not own`);
    if (r.value("authMode") === "easyAuth") {
      r.report(
        "authMode",
        `is easyAuth, which replaces the site's authentication settings; ${AdoptKey.WebAppName} adopts a site ` +
          "the stack does not change. Use authMode app (pulumi config set authMode app).",
      );
    }
    // The adopted site runs its owner's app: the stack never deploys onto it (the deploy step is off).
    overrides.deployApp = false;
  }
  return { adoption, overrides };
}

/** Reports each key set to something other than its Pulumi.yaml default. */
function refuseChanges(r: Reader, keys: readonly ConfigKey[], why: string): void {
  for (const key of keys) {
    const value = r.raw[key]?.trim();
    if (value === undefined || value === "" || value === configDefaults[key]) continue;
    r.report(key, `is set, but ${why}: it changes nothing there and is refused. Unset it (pulumi config rm ${key}).`);
  }
}
