/**
 * What each phase would change, decided from what was read (pure: no I/O). The phases print these plans before they
 * act, `inspect` prints them instead of acting, and the permission checks derive the actions they need from them.
 * Values of settings are used to compute changes but never appear in a description.
 */
import {
  type CredentialEntry,
  credentialEntries,
  describeOrigin,
  isSecretCredential,
  type SettingsChange,
  secretSettingNames,
  sourceTypeOf,
  withManagedIdentityFirst,
  withoutSecretCredentials,
} from "../contract/credential-list";
import { SIGNED_ASSERTION_FROM_MANAGED_IDENTITY } from "../contract/settings";
import { SiteAction, type SiteDescription, type SiteIdentity } from "../deploy/arm-site";
import type { ApplicationInfo, FicInfo } from "./graph-application";

/** Everything the phases read before they act. Settings values stay in memory only. */
export interface Observed {
  readonly app: ApplicationInfo;
  readonly fics: readonly FicInfo[];
  readonly site: SiteDescription;
  readonly siteIdentity: SiteIdentity;
  readonly settings: Readonly<Record<string, string>>;
  /** The user-assigned identity, or undefined when it does not exist yet. */
  readonly identity: { readonly clientId: string; readonly principalId: string; readonly tenantId: string } | undefined;
}

export interface Target {
  readonly identityId: string;
  /** `{instance}{tenant}/v2.0`. */
  readonly issuer: string;
  readonly audience: string;
  readonly ficName: string;
}

export interface AddPlan {
  readonly createIdentity: boolean;
  readonly attachIdentity: boolean;
  readonly createFic: boolean;
  /** Undefined while the identity does not exist (its client id goes into the settings). */
  readonly settings: SettingsChange | undefined;
  readonly problems: readonly string[];
}

/** The FIC that trusts `principalId` from `issuer` for `audience`, if the registration has it. */
export function matchingFic(fics: readonly FicInfo[], target: Target, principalId: string): FicInfo | undefined {
  return fics.find(
    (f) => f.issuer === target.issuer && f.subject === principalId && f.audiences.includes(target.audience),
  );
}

export function planAdd(o: Observed, target: Target): AddPlan {
  const problems: string[] = [];
  if (!/linux/i.test(o.site.kind)) {
    problems.push(
      `the site is not a Linux web app (kind "${o.site.kind}"): this command writes Linux App Service setting names`,
    );
  }
  const attached = o.siteIdentity.userAssignedIdentityIds.some(
    (id) => id.toLowerCase() === target.identityId.toLowerCase(),
  );
  const fic = o.identity ? matchingFic(o.fics, target, o.identity.principalId) : undefined;
  const clash = o.fics.find((f) => f.name.toLowerCase() === target.ficName.toLowerCase() && f !== fic);
  if (clash && !fic) {
    problems.push(
      `the registration already has a federated credential named "${clash.name}" that trusts another subject or ` +
        "issuer: pass --fic-name with another name, or correct that credential",
    );
  }
  if (!fic && o.fics.length >= 20)
    problems.push("the registration already has 20 federated credentials, Entra's limit");
  return {
    createIdentity: o.identity === undefined,
    attachIdentity: !attached,
    createFic: fic === undefined,
    settings: o.identity
      ? withManagedIdentityFirst(o.settings, {
          managedIdentityClientId: o.identity.clientId,
          tokenExchangeUrl: target.audience,
        })
      : undefined,
    problems,
  };
}

export function isEmpty(change: SettingsChange | undefined): boolean {
  return change !== undefined && Object.keys(change.set).length === 0 && change.remove.length === 0;
}

/** The site's credential list as lines: index, source type, and the identity's client id; never a secret. */
export function describeCredentials(settings: Readonly<Record<string, string>>): string[] {
  const entries = credentialEntries(settings);
  if (entries.length === 0) return ["(no AzureAd__ClientCredentials and no AzureAd__ClientSecret on the site)"];
  return entries.map((e) => {
    const mi = sourceTypeOf(e) === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY;
    const detail = mi ? ` (identity ${e.fields.ManagedIdentityClientId ?? "not named"})` : "";
    const secret = isSecretCredential(e) ? " [secret]" : "";
    return `${describeOrigin(e)}: ${sourceTypeOf(e) ?? "no SourceType"}${detail}${secret}`;
  });
}

/** The first credential of the list, in the order the app tries them. */
export function firstCredential(settings: Readonly<Record<string, string>>): CredentialEntry | undefined {
  return credentialEntries(settings)[0];
}

