/**
 * Adopting an existing app registration and an existing Linux web app: what the stack checks about them before it adds
 * anything, and the two read-modify-write edits it makes to objects it does not own. Pure: no I/O, and no setting
 * value is ever put into a message or a record (only names).
 *
 * Why read-modify-write: an app registration's `web.redirectUris` and a site's app settings are each written as one
 * whole collection (Graph `PATCH /applications/{id}` with `web.redirectUris`; ARM `PUT …/config/appsettings`), and
 * azuread's `ApplicationRedirectUris` owns every URI of its type. The deploy/ scripts read the collection, change
 * only the stack's own entries with the functions below, and write it back.
 */
import {
  CredentialSourceType,
  type SettingsChange,
  credentialEntries,
  withManagedIdentityFirst,
} from "./credential-list";
import { AzureAdSetting, SIGNED_ASSERTION_FROM_MANAGED_IDENTITY, isGuid } from "./settings";

/** The configuration keys that adopt existing objects (Pulumi.yaml, components/stack-config-keys.ts). */
export const AdoptKey = {
  AppClientId: "existingAppClientId",
  WebAppResourceGroup: "existingWebAppResourceGroup",
  WebAppName: "existingWebAppName",
} as const;

/** What the stack needs to know about an adopted app registration (azuread `getApplication`). */
export interface AdoptedRegistrationFacts {
  readonly clientId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly signInAudience: string;
}

/** What the stack needs to know about an adopted web app (azure-native `web.getWebApp`). */
export interface AdoptedSiteFacts {
  readonly id: string;
  readonly name: string;
  readonly kind?: string;
  readonly location: string;
  readonly defaultHostName: string;
  /** Set for a site on an Azure Arc custom location (`extendedLocation`). */
  readonly extendedLocation?: unknown;
  /** The plan's SKU tier as the site reports it (`Free`, `Basic`, …): reported, not refused (see siteProblems). */
  readonly sku?: string;
}

/** One problem with an adopted object, under the configuration key that names it. */
export interface AdoptProblem {
  readonly key: string;
  readonly message: string;
}

/**
 * Whether the stack can add its federated credential and redirect URI to the registration and sign users in with it.
 * A registration is looked up in the azuread provider's tenant only, so one in another tenant is "not found" (the
 * caller says so); here: the audience. The stack's `signInAudience` is what the app (and the plan) expect; a
 * registration whose audience differs signs in other users than the stack says, or refuses the ones it expects
 * (AADSTS50194 for a single-tenant app on the /common endpoint), so the two must match.
 */
export function registrationProblems(app: AdoptedRegistrationFacts, signInAudience: string): AdoptProblem[] {
  if (app.signInAudience.toLowerCase() === signInAudience.toLowerCase()) return [];
  return [
    {
      key: AdoptKey.AppClientId,
      message:
        `names registration "${oneLine(app.displayName)}" (${app.clientId}), whose signInAudience is ` +
        `${app.signInAudience}, but this stack's signInAudience is ${signInAudience}. The stack never changes an ` +
        `adopted registration's audience: set signInAudience to ${app.signInAudience} ` +
        `(pulumi config set signInAudience ${app.signInAudience}), or change the registration's audience yourself ` +
        "(Entra admin center > App registrations > Authentication).",
    },
  ];
}

/** Azure's display name of a region ("West Europe") and its programmatic name ("westeurope") compare equal. */
export function sameRegion(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[\s_-]/g, "");
  return norm(a) === norm(b);
}

/**
 * Whether the site can wear the stack's user-assigned identity and run the secretless chain:
 * - Linux only (`kind` contains `linux`): the settings are Linux's `AzureAd__…` names (a Windows site reads
 *   `AzureAd:…`), and the project's guardrails and deploy step are for Linux sites.
 * - A web app (`app`), not a function app.
 * - Not on an Azure Arc custom location: "Managed identities aren't available for apps deployed in Azure Arc"
 *   (learn.microsoft.com/azure/app-service/overview-managed-identity, note at the top; MicrosoftDocs/azure-docs
 *   articles/app-service/overview-managed-identity.md).
 * - In the stack's `location`, where the stack creates the identity.
 * That article restricts managed identities by nothing else: no pricing tier (Free and Shared included) and no region
 * is excluded, so neither is refused here; the tier is reported by the plan only.
 */
