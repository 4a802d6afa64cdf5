/**
 * App Service's built-in authentication ("Easy Auth") only in the secretless shape the stack's Easy Auth mode builds
 * (components/easy-auth.ts, contract/easy-auth.ts): auth settings v2 whose Microsoft provider presents the managed
 * identity's token (`clientSecretSettingName` = `OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID`), with no certificate
 * credential, no other provider (each of them needs a secret), no SAS-URL token store and HTTPS required; the
 * classic (v1) auth settings, which carry a client secret inline, not at all; and the setting it names holding the
 * client ID of an identity the site wears.
 */
import { MI_FIC_ASSERTION_SETTING } from "../../contract/easy-auth";
import { isGuid } from "../../contract/settings";
import { type PlannedResource, type ResourceRule, type StackRule, resourceRule, stackRule } from "./model";
import { arm, attachedIdentities, inputField, isWebApp, ref, show, stackSettingsOf } from "./shared";

/** Auth settings v2 in every spelling azure-native has (the `WithoutSecrets` ones carry the current API version). */
export const isAuthSettingsV2 = arm(
  "web",
  "WebAppAuthSettingsV2",
  "WebAppAuthSettingsV2Slot",
  "WebAppAuthSettingsV2WithoutSecrets",
  "WebAppAuthSettingsV2WithoutSecretsSlot",
);
/** The classic (v1) auth settings: `clientSecret` and friends inline. */
export const isAuthSettingsV1 = arm("web", "WebAppAuthSettings", "WebAppAuthSettingsSlot");

const OTHER_PROVIDERS = [
  "apple",
  "facebook",
  "gitHub",
  "google",
  "twitter",
  "legacyMicrosoftAccount",
  "customOpenIdConnectProviders",
  "azureStaticWebApps",
];
const CERTIFICATE_FIELDS = [
  "clientSecretCertificateThumbprint",
  "clientSecretCertificateIssuer",
  "clientSecretCertificateSubjectAlternativeName",
];

export const easyAuthRules: readonly ResourceRule[] = [
  resourceRule(
    "easy-auth-secretless",
    `App Service authentication (auth settings v2) signs in only with the Microsoft provider presenting the ` +
      `managed identity's token: clientSecretSettingName ${MI_FIC_ASSERTION_SETTING}, no certificate, no other ` +
      `provider, no SAS token store, HTTPS required.`,
    isAuthSettingsV2,
    (r) => {
      const aad = r.props.identityProviders?.azureActiveDirectory;
      const registration = aad?.registration ?? {};
      const providers = r.props.identityProviders ?? {};
      return [
        registration.clientSecretSettingName !== MI_FIC_ASSERTION_SETTING
          ? `${ref(r)} has identityProviders.azureActiveDirectory.registration.clientSecretSettingName ` +
            `${show(registration.clientSecretSettingName)}. Fix: set it to "${MI_FIC_ASSERTION_SETTING}" and put ` +
            `the user-assigned identity's client ID in that app setting (the managed identity's token through the ` +
            `FIC is the credential; no client secret).`
          : undefined,
        ...CERTIFICATE_FIELDS.filter((f) => registration[f] !== undefined).map(
          (f) =>
            `${ref(r)} sets identityProviders.azureActiveDirectory.registration.${f}: a certificate credential. ` +
            `Fix: remove it; the managed identity's token is the only credential.`,
        ),
        ...OTHER_PROVIDERS.filter((p) => providers[p] !== undefined).map(
          (p) =>
            `${ref(r)} configures the ${p} identity provider, which signs in with a secret of its own. Fix: remove ` +
            `identityProviders.${p}; only the Microsoft provider with the managed identity is secretless.`,
        ),
        r.props.login?.tokenStore?.azureBlobStorage?.sasUrlSettingName !== undefined
          ? `${ref(r)} keeps tokens in blob storage through a SAS URL setting. Fix: remove ` +
            `login.tokenStore.azureBlobStorage.sasUrlSettingName (use the file-system token store, or ` +
            `blobContainerUri with the identity).`
          : undefined,
        r.props.httpSettings?.requireHttps !== true
          ? `${ref(r)} has httpSettings.requireHttps ${show(r.props.httpSettings?.requireHttps)}. Fix: set ` +
            `httpSettings: { requireHttps: true }; sign-in cookies and codes must never cross plain HTTP.`
          : undefined,
        r.props.platform?.configFilePath !== undefined
          ? `${ref(r)} reads its auth settings from the file ${show(r.props.platform.configFilePath)}, which this ` +
            `check cannot see. Fix: remove platform.configFilePath and declare the settings on the resource.`
          : undefined,
      ];
    },
  ),
  resourceRule(
    "no-easy-auth-v1",
    "No classic (v1) App Service authentication settings: they carry the client secret " +
      "inline; use auth settings v2 with the managed identity.",
    isAuthSettingsV1,
    (r) => [
      `${ref(r)} is the classic (v1) auth settings resource, which holds client secrets inline. Fix: use ` +
        `web.WebAppAuthSettingsV2WithoutSecrets with clientSecretSettingName "${MI_FIC_ASSERTION_SETTING}" ` +
        `(authMode easyAuth builds it).`,
    ],
  ),
];

/** The site whose name and resource group an auth settings resource names. */
const siteOf = (auth: PlannedResource, sites: readonly PlannedResource[]): PlannedResource | undefined =>
  sites.find(
    (s) =>
      inputField(s, "name") === inputField(auth, "name") &&
      inputField(s, "resourceGroupName") === inputField(auth, "resourceGroupName"),
  );

export const easyAuthIdentitySetting: StackRule = stackRule(
  "easy-auth-identity-setting",
  `A site whose Easy Auth presents the managed identity has ${MI_FIC_ASSERTION_SETTING} ` +
    `set to the client ID of a user-assigned identity it wears.`,
  (resources) =>
    resources
      .filter((r) => isAuthSettingsV2(r.type))
      .flatMap((auth) => {
        const site = siteOf(
          auth,
          resources.filter((r) => isWebApp(r.type)),
        );
        if (!site) return [];
        const value = stackSettingsOf(site)?.[MI_FIC_ASSERTION_SETTING];
        const worn = attachedIdentities(site, resources)
          .map((i) => i.clientId?.toLowerCase())
          .filter(Boolean);
        const ok = typeof value === "string" && isGuid(value) && worn.includes(value.toLowerCase());
        return ok
          ? []
          : [
              {
                resource: site,
                message:
                  `${ref(site)} has ${MI_FIC_ASSERTION_SETTING} ${show(value)}, which is not the client ID of a ` +
                  `user-assigned identity it wears. Fix: set it to that identity's client ID (not the app ` +
                  `registration's); Easy Auth presents that identity's token through the FIC.`,
              },
            ];
      }),
);

/** The names of the rules above, for the tests that break each one (test/policy/easy-auth.test.ts). */
export const EASY_AUTH_RULE_NAMES: readonly string[] = [
  ...easyAuthRules.map((r) => r.name),
  easyAuthIdentitySetting.name,
];
