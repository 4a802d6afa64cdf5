/**
 * Secret detection by a name and a value, and the rules that apply it: app settings and connection strings (on a web
 * app or a settings resource), a command resource's every string input, and every other input of every resource.
 */
import { type PlannedResource, type ResourceRule, resourceRule } from "./model";
import { TelemetrySetting } from "../../contract/telemetry";
import {
  isCommand,
  isConnectionStringsResource,
  isSettingsResource,
  isWebApp,
  ref,
  isAppHost,
  isContainerApp,
} from "./shared";

/** Words of a name: split on `__`, `_`, `-`, `.`, `:`, spaces and camelCase boundaries, lower-cased. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .split(/[\s_\-.:/]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/**
 * Found anywhere in the lower-cased name without separators: `azuread__clientsecret`, `PGPASSWORD`, `sshPrivateKey`.
 */
const SECRET_SUBSTRINGS = [
  "secret",
  "password",
  "passwd",
  "passphrase",
  "privatekey",
  "apikey",
  "certificate",
  "connectionstring",
  "instrumentationkey",
];
/** Found as a whole word. */
const SECRET_WORDS = ["pwd", "pass", "cert", "pfx", "sas"];
/** Found as the last word only, so `KeyVaultReferenceIdentity`, `…__TokenExchangeUrl`, `keySize` are not secrets. */
const SECRET_LAST_WORDS = ["key", "keys", "token", "tokens", "accesstoken", "signature", "sig"];

/**
 * Why a setting's or an input's *name* looks like it holds a secret, or undefined. Case and separators do not matter:
 * `AzureAd__ClientSecret`, `azuread__clientsecret` and `AZUREAD_CLIENT_SECRET` are the same name to .NET's
 * configuration (case-insensitive, `__` for `:`) and to this check.
 */
export function secretName(name: string): string | undefined {
  const w = words(name);
  const flat = name.toLowerCase().replace(/[^a-z0-9]/g, "");
  const sub = SECRET_SUBSTRINGS.find((x) => flat.includes(x));
  if (sub) return `its name contains "${sub}"`;
  const anywhere = w.find((x) => SECRET_WORDS.includes(x));
  if (anywhere) return `its name contains "${anywhere}"`;
  const last = w.at(-1);
  if (last && SECRET_LAST_WORDS.includes(last)) return `its name ends in "${last}"`;
  return undefined;
}

