/**
 * The app's named settings as ASP.NET reads environment variables: `__` and `:` are the same separator and names are
 * case-insensitive, so `AzureAd__TenantId` and `azuread:tenantid` are one setting. app/app-config.ts and the readers
 * it calls (app/stores/redis-settings.ts) look settings up here by {@link settingKey}.
 */
import type { Env } from "./hosting";

/** One setting as given. */
export interface Setting {
  /** The variable's name as given, for messages. */
  readonly name: string;
  /** Its value, trimmed. */
  readonly value: string;
}

/** The app's settings by {@link settingKey}. */
export type Settings = ReadonlyMap<string, Setting>;

/** Case-insensitive, separator-agnostic lookup key: `AzureAd__TenantId` and `azuread:tenantid` are the same setting. */
export function settingKey(name: string): string {
  return name.replaceAll("__", ":").toLowerCase();
}

/**
 * The `AzureAd__…`, `DownstreamApis__…`, `Redis__…` and `Sessions__…` variables by {@link settingKey}; two
 * spellings of one setting with different values are a problem.
 */
export function readSettings(env: Env, problems: string[]): Settings {
  const settings = new Map<string, Setting>();
  for (const [name, raw] of Object.entries(env)) {
    if (raw === undefined || !/^(azuread|downstreamapis|redis|sessions)(:|__)/i.test(name)) continue;
    const value = raw.trim();
    const k = settingKey(name);
    const seen = settings.get(k);
    if (seen && seen.value !== value) {
      problems.push(`${seen.name} and ${name} are the same setting with different values: keep only one of them.`);
      continue;
    }
    settings.set(k, { name, value });
  }
  return settings;
}