export function siteProblems(site: AdoptedSiteFacts, location: string): AdoptProblem[] {
  const key = AdoptKey.WebAppName;
  const kind = (site.kind ?? "")
    .toLowerCase()
    .split(",")
    .map((k) => k.trim());
  const problems: string[] = [];
  if (!kind.includes("linux")) {
    problems.push(
      `names site ${site.name}, whose kind is "${site.kind ?? ""}": a Windows site. The stack adopts Linux web ` +
        "apps only (its settings are Linux's AzureAd__… names). Adopt a Linux site, or create one (unset " +
        "existingWebAppName and existingWebAppResourceGroup).",
    );
  } else if (kind.includes("functionapp")) {
    problems.push(`names ${site.name}, a function app ("${site.kind}"); adopt a web app (kind app,linux).`);
  }
  if (site.extendedLocation !== undefined && site.extendedLocation !== null) {
    problems.push(
      `names site ${site.name}, which runs on an Azure Arc custom location, where App Service has no managed ` +
        "identities (learn.microsoft.com/azure/app-service/overview-managed-identity). Adopt a site in an Azure " +
        "region.",
    );
  }
  if (!sameRegion(site.location, location)) {
    problems.push(
      `names site ${site.name} in ${site.location}, but location is ${location}; the stack creates the managed ` +
        `identity in location. Set location to the site's region (pulumi config set location ` +
        `${site.location.toLowerCase().replace(/\s/g, "")}).`,
    );
  }
  return problems.map((message) => ({ key, message }));
}

/** The `AzureAd__…` values the stack writes on an adopted site. */
export interface AdoptedAzureAd {
  readonly instance: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly callbackPath: string;
  readonly managedIdentityClientId: string;
  readonly tokenExchangeUrl: string;
}

/** The names and fixes of the four identity settings a site must already agree on, or not have. */
const IDENTITY_SETTINGS: readonly [keyof AdoptedAzureAd, string, string][] = [
  ["instance", AzureAdSetting.Instance, "the cloud (config cloud)"],
  ["tenantId", AzureAdSetting.TenantId, "the azuread provider's tenant (azuread:tenantId)"],
  ["clientId", AzureAdSetting.ClientId, AdoptKey.AppClientId],
  ["callbackPath", AzureAdSetting.CallbackPath, "callbackPath"],
];

/** Thrown when the site's settings disagree with the stack's; names the setting, never its value. */
export class AdoptConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AdoptConflictError";
  }
}

/** What adopting a site's settings changes, and which names the stack added (kept, as names only, for the undo). */
export interface AdoptSettingsPlan {
  readonly change: SettingsChange;
  /** Identity settings that were absent and are added: the undo removes exactly these. */
  readonly added: readonly string[];
}

/**
 * The change that makes an adopted site present the managed identity first: the four identity settings added where
 * absent (a site that already has one with another value is refused, since overwriting it would point the app at
 * another registration, tenant or callback and the undo could not restore it), and the managed-identity credential
 * at index 0 with every existing credential kept after it in its order (contract/credential-list.ts).
 */
export function adoptSettings(existing: Readonly<Record<string, string>>, want: AdoptedAzureAd): AdoptSettingsPlan {
  const set: Record<string, string> = {};
  const added: string[] = [];
  for (const [field, name, fix] of IDENTITY_SETTINGS) {
    const found = Object.keys(existing).find((k) => k.toLowerCase() === name.toLowerCase());
    if (found === undefined) {
      set[name] = want[field];
      added.push(name);
    } else if (!sameSetting(field, existing[found]!, want[field])) {
      throw new AdoptConflictError(
        `the site's ${found} differs from the stack's (${fix}): the app would sign in with another ` +
          `${field === "clientId" ? "registration" : field === "tenantId" ? "tenant" : field}. ` +
          `Make ${fix} match the site's ${found}, or correct the setting on the site, then run again.`,
      );
    }
  }
  const credentials = withManagedIdentityFirst(existing, {
    managedIdentityClientId: want.managedIdentityClientId,
    tokenExchangeUrl: want.tokenExchangeUrl,
  });
  return { change: { set: { ...set, ...credentials.set }, remove: credentials.remove }, added };
}

/**
 * The undo of {@link adoptSettings} on destroy: the managed-identity entry of `managedIdentityClientId` leaves the
 * credential list (the others move up one, in their order) and the identity settings the stack `added` are removed.
 * Every other setting, and every setting that was there before the stack, stays.
 */