const SECRET_VALUES: readonly [RegExp, string][] = [
  [/(?:^|[;,])\s*(?:Account|SharedAccess|Primary|Secondary)Key\s*=/i, "a storage or service account key (AccountKey=)"],
  [/SharedAccessSignature/i, "a shared access signature"],
  [/(?:^|[;,])\s*InstrumentationKey\s*=/i, "an Application Insights instrumentation key"],
  [/(?:^|[;,])\s*(?:Password|Pwd)\s*=/i, "a password (Password=)"],
  [/[?&;]sig=/i, "a SAS token (sig=)"],
  [/-----BEGIN [A-Z0-9 ]*(?:PRIVATE KEY|CERTIFICATE)[A-Z ]*-----/i, "a PEM key or certificate"],
  [/\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/, "a JWT"],
  [/[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i, "a URL with a user name and password"],
  // An Entra client secret: three characters, a digit, "Q~", then 31-34 more (gitleaks rule azure-ad-client-secret;
  // Microsoft.Security.Utilities SEC101/156 AadClientAppSecret: `[…]{3}8Q~[…]{34}`).
  [/(?:^|[^\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}(?:$|[^\w~.-])/, "an Entra client secret"],
  // GitHub tokens (docs.github.com "About authentication: GitHub's token formats").
  [/\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/, "a GitHub token"],
];

/** Why a *value* looks like a secret, or undefined. */
export function secretValue(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  return SECRET_VALUES.find(([pattern]) => pattern.test(value))?.[1];
}

/** A value that carries something: not unset, null, false, "" or empty. */
const carries = (v: unknown) =>
  v !== undefined && v !== null && v !== false && v !== "" && !(Array.isArray(v) && v.length === 0);

export interface SecretFinding {
  /** Where: `connection.password`, `properties.template.resources[0]…`. */
  readonly path: string;
  readonly why: string;
}

/**
 * Every secret-looking name or value anywhere in `value`, however deep: object keys whose name looks secret and carry
 * something, `{ name, value }` pairs (app-setting lists, ARM template settings) whose name looks secret, and strings
 * whose content looks secret. `skip` leaves out paths another rule reports.
 */
export function findSecrets(value: unknown, path = "", skip: (path: string) => boolean = () => false): SecretFinding[] {
  if (skip(path)) return [];
  if (typeof value === "string") {
    const why = secretValue(value);
    return why ? [{ path: path || "(value)", why: `its value looks like ${why}` }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => findSecrets(v, `${path}[${i}]`, skip));
  if (!value || typeof value !== "object") return [];
  const found: SecretFinding[] = [];
  const o = value as Record<string, unknown>;
  if (typeof o.name === "string" && "value" in o && carries(o.value)) {
    const why = secretName(o.name);
    if (why) found.push({ path: `${path}{name: ${JSON.stringify(o.name)}}`, why });
  }
  for (const [k, v] of Object.entries(o)) {
    const at = path ? `${path}.${k}` : k;
    if (skip(at)) continue;
    // `…SettingName` keys (Easy Auth's clientSecretSettingName) hold the name of an app setting, not a secret.
    const why = /settingname$/i.test(k) ? undefined : secretName(k);
    if (why && carries(v) && typeof v !== "boolean" && typeof v !== "number") found.push({ path: at, why });
    else found.push(...findSecrets(v, at, skip));
  }
  return found;
}

/**
 * The fields of an Application Insights connection string that only say where to send: the component's
 * instrumentation key and application ID (GUIDs) and its endpoints ("Connection strings in Application Insights",
 * https://learn.microsoft.com/azure/azure-monitor/app/connection-strings, schema).
 */
const CONNECTION_STRING_GUIDS = ["instrumentationkey", "applicationid"];
const CONNECTION_STRING_ENDPOINTS = ["ingestionendpoint", "liveendpoint", "profilerendpoint", "snapshotendpoint"];
const CONNECTION_STRING_PLAIN = ["endpointsuffix", "location"];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is an Application Insights connection string made of address fields only, each of its shape. */
export function isAddressOnlyConnectionString(value: string): boolean {
  const pairs = value
    .split(";")
    .map((p) => p.trim())
    .filter(Boolean)
    .map((p) => [p.slice(0, p.indexOf("=")).trim().toLowerCase(), p.slice(p.indexOf("=") + 1).trim()] as const);
  const keys = pairs.map(([k]) => k);
  if (!keys.includes("instrumentationkey") || new Set(keys).size !== keys.length) return false;
  return pairs.every(([k, v]) => {
    if (CONNECTION_STRING_GUIDS.includes(k)) return GUID.test(v);
    if (CONNECTION_STRING_ENDPOINTS.includes(k)) return /^https:\/\/[a-z0-9.-]+(?::443)?\/?$/i.test(v);
    return CONNECTION_STRING_PLAIN.includes(k) && /^[a-z0-9.-]+$/i.test(v);
  });
}

/**
 * The one secret-looking setting this project writes on purpose: `APPLICATIONINSIGHTS_CONNECTION_STRING` (that exact
 * name, as the exporter reads it) holding an address-only connection string, or a value not known yet. It is not a
 * secret only because its component refuses the key it carries; `appinsights-connection-string-entra-only` checks
 * that across the stack, and flags it otherwise.
 */
const isEntraTelemetryAddress = (name: string, value: unknown) =>
  name === TelemetrySetting.ConnectionString && (typeof value !== "string" || isAddressOnlyConnectionString(value));

/** The secret-looking entries of a name → value map, as messages (a container app's environment included). */
export function secretEntries(r: PlannedResource, what: string, entries: [string, unknown][]): string[] {
  return entries.flatMap(([name, value]) => {
    if (what === "app setting" && isAppHost(r.type) && isEntraTelemetryAddress(name, value)) return [];
    const byName = secretName(name);
    const byValue = secretValue(value);
    const why = [byName, byValue && `its value looks like ${byValue}`].filter(Boolean).join(" and ");
    return why
      ? [
          `${ref(r)} has ${what} "${name}" that looks like a secret: ${why}. Fix: remove it; authenticate with the ` +
            `web app's user-assigned managed identity (Entra ID tokens) ` +
            `instead of a key, password or connection-string ` +
            `secret.`,
        ]
      : [];
  });
}

/** Paths the settings rule reports, left out of the generic scan so each secret is reported once. */
const SETTINGS_PATHS = ["siteConfig.appSettings", "siteConfig.connectionStrings", "properties"];

export const secretRules: readonly ResourceRule[] = [
  resourceRule(
    "no-secret-settings",
    "No app setting or connection string whose name or value looks like a secret, on a web app (or slot) or a " +
      "settings resource.",
    (type) => isWebApp(type) || isSettingsResource(type) || isConnectionStringsResource(type),
    (r) => {
      if (isSettingsResource(r.type)) return secretEntries(r, "app setting", Object.entries(r.props.properties ?? {}));
      if (isConnectionStringsResource(r.type)) {
        const properties: Record<string, { value?: unknown }> = r.props.properties ?? {};
        const entries = Object.entries(properties).map(([name, c]): [string, unknown] => [name, c?.value ?? c]);
        return secretEntries(r, "connection string", entries);
      }
      const connectionStrings: { name: string; connectionString?: unknown }[] =
        r.props.siteConfig?.connectionStrings ?? [];
      const appSettings: { name: string; value: unknown }[] = r.props.siteConfig?.appSettings ?? [];
      return [
        ...secretEntries(
          r,
          "app setting",
          appSettings.map((s) => [s.name, s.value]),
        ),
        ...secretEntries(
          r,
          "connection string",
          connectionStrings.map((c) => [c.name, c.connectionString]),
        ),
      ];
    },
  ),
  resourceRule(
    "no-secret-command-inputs",
    "A command resource carries no secret in any input: create/update/delete, stdin, environment, connection, " +
      "triggers.",
    isCommand,
    (r) =>
      findSecrets(r.props).map(
        (f) =>
          `${ref(r)} has input "${f.path}" that looks like a secret: ${f.why}. Fix: remove it; command inputs are ` +
          `stored in state and shown in diffs. Let the script sign in with a workload identity (az login ` +
          `--federated-token / managed identity) instead.`,
      ),
  ),
  resourceRule(
    "no-secret-inputs",
    "No input of any resource (providers included) has a secret-looking name or value, however deeply nested.",
    (type) => !isCommand(type),
    (r) => {
      const settings = isWebApp(r.type) || isSettingsResource(r.type) || isConnectionStringsResource(r.type);
      // A container app's containers are its settings: containerapp-no-secrets reports their environment.
      const skip = (path: string) =>
        (settings && SETTINGS_PATHS.includes(path)) || (isContainerApp(r.type) && path === "template.containers");
      return findSecrets(r.props, "", skip).map(
        (f) =>
          `${ref(r)} has input "${f.path}" that looks like a secret: ${f.why}. Fix: remove it; inputs are stored in ` +
          `state. Use a managed identity or workload identity federation (Entra ID tokens) instead of a secret, ` +
          `key, password or certificate.`,
      );
    },
  ),
];
