/**
 * Secret detection by a setting's name and value, and the two rules that apply it: app settings and connection
 * strings (on a web app or a settings resource), and a command resource's scripts and environment.
 */
import { type PlannedResource, type ResourceRule, resourceRule } from "./model";
import { appSettingsOf, isCommand, isConnectionStringsResource, isSettingsResource, isWebApp, ref } from "./shared";

/** Words of a setting name: split on `__`, `_`, `-`, `.`, `:` and camelCase boundaries, lower-cased. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_\-.:]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Why a setting *name* looks like it holds a secret, or undefined. `secret`/`password`/`certificate` anywhere; `key`
 * and `token` only as the last word, so `ApiKey` and `GITHUB_TOKEN` are caught but `KeyVaultReferenceIdentity`,
 * `…__TokenExchangeUrl` and `…__ManagedIdentityClientId` are not.
 */
export function secretName(name: string): string | undefined {
  const w = words(name);
  const anywhere = w.find((x) => ["secret", "secrets", "password", "passwd", "pwd", "certificate", "cert", "pfx", "privatekey", "sas"].includes(x));
  if (anywhere) return `its name contains "${anywhere}"`;
  const last = w.at(-1);
  if (last && ["key", "keys", "apikey", "token", "accesstoken", "signature"].includes(last)) return `its name ends in "${last}"`;
  return undefined;
}

const SECRET_VALUES: readonly [RegExp, string][] = [
  [/(?:^|;)\s*AccountKey\s*=/i, "a storage account key (AccountKey=)"],
  [/(?:^|;)\s*SharedAccessKey\s*=/i, "a shared access key (SharedAccessKey=)"],
  [/SharedAccessSignature/i, "a shared access signature"],
  [/(?:^|;)\s*(?:Password|Pwd)\s*=/i, "a password (Password=)"],
  [/[?&]sig=/i, "a SAS token (sig=)"],
  [/-----BEGIN [A-Z ]*(?:PRIVATE KEY|CERTIFICATE)-----/, "a PEM key or certificate"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, "a JWT"],
  [/^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a user name and password"],
];

/** Why a *value* looks like a secret, or undefined. */
export function secretValue(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return SECRET_VALUES.find(([pattern]) => pattern.test(value))?.[1];
}

/** The secret-looking entries of a name → value map, as messages. */
function secretEntries(r: PlannedResource, what: string, entries: [string, unknown][]): string[] {
  return entries.flatMap(([name, value]) => {
    const byName = secretName(name);
    const byValue = secretValue(value);
    const why = [byName, byValue && `its value looks like ${byValue}`].filter(Boolean).join(" and ");
    return why
      ? [`${ref(r)} has ${what} "${name}" that looks like a secret: ${why}. Fix: remove it; authenticate with the web app's user-assigned managed identity (Entra ID tokens) instead of a key, password or connection-string secret.`]
      : [];
  });
}

export const secretRules: readonly ResourceRule[] = [
  resourceRule(
    "no-secret-settings",
    "No app setting or connection string whose name or value looks like a secret, on a web app or a settings resource.",
    (type) => isWebApp(type) || isSettingsResource(type) || isConnectionStringsResource(type),
    (r) => {
      if (isSettingsResource(r.type)) return secretEntries(r, "app setting", Object.entries(r.props.properties ?? {}));
      if (isConnectionStringsResource(r.type)) {
        const properties: Record<string, { value?: unknown }> = r.props.properties ?? {};
        return secretEntries(r, "connection string", Object.entries(properties).map(([name, c]) => [name, c?.value]));
      }
      const connectionStrings: { name: string; connectionString?: unknown }[] = r.props.siteConfig?.connectionStrings ?? [];
      return [
        ...secretEntries(r, "app setting", Object.entries(appSettingsOf(r.props) ?? {})),
        ...secretEntries(r, "connection string", connectionStrings.map((c) => [c.name, c.connectionString])),
      ];
    },
  ),
  resourceRule("no-secret-command-inputs", "A command resource's scripts and environment carry no secret.", isCommand, (r) => [
    ...(["create", "update", "delete"] as const).map((k) => {
      const why = secretValue(r.props[k]);
      return why ? `${ref(r)} has a "${k}" command that contains ${why}. Fix: let the script sign in with a workload identity (az login --federated-token / managed identity) instead.` : undefined;
    }),
    ...secretEntries(r, "environment variable", Object.entries(r.props.environment ?? {})),
  ]),
];