/** True when the list starts with the managed identity (client id `clientId`). */
export function managedIdentityFirst(settings: Readonly<Record<string, string>>, clientId: string): boolean {
  const first = firstCredential(settings);
  return (
    first !== undefined &&
    first.origin !== "legacy" &&
    sourceTypeOf(first)?.toLowerCase() === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY.toLowerCase() &&
    (first.fields.ManagedIdentityClientId ?? "").toLowerCase() === clientId.toLowerCase()
  );
}

/** The change that takes the secret entries off the site (see withoutSecretCredentials). */
export function planRemoveSecret(settings: Readonly<Record<string, string>>): SettingsChange {
  return withoutSecretCredentials(settings);
}

/**
 * The rollback change: the managed-identity entry taken off the front, every other credential kept in its order,
 * or, when no secret is left on the site and `secret` is given, a ClientSecret entry with it.
 */
export function planRollback(
  settings: Readonly<Record<string, string>>,
  identityClientId: string | undefined,
  secret?: string,
): { change: SettingsChange; needsSecret: boolean } {
  const entries = credentialEntries(settings);
  const hasSecret = entries.some(isSecretCredential);
  if (!hasSecret && secret === undefined) return { change: { set: {}, remove: [] }, needsSecret: true };
  const withSecret: Record<string, string> = { ...settings };
  if (!hasSecret && secret !== undefined) {
    const next = entries.reduce((max, e) => (e.origin === "legacy" ? max : Math.max(max, e.origin.index + 1)), 0);
    withSecret[`AzureAd__ClientCredentials__${next}__SourceType`] = "ClientSecret";
    withSecret[`AzureAd__ClientCredentials__${next}__ClientSecret`] = secret;
  }
  // Drop the managed-identity entry by rewriting the list without it (renumbered from 0).
  const kept = credentialEntries(withSecret).filter(
    (e) =>
      !(
        sourceTypeOf(e)?.toLowerCase() === SIGNED_ASSERTION_FROM_MANAGED_IDENTITY.toLowerCase() &&
        (identityClientId === undefined ||
          (e.fields.ManagedIdentityClientId ?? "").toLowerCase() === identityClientId.toLowerCase())
      ),
  );
  const desired: Record<string, string> = {};
  kept.forEach((e, i) => {
    for (const [field, value] of Object.entries(e.fields))
      desired[`AzureAd__ClientCredentials__${i}__${field}`] = value;
  });
  const current = credentialEntries(settings).flatMap((e) => e.settingNames);
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(desired)) if (settings[name] !== value) set[name] = value;
  return { change: { set, remove: current.filter((n) => !(n in desired)).sort() }, needsSecret: false };
}

/** The change that puts back what `change` altered, from the settings as they were before it (held in memory). */
export function undoChange(before: Readonly<Record<string, string>>, change: SettingsChange): SettingsChange {
  const set: Record<string, string> = {};
  const remove: string[] = [];
  for (const name of [...Object.keys(change.set), ...change.remove]) {
    if (name in before) set[name] = before[name]!;
    else remove.push(name);
  }
  return { set, remove };
}

/** Names a change touches, for a report: what it sets and what it removes (never values). */
export function describeChange(change: SettingsChange): string[] {
  return [...Object.keys(change.set).map((n) => `set ${n}`), ...change.remove.map((n) => `remove ${n}`)];
}

/** The Azure RBAC actions a plan needs, per scope, so a missing one stops the phase before its first change. */
export function armActionsFor(
  plan: AddPlan,
  siteId: string,
  identityId: string,
): { scope: string; actions: string[] }[] {
  const site: string[] = [SiteAction.ReadSite, SiteAction.ListSettings, SiteAction.WriteSettings];
  if (plan.attachIdentity) site.push(SiteAction.WriteSite);
  const identity: string[] = [];
  if (plan.createIdentity) identity.push(SiteAction.WriteIdentity);
  if (plan.attachIdentity) identity.push(SiteAction.AssignIdentity);
  return [{ scope: siteId, actions: site }, ...(identity.length ? [{ scope: identityId, actions: identity }] : [])];
}

/** Who grants a missing Azure action: the role that carries it, at which scope, and who may assign roles. */
export function roleFor(action: string): string {
  if (/^Microsoft\.ManagedIdentity\/userAssignedIdentities\/assign\/action$/i.test(action)) {
    return "Managed Identity Operator on the identity (or Contributor)";
  }
  if (/^Microsoft\.ManagedIdentity\//i.test(action)) return "Managed Identity Contributor on the resource group";
  if (/^Microsoft\.Web\/sites\/(read)$/i.test(action)) return "Reader on the site";
  return "Website Contributor on the site (or Contributor)";
}

/** Names of the settings that hold secrets (report only). */
export { secretSettingNames };
