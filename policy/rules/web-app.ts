/** A hardened App Service web app that wears a user-assigned identity and signs in with it. */
import { allRuntimeStacks } from "../../contract/runtimes";
import { AzureAdSetting, SIGNED_ASSERTION_FROM_MANAGED_IDENTITY, isGuid } from "../../contract/settings";
import { type ResourceRule, resourceRule } from "./model";
import {
  KNOWN_AUDIENCES,
  TLS_OK,
  containerEnv,
  isContainerApp,
  isSettingsResource,
  isWebApp,
  ref,
  show,
} from "./shared";

const FIELDS = ["SourceType", "ManagedIdentityClientId", "TokenExchangeUrl"];

/**
 * `AzureAd__ClientCredentials__{n}__{Field}` settings, grouped by `n`. Matched as .NET configuration matches keys:
 * case-insensitively, with `:` or `__` between sections, so `azuread__clientcredentials__0__sourcetype` counts. A
 * field set twice (two spellings, or a list naming it twice) keeps every value, and each must pass.
 */
function clientCredentials(settings: [string, unknown][]): Map<string, Record<string, unknown[]>> {
  const groups = new Map<string, Record<string, unknown[]>>();
  for (const [key, value] of settings) {
    const m = /^azuread(?:__|:)clientcredentials(?:__|:)0*(\d+)(?:__|:)(\w+)$/i.exec(String(key).trim());
    if (!m) continue;
    const field = FIELDS.find((f) => f.toLowerCase() === m[2]!.toLowerCase()) ?? m[2]!;
    const group = groups.get(m[1]!) ?? {};
    group[field] = [...(group[field] ?? []), value];
    groups.set(m[1]!, group);
  }
  return groups;
}

/**
 * A web app's (`siteConfig.appSettings`), a settings resource's (`properties`) or a container app's (its containers'
 * `env`) settings as name/value pairs.
 */
function settingPairs(props: Record<string, any>): [string, unknown][] {
  const env = props.siteConfig ? undefined : containerEnv(props);
  if (env) return env.map((e) => [e?.name, e?.value]);
  if (props.properties && typeof props.properties === "object" && !props.siteConfig) {
    return Object.entries(props.properties);
  }
  const list = props.siteConfig?.appSettings;
  return Array.isArray(list) ? list.map((s: { name: string; value: unknown }) => [s?.name, s?.value]) : [];
}

export const webAppRules: readonly ResourceRule[] = [
  resourceRule(
    "webapp-runtime-allowed",
    "A web app runs one of the Linux runtime stacks of the catalogue (contract/catalogue.ts): linuxFxVersion " +
      "NODE|…-lts, DOTNETCORE|… or PYTHON|…, as App Service spells it; no custom container image, no other stack.",
    isWebApp,
    (r) => {
      const stack = r.props.siteConfig?.linuxFxVersion;
      return [
        typeof stack === "string" && (allRuntimeStacks() as readonly string[]).includes(stack)
          ? undefined
          : `${ref(r)} has siteConfig.linuxFxVersion ${show(stack)}, which is not a runtime stack of the catalogue ` +
            `(a container image, another stack or none runs code no rule here has seen). Fix: set it to one of ` +
            `${allRuntimeStacks().join(", ")}, or add the stack to contract/catalogue.ts in a reviewed change.`,
      ];
    },
  ),
  resourceRule("webapp-https-only", "A web app serves HTTPS only.", isWebApp, (r) => [
    r.props.httpsOnly !== true
      ? `${ref(r)} has httpsOnly ${show(r.props.httpsOnly)}. Fix: set httpsOnly: true.`
      : undefined,
  ]),
  resourceRule("webapp-min-tls", "A web app and its SCM site accept TLS 1.2 or later only.", isWebApp, (r) =>
    (["minTlsVersion", "scmMinTlsVersion"] as const).map((k) => {
      const v = r.props.siteConfig?.[k];
      return TLS_OK.includes(v)
        ? undefined
        : `${ref(r)} has siteConfig.${k} ${show(v)}. Fix: set siteConfig.${k}: "1.2" (or "1.3").`;
    }),
  ),
  resourceRule("webapp-ftps-disabled", "A web app has FTP and FTPS turned off.", isWebApp, (r) => {
    const v = r.props.siteConfig?.ftpsState;
    return [
      v !== "Disabled"
        ? `${ref(r)} has siteConfig.ftpsState ${show(v)}. Fix: set siteConfig.ftpsState: ` +
          `"Disabled"; deploy with Entra ID tokens, not FTP.`
        : undefined,
    ];
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
        ? `${ref(r)} wears no user-assigned managed identity (identity ${show(identity)}). Fix: set identity: { ` +
          `type: "UserAssigned", userAssignedIdentities: [<identity's resource ID>] }; only a user-assigned identity ` +
          `can be trusted by a federated credential.`
        : undefined,
    ];
  }),
  resourceRule(
    "webapp-client-credentials",
    "The AzureAd__ClientCredentials__* settings of a web app, slot, settings resource or container app (any " +
      "casing, : " +
      "or __) use " +
      "the managed identity only: SourceType SignedAssertionFromManagedIdentity, a ManagedIdentityClientId, a known " +
      "TokenExchangeUrl.",
    (type) => isWebApp(type) || isSettingsResource(type) || isContainerApp(type),
    (r) => {
      const pairs = settingPairs(r.props);
      const groups = clientCredentials(pairs);
      if (groups.size === 0) {
        return [
          pairs.some(([k]) => String(k).toLowerCase() === AzureAdSetting.ClientId.toLowerCase())
            ? `${ref(r)} signs in as ${AzureAdSetting.ClientId} but has no client credential settings. Fix: set ` +
              `${AzureAdSetting.SourceType}=${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}, ` +
              `${AzureAdSetting.ManagedIdentityClientId} and ${AzureAdSetting.TokenExchangeUrl}.`
            : undefined,
        ];
      }
      return [...groups].flatMap(([n, c]) => {
        const key = (f: string) => `AzureAd__ClientCredentials__${n}__${f}`;
        const values = (f: string) => c[f] ?? [undefined];
        const shown = (f: string) => values(f).map(show).join(" and ");
        return [
          values("SourceType").some((v) => v !== SIGNED_ASSERTION_FROM_MANAGED_IDENTITY)
            ? `${ref(r)} has ${key("SourceType")} ${shown("SourceType")}. Fix: set it to ` +
              `"${SIGNED_ASSERTION_FROM_MANAGED_IDENTITY}"; no other credential source is secretless.`
            : undefined,
          values("ManagedIdentityClientId").some((v) => typeof v !== "string" || !isGuid(v))
            ? `${ref(r)} has ${key("ManagedIdentityClientId")} ${shown("ManagedIdentityClientId")}. Fix: set it to ` +
              `the client ID (a GUID) of the user-assigned identity the web app wears.`
            : undefined,
          values("TokenExchangeUrl").some((v) => !KNOWN_AUDIENCES.includes(v as string))
            ? `${ref(r)} has ${key("TokenExchangeUrl")} ${shown("TokenExchangeUrl")}. Fix: set it to the FIC's ` +
              `audience, one of ${KNOWN_AUDIENCES.join(", ")}.`
            : undefined,
          ...Object.keys(c)
            .filter((f) => !FIELDS.includes(f))
            .map(
              (f) =>
                `${ref(r)} has ${key(f)}: only ${FIELDS.join(", ")} make a managed-identity client ` +
                `credential (a certificate or secret field is a secret). Fix: remove it.`,
            ),
        ];
      });
    },
  ),
];
