/**
 * Microsoft.Identity.Web's ordered client-credential list as flat App Service setting names, and the two edits a
 * migration off a client secret makes to it. Pure: no I/O, and no value is ever put into a message.
 *
 * Microsoft.Identity.Web reads `AzureAd:ClientCredentials` as an array of credential descriptions and uses the first
 * one that works ("Specify multiple credentials with automatic fallback",
 * https://learn.microsoft.com/entra/msidweb/authentication/credentials-overview). On Linux App Service the `:` of a
 * configuration key is written `__` and an array item is its index, so entry `i`'s field `F` is the setting
 * `AzureAd__ClientCredentials__<i>__<F>`. ASP.NET configuration keys are case-insensitive and array items are bound in
 * the numeric order of their indexes, gaps allowed; this module reads them the same way.
 *
 * Two older forms also carry credentials and are understood as existing secret credentials: the single
 * `AzureAd__ClientSecret`, and the `AzureAd__ClientCertificates__<i>__<F>` array (a certificate description has the
 * same fields as a credential description).
 */
import { SIGNED_ASSERTION_FROM_MANAGED_IDENTITY } from "./settings";

/** A change to a site's app settings: only these names are touched, every other setting is kept as it is. */
export interface SettingsChange {
  /** Setting name -> new value. */
  readonly set: Readonly<Record<string, string>>;
  /** Setting names to delete. */
  readonly remove: readonly string[];
}

/** The setting-name prefix of the ordered credential list. */
export const CLIENT_CREDENTIALS_PREFIX = "AzureAd__ClientCredentials__";
/** The legacy single client secret. */
export const LEGACY_CLIENT_SECRET = "AzureAd__ClientSecret";
/** The legacy certificate array's prefix. */
export const LEGACY_CLIENT_CERTIFICATES_PREFIX = "AzureAd__ClientCertificates__";

/**
 * The `SourceType` values Microsoft.Identity.Web's `CredentialSource` enum names
 * (https://learn.microsoft.com/dotnet/api/microsoft.identity.abstractions.credentialsource). The two signed-assertion
 * sources that need no secret or certificate in the app are the only secretless ones; every other source is a client
 * secret or a certificate (or a signed assertion made with a Key Vault certificate).
 */
export const CredentialSourceType = {
  SignedAssertionFromManagedIdentity: SIGNED_ASSERTION_FROM_MANAGED_IDENTITY,
  SignedAssertionFilePath: "SignedAssertionFilePath",
  ClientSecret: "ClientSecret",
  KeyVault: "KeyVault",
  Base64Encoded: "Base64Encoded",
  Path: "Path",
  StoreWithThumbprint: "StoreWithThumbprint",
  StoreWithDistinguishedName: "StoreWithDistinguishedName",
  SignedAssertionFromVault: "SignedAssertionFromVault",
  Certificate: "Certificate",
} as const;

const SECRETLESS_SOURCES = new Set(
  [CredentialSourceType.SignedAssertionFromManagedIdentity, CredentialSourceType.SignedAssertionFilePath].map((s) =>
    s.toLowerCase(),
  ),
);

/** Fields of a credential description whose value is itself a secret. */
const SECRET_FIELDS = new Set(["clientsecret", "certificatepassword", "base64encodedvalue"]);

/** One credential of the list as read from the settings: its fields by their canonical-case names. */
export interface CredentialEntry {
  /** Where it came from: `ClientCredentials` index, a legacy certificate index, or the legacy single secret. */
  readonly origin: { readonly list: "ClientCredentials" | "ClientCertificates"; readonly index: number } | "legacy";
  /** Field name -> value, e.g. `SourceType`, `ManagedIdentityClientId`, `ClientSecret`. */
  readonly fields: Readonly<Record<string, string>>;
  /** The setting names this entry was read from (as spelled on the site). */
  readonly settingNames: readonly string[];
}

