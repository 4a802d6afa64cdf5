/** A hardened App Service web app that wears a user-assigned identity and signs in with it. */
import { AzureAdSetting, SIGNED_ASSERTION_FROM_MANAGED_IDENTITY, isGuid } from "../../contract/settings";
import { type ResourceRule, resourceRule } from "./model";
import { KNOWN_AUDIENCES, TLS_OK, appSettingsOf, isWebApp, ref, show } from "./shared";

/** `AzureAd__ClientCredentials__{n}__{Field}` settings, grouped by `n`. */
function clientCredentials(settings: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const groups = new Map<string, Record<string, unknown>>();
  for (const [key, value] of Object.entries(settings)) {
    const m = /^AzureAd__ClientCredentials__(\d+)__(\w+)$/.exec(key);
    if (m) groups.set(m[1]!, { ...groups.get(m[1]!), [m[2]!]: value });
  }
  return groups;
}

export const webAppRules: readonly ResourceRule[] = [
  resourceRule("webapp-https-only", "A web app serves HTTPS only.", isWebApp, (r) => [
    r.props.httpsOnly !== true ? `${ref(r)} has httpsOnly ${show(r.props.httpsOnly)}. Fix: set httpsOnly: true.` : undefined,
  ]),
  resourceRule("webapp-min-tls", "A web app and its SCM site accept TLS 1.2 or later only.", isWebApp, (r) =>
    (["minTlsVersion", "scmMinTlsVersion"] as const).map((k) => {
      const v = r.props.siteConfig?.[k];
      return TLS_OK.includes(v) ? undefined : `${ref(r)} has siteConfig.${k} ${show(v)}. Fix: set siteConfig.${k}: "1.2" (or "1.3").`;
    }),
  ),
  resourceRule("webapp-ftps-disabled", "A web app has FTP and FTPS turned off.", isWebApp, (r) => {
    const v = r.props.siteConfig?.ftpsState;
    return [v !== "Disabled" ? `${ref(r)} has siteConfig.ftpsState ${show(v)}. Fix: set siteConfig.ftpsState: "Disabled"; deploy with Entra ID tokens, not FTP.` : undefined];
  }),
  resourceRule("webapp-remote-debugging-off", "A web app has remote debugging turned off.", isWebApp, (r) => [
    r.props.siteConfig?.remoteDebuggingEnabled === true
      ? `${ref(r)} has siteConfig.remoteDebuggingEnabled true. Fix: set siteConfig.remoteDebuggingEnabled: false.`
      : undefined,
  ]),
  resourceRule("webapp-user-assigned-identity", "A web app wears a user-assigned managed identity.", isWebApp, (r) => {
    const identity = r.props.identity;
    const ids = identity?.userAssignedIdentities;
    const count = Array.isArray(ids) ? ids.length : ids && typeof ids === "object" ? Object.keys(ids).length : 0;
    return [
      !String(identity?.type ?? "").includes("UserAssigned") || count === 0
        ? `${ref(r)} wears no user-assigned managed identity (identity ${show(identity)}). Fix: set identity: { type: "UserAssigned", userAssignedIdentities: [<identity's resource ID>] }; only a user-assigned identity can be trusted by a federated credential.`
        : undefined,
    ];
  }),
  resourceRule(
    "webapp-client-credentials",
    "A signing-in web app's AzureAd__ClientCredentials__* settings use the managed identity: SourceType SignedAssertionFromManagedIdentity, a ManagedIdentityClientId, a known TokenExchangeUrl.",
    isWebApp,
    (r) => {
      const settings = appSettingsOf(r.props) ?? {};
      const groups = clientCredentials(settings);
      if (groups.size === 0) {
        return [
          settings[AzureAdSetting.ClientId] !== undefined
            ? `${ref(r)} signs in as ${AzureAdSetting.ClientId} but has no client credential settings. Fix: set ${AzureAdSetting.SourceType}=${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}, ${AzureAdSetting.ManagedIdentityClientId} and ${AzureAdSetting.TokenExchangeUrl}.`
            : undefined,
        ];
      }
      return [...groups].flatMap(([n, c]) => {
        const key = (f: string) => `AzureAd__ClientCredentials__${n}__${f}`;
        return [
          c.SourceType !== SIGNED_ASSERTION_FROM_MANAGED_IDENTITY
            ? `${ref(r)} has ${key("SourceType")} ${show(c.SourceType)}. Fix: set it to "${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}"; no other credential source is secretless.`
            : undefined,
          typeof c.ManagedIdentityClientId !== "string" || !isGuid(c.ManagedIdentityClientId)
            ? `${ref(r)} has ${key("ManagedIdentityClientId")} ${show(c.ManagedIdentityClientId)}. Fix: set it to the client ID (a GUID) of the user-assigned identity the web app wears.`
            : undefined,
          !KNOWN_AUDIENCES.includes(c.TokenExchangeUrl as string)
            ? `${ref(r)} has ${key("TokenExchangeUrl")} ${show(c.TokenExchangeUrl)}. Fix: set it to the FIC's audience, one of ${KNOWN_AUDIENCES.join(", ")}.`
            : undefined,
        ];
      });
    },
  ),
];