export function unadoptSettings(
  existing: Readonly<Record<string, string>>,
  added: readonly string[],
  managedIdentityClientId: string,
): SettingsChange {
  const entries = credentialEntries(existing);
  const ours = (fields: Readonly<Record<string, string>>) =>
    (fields.SourceType ?? "").toLowerCase() === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY.toLowerCase() &&
    (fields.ManagedIdentityClientId ?? "").toLowerCase() === managedIdentityClientId.toLowerCase();
  const set: Record<string, string> = {};
  const remove = new Set<string>();
  if (entries.some((e) => ours(e.fields))) {
    const kept = entries.filter((e) => !ours(e.fields));
    const wanted: Record<string, string> = {};
    kept.forEach((e, index) => {
      for (const [f, v] of Object.entries(e.fields)) wanted[`AzureAd__ClientCredentials__${index}__${f}`] = v;
    });
    for (const [name, value] of Object.entries(wanted)) if (existing[name] !== value) set[name] = value;
    for (const name of entries.flatMap((e) => e.settingNames)) if (!(name in wanted)) remove.add(name);
  }
  const identityNames = new Set(IDENTITY_SETTINGS.map(([, name]) => name.toLowerCase()));
  for (const name of added) {
    if (!identityNames.has(name.toLowerCase())) continue; // a record names only what adoptSettings adds
    const found = Object.keys(existing).find((k) => k.toLowerCase() === name.toLowerCase());
    if (found !== undefined) remove.add(found);
  }
  return { set, remove: [...remove].sort() };
}

/** Whether a credential list still presents `managedIdentityClientId` first (what `adoptSettings` makes true). */
export function presentsIdentityFirst(existing: Readonly<Record<string, string>>, managedIdentityClientId: string) {
  const first = credentialEntries(existing)[0]?.fields;
  return (
    first?.SourceType?.toLowerCase() === CredentialSourceType.SignedAssertionFromManagedIdentity.toLowerCase() &&
    first.ManagedIdentityClientId?.toLowerCase() === managedIdentityClientId.toLowerCase()
  );
}

function sameSetting(field: keyof AdoptedAzureAd, a: string, b: string): boolean {
  if (field === "instance") return a.trim().replace(/\/+$/, "").toLowerCase() === b.replace(/\/+$/, "").toLowerCase();
  if (field === "callbackPath") return a.trim() === b;
  return a.trim().toLowerCase() === b.toLowerCase();
}

/**
 * The registration's Web redirect URIs with the stack's `uri` added, or undefined when it is already there (then the
 * stack did not add it and must never remove it). Graph compares redirect URIs exactly, so this does too.
 */
export function withRedirectUri(uris: readonly string[], uri: string): string[] | undefined {
  return uris.includes(uri) ? undefined : [...uris, uri];
}

/** The registration's Web redirect URIs without the stack's `uri`; every other URI kept in its order. */
export function withoutRedirectUri(uris: readonly string[], uri: string): string[] {
  return uris.filter((u) => u !== uri);
}

/**
 * What a deploy/ adopt script keeps in its command's stdout (so in Pulumi state) for its undo: names and flags only,
 * never a value. Written as the last line, `adopt-record: {json}`, and read back from `PULUMI_COMMAND_STDOUT`.
 */
export interface AdoptRecord {
  /** Identity settings the create step added to the site (adopt-site.ts). */
  readonly addedSettings?: readonly string[];
  /** True when the create step added the redirect URI (adopt-redirect-uri.ts); false when it was already there. */
  readonly addedRedirectUri?: boolean;
  /** True when the create step added the identity to the site (adopt-site.ts); false when the site wore it. */
  readonly addedIdentity?: boolean;
}

export const RECORD_PREFIX = "adopt-record: ";

/** The record line a create step prints last. */
export function recordLine(record: AdoptRecord): string {
  return `${RECORD_PREFIX}${JSON.stringify(record)}`;
}

/**
 * The record from a previous run's stdout (its last `adopt-record:` line); undefined without one. Only the known
 * fields with the right shapes are taken: the stdout is the script's own, but state can be edited.
 */
export function readRecord(stdout: string | undefined): AdoptRecord | undefined {
  // The scripts prefix every line with their name (`adopt-site: adopt-record: {…}`).
  const line = (stdout ?? "")
    .split(/\r?\n/)
    .reverse()
    .find((l) => l.includes(RECORD_PREFIX));
  if (!line) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.slice(line.indexOf(RECORD_PREFIX) + RECORD_PREFIX.length));
  } catch {
    return undefined;
  }
  const p = (parsed ?? {}) as Record<string, unknown>;
  const names = Array.isArray(p.addedSettings)
    ? p.addedSettings.filter((n): n is string => typeof n === "string" && /^[A-Za-z0-9_.:-]{1,256}$/.test(n))
    : undefined;
  return {
    ...(names ? { addedSettings: names } : {}),
    ...(typeof p.addedRedirectUri === "boolean" ? { addedRedirectUri: p.addedRedirectUri } : {}),
    ...(typeof p.addedIdentity === "boolean" ? { addedIdentity: p.addedIdentity } : {}),
  };
}

/** A client ID to adopt: the registration's application (client) ID GUID. */
export function appClientIdProblem(value: string): string | undefined {
  return isGuid(value)
    ? undefined
    : `"${value.slice(0, 80)}" is not an application (client) ID; use the registration's GUID ` +
        "(az ad app list --display-name <name> --query [].appId -o tsv).";
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, 120);
}