/** The settings' credential list in the order Microsoft.Identity.Web tries it, legacy forms after the list. */
export function credentialEntries(existing: Readonly<Record<string, string>>): CredentialEntry[] {
  const lists = { ClientCredentials: new Map<number, Mutable>(), ClientCertificates: new Map<number, Mutable>() };
  let legacy: Mutable | undefined;
  for (const [name, value] of Object.entries(existing)) {
    const lower = name.toLowerCase();
    if (lower === LEGACY_CLIENT_SECRET.toLowerCase()) {
      legacy = { fields: { SourceType: CredentialSourceType.ClientSecret, ClientSecret: value }, names: [name] };
      continue;
    }
    for (const [list, prefix] of [
      ["ClientCredentials", CLIENT_CREDENTIALS_PREFIX],
      ["ClientCertificates", LEGACY_CLIENT_CERTIFICATES_PREFIX],
    ] as const) {
      if (!lower.startsWith(prefix.toLowerCase())) continue;
      const match = /^(\d{1,4})__([A-Za-z0-9_]+)$/.exec(name.slice(prefix.length));
      if (!match) continue;
      const index = Number(match[1]);
      const entry = lists[list].get(index) ?? { fields: {}, names: [] };
      entry.fields[canonicalField(match[2]!)] = value;
      entry.names.push(name);
      lists[list].set(index, entry);
    }
  }
  const ordered = (list: "ClientCredentials" | "ClientCertificates"): CredentialEntry[] =>
    [...lists[list].entries()]
      .sort(([a], [b]) => a - b)
      .map(([index, e]) => ({ origin: { list, index }, fields: e.fields, settingNames: e.names }));
  const entries = [...ordered("ClientCredentials"), ...ordered("ClientCertificates")];
  if (legacy) entries.push({ origin: "legacy", fields: legacy.fields, settingNames: legacy.names });
  return entries;
}

interface Mutable {
  fields: Record<string, string>;
  names: string[];
}

/** The entry's `SourceType`, or undefined when it has none. */
export function sourceTypeOf(entry: Pick<CredentialEntry, "fields">): string | undefined {
  return entry.fields.SourceType;
}

/**
 * True for an entry that holds or points at a secret or a certificate: every source but the two secretless
 * signed-assertion ones, an entry without a source type, and any entry carrying a secret field.
 */
export function isSecretCredential(entry: Pick<CredentialEntry, "fields">): boolean {
  const source = sourceTypeOf(entry)?.toLowerCase();
  if (Object.keys(entry.fields).some((f) => SECRET_FIELDS.has(f.toLowerCase()))) return true;
  return source === undefined || !SECRETLESS_SOURCES.has(source);
}

/**
 * The managed-identity entry at index 0 (`SourceType=SignedAssertionFromManagedIdentity`, `ManagedIdentityClientId`,
 * `TokenExchangeUrl`), then every existing credential in its order (the legacy forms become list entries after the
 * list, so the list alone decides the order). An existing entry for the same managed identity is moved, not doubled.
 * Idempotent: applied to its own result it changes nothing.
 */
export function withManagedIdentityFirst(
  existing: Readonly<Record<string, string>>,
  mi: { managedIdentityClientId: string; tokenExchangeUrl: string },
): SettingsChange {
  const first = {
    SourceType: CredentialSourceType.SignedAssertionFromManagedIdentity,
    ManagedIdentityClientId: mi.managedIdentityClientId,
    TokenExchangeUrl: mi.tokenExchangeUrl,
  };
  const rest = credentialEntries(existing)
    .filter((e) => !isSameManagedIdentity(e, mi.managedIdentityClientId))
    .map((e) => e.fields);
  return rewrite(existing, [first, ...rest]);
}

/** Drops every secret-based entry (client secret, certificates, legacy `AzureAd__ClientSecret`), renumbers the rest. */
export function withoutSecretCredentials(existing: Readonly<Record<string, string>>): SettingsChange {
  const kept = credentialEntries(existing)
    .filter((e) => !isSecretCredential(e))
    .map((e) => e.fields);
  return rewrite(existing, kept);
}

