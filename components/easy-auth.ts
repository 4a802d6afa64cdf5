/**
 * Easy Auth mode on the stack's side: App Service's built-in authentication (auth settings v2) with the Microsoft
 * provider signing users in, presenting the managed identity's token through the FIC instead of a client secret, and
 * the checks and settings that mode needs. The shape and its sources are in contract/easy-auth.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as web from "@pulumi/azure-native/web";
import { type CloudName, clouds } from "../contract/clouds";
import {
  AUTH_MODES,
  AUTH_MODE_SETTING,
  type AuthMode,
  DEFAULT_AUTH_MODE,
  EASY_AUTH_EXCLUDED_PATHS,
  MI_FIC_ASSERTION_SETTING,
  easyAuthLoginParameters,
  isAuthMode,
} from "../contract/easy-auth";
import { DEFAULT_CALLBACK_PATH } from "../contract/settings";
import type { Reader } from "./stack-config-keys";

/** `authMode`: who signs users in. Easy Auth is refused with the options it cannot honour, each with its fix. */
export function readAuthMode(r: Reader): AuthMode {
  const mode = r.withDefault("authMode", DEFAULT_AUTH_MODE, (v) =>
    isAuthMode(v)
      ? undefined
      : `"${v}" is not an auth mode; set it to ${AUTH_MODES.join(" or ")} (pulumi config set authMode easyAuth).`,
  );
  if (mode !== "easyAuth") return isAuthMode(mode) ? mode : DEFAULT_AUTH_MODE;
  for (const { key, problem } of easyAuthConflicts({
    scaleOut: r.value("scaleOut") === "true",
    callbackPath: r.raw.callbackPath?.trim() || undefined,
    signInAudience: r.value("signInAudience"),
  })) {
    r.report(key, problem);
  }
  return mode;
}

/** The options Easy Auth mode cannot be combined with, as `{ key, problem }` (problem names the fix). */
export function easyAuthConflicts(o: {
  scaleOut?: boolean;
  callbackPath?: string;
  signInAudience?: string;
}): { key: string; problem: string }[] {
  const out: { key: string; problem: string }[] = [];
  if (o.scaleOut) {
    out.push({
      key: "scaleOut",
      problem:
        "is true, but with authMode easyAuth the platform keeps sign-in sessions (its cookie and token store), " +
        "so the app has none for Redis to share; remove scaleOut (pulumi config rm scaleOut) or set authMode app.",
    });
  }
  if (o.callbackPath !== undefined && o.callbackPath !== DEFAULT_CALLBACK_PATH) {
    out.push({
      key: "callbackPath",
      problem:
        `is "${o.callbackPath}", but with authMode easyAuth the callback is Easy Auth's own ` +
        `/.auth/login/aad/callback; remove callbackPath (pulumi config rm callbackPath) or set authMode app.`,
    });
  }
  if (o.signInAudience !== undefined && o.signInAudience !== "AzureADMyOrg") {
    out.push({
      key: "signInAudience",
      problem:
        `is "${o.signInAudience}", but Easy Auth with a managed identity instead of a secret is documented for ` +
        `workforce tenants and this stack's issuer is the one tenant's; set signInAudience AzureADMyOrg or authMode ` +
        `app.`,
    });
  }
  return out;
}

/** The settings Easy Auth mode adds: the identity Easy Auth presents, and the mode the app trusts the headers in. */
export function easyAuthAppSettings(identityClientId: pulumi.Input<string>): Record<string, pulumi.Input<string>> {
  return { [MI_FIC_ASSERTION_SETTING]: identityClientId, [AUTH_MODE_SETTING]: "easyAuth" };
}

/** The settings the component owns in Easy Auth mode; a caller's appSettings may not name them (in either mode). */
export const EASY_AUTH_OWNED_SETTINGS: readonly string[] = [MI_FIC_ASSERTION_SETTING, AUTH_MODE_SETTING];

export interface EasyAuthArgs {
  readonly resourceGroupName: pulumi.Input<string>;
  /** The web app (site) name. */
  readonly siteName: pulumi.Input<string>;
  readonly tenantId: pulumi.Input<string>;
  /** The app registration's client ID. */
  readonly clientId: pulumi.Input<string>;
  readonly cloud: CloudName;
}

/**
 * App Service authentication for the site: Microsoft provider with the registration's client ID and the cloud's v2.0
 * issuer for the tenant, the managed identity's token as the client credential (`clientSecretSettingName` names
 * {@link MI_FIC_ASSERTION_SETTING}), every unauthenticated request but the health paths redirected to sign-in, the
 * token store on (the app reads the Graph access token from it), HTTPS only. No secret exists anywhere: the one
 * setting it names holds a client ID.
 */
export class EasyAuth extends pulumi.ComponentResource {
  /** The site's auth settings v2. */
  public readonly authSettings: web.WebAppAuthSettingsV2WithoutSecrets;

  constructor(name: string, args: EasyAuthArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:EasyAuth", name, {}, opts);
    const cloud = clouds[args.cloud];

    // `WebAppAuthSettingsV2WithoutSecrets` is azure-native v3's resource for `config/authsettingsV2` at the current
    // API version (2025-05-01 in this SDK); `WebAppAuthSettingsV2` still pins 2021-02-01. Both PUT the same document.
    this.authSettings = new web.WebAppAuthSettingsV2WithoutSecrets(
      `${name}-settings`,
      {
        name: args.siteName,
        resourceGroupName: args.resourceGroupName,
        platform: { enabled: true, runtimeVersion: "~1" },
        globalValidation: {
          requireAuthentication: true,
          unauthenticatedClientAction: web.UnauthenticatedClientActionV2.RedirectToLoginPage,
          redirectToProvider: "azureactivedirectory",
          excludedPaths: [...EASY_AUTH_EXCLUDED_PATHS],
        },
        identityProviders: {
          azureActiveDirectory: {
            enabled: true,
            registration: {
              // "<authentication-endpoint>/<tenant-id>/v2.0" (same docs page, "Issuer URL"): the FIC's issuer too.
              openIdIssuer: pulumi.interpolate`${cloud.instance}${args.tenantId}/v2.0`,
              clientId: args.clientId,
              clientSecretSettingName: MI_FIC_ASSERTION_SETTING,
            },
            login: { loginParameters: easyAuthLoginParameters(cloud.graphScope) },
            validation: { allowedAudiences: [args.clientId] },
          },
        },
        login: { tokenStore: { enabled: true }, preserveUrlFragmentsForLogins: false },
        httpSettings: { requireHttps: true },
      },
      { parent: this },
    );

    // The docs: "Make sure to mark this application setting as slot-sticky", so a swapped-in slot never presents
    // another slot's identity. `slotConfigNames` is one document per site; this stack owns it.
    new web.WebAppSlotConfigurationNames(
      `${name}-sticky-settings`,
      { name: args.siteName, resourceGroupName: args.resourceGroupName, appSettingNames: [MI_FIC_ASSERTION_SETTING] },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