/** The secret-based entries a {@link withoutSecretCredentials} would drop, for a report: index and source type only. */
export function secretCredentialSummary(existing: Readonly<Record<string, string>>): string[] {
  return credentialEntries(existing)
    .filter(isSecretCredential)
    .map((e) => `${describeOrigin(e)}: ${sourceTypeOf(e) ?? "no SourceType"}`);
}

/** Where an entry sits, as a person reads it: `ClientCredentials[1]`, `ClientCertificates[0]`, `ClientSecret`. */
export function describeOrigin(entry: Pick<CredentialEntry, "origin">): string {
  return entry.origin === "legacy" ? LEGACY_CLIENT_SECRET : `AzureAd__${entry.origin.list}[${entry.origin.index}]`;
}

const KEY_VAULT_REFERENCE = /^\s*@Microsoft\.KeyVault\(/i;
/** Setting names that, by the usual naming, hold a secret (a password, key, connection string or token). */
const SECRET_NAME = /(secret|password|passwd|pwd|connectionstring|accesskey|apikey|sas|token|instrumentationkey)$/i;

/**
 * Names (never values) of settings that hold secrets or Key Vault references (`@Microsoft.KeyVault(...)`,
 * https://learn.microsoft.com/azure/app-service/app-service-key-vault-references): every field of a secret-based
 * credential entry that carries a secret, the legacy `AzureAd__ClientSecret`, and settings named like a secret.
 * Sorted, for a stable report.
 */
export function secretSettingNames(existing: Readonly<Record<string, string>>): string[] {
  const names = new Set<string>();
  for (const entry of credentialEntries(existing)) {
    for (const name of entry.settingNames) {
      const field = name.slice(name.lastIndexOf("__") + 2).toLowerCase();
      if (SECRET_FIELDS.has(field) || entry.origin === "legacy") names.add(name);
    }
  }
  for (const [name, value] of Object.entries(existing)) {
    if (KEY_VAULT_REFERENCE.test(value) || SECRET_NAME.test(name.replace(/[_:.-]/g, ""))) names.add(name);
  }
  return [...names].sort();
}

function isSameManagedIdentity(entry: CredentialEntry, clientId: string): boolean {
  return (
    sourceTypeOf(entry)?.toLowerCase() === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY.toLowerCase() &&
    (entry.fields.ManagedIdentityClientId ?? "").toLowerCase() === clientId.toLowerCase()
  );
}

/** The change that makes the site's credential settings exactly `list` (numbered from 0), nothing else touched. */
function rewrite(existing: Readonly<Record<string, string>>, list: readonly Readonly<Record<string, string>>[]) {
  const wanted: Record<string, string> = {};
  list.forEach((fields, index) => {
    for (const [field, value] of Object.entries(fields))
      wanted[`${CLIENT_CREDENTIALS_PREFIX}${index}__${field}`] = value;
  });
  const current = credentialEntries(existing).flatMap((e) => e.settingNames);
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(wanted)) if (existing[name] !== value) set[name] = value;
  const remove = current.filter((name) => !(name in wanted));
  // A name spelled in another case than the one we write is removed and written afresh.
  return { set, remove: [...new Set(remove)].sort() } satisfies SettingsChange;
}

/** Field names as Microsoft.Identity.Web spells them, so `sourcetype` and `SourceType` are one field. */
const KNOWN_FIELDS = [
  "SourceType",
  "ManagedIdentityClientId",
  "TokenExchangeUrl",
  "ClientSecret",
  "CertificateDiskPath",
  "CertificatePassword",
  "CertificateThumbprint",
  "CertificateDistinguishedName",
  "CertificateStorePath",
  "KeyVaultUrl",
  "KeyVaultCertificateName",
  "Base64EncodedValue",
  "SignedAssertionFileDiskPath",
  "CustomSignedAssertionProviderName",
];
const CANONICAL = new Map(KNOWN_FIELDS.map((f) => [f.toLowerCase(), f]));

function canonicalField(field: string): string {
  return CANONICAL.get(field.toLowerCase()) ?? field;
}
