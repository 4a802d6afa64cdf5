/**
 * Session timeouts and bounds, their defaults, the check that they make sense, and the two bounds an operator may set
 * as app settings (`Sessions__MaxSessions`, `Sessions__MaxPerUser`).
 */
import { settingKey, type Settings } from "../env-settings";
import type { SessionLimits, SignInAttemptLimits } from "../stores/types";

/** How long a sign-in attempt lives: ASP.NET's nonce lifetime. */
export const SIGN_IN_ATTEMPT_TTL_MS = 15 * 60_000;

/** Bounds on sign-ins in progress. Defaults: 10 000 browsers, 5 attempts each. */
export interface SignInAttemptOptions {
  /** Browsers with a sign-in in progress; beyond it /signin answers 503 rather than evict another browser's. */
  readonly maxBrowsers?: number;
  /** Attempts one browser may have in progress (tabs); its own oldest is dropped beyond it. */
  readonly maxPerBrowser?: number;
}

/**
 * Session timeouts and bounds (defaults: 1 h idle, 8 h absolute, 10 000 sessions, 10 per user, 32 KiB of tokens
 * each), and the sign-in attempts' bounds.
 */
export interface SessionOptions {
  readonly idleTimeoutMs?: number;
  readonly absoluteTimeoutMs?: number;
  /** Live sessions in the store (per instance in memory, across instances in Redis); new sign-ins get a 503 beyond. */
  readonly maxSessions?: number;
  /**
   * Live sessions of one user (`tid` + `oid`): browsers and devices signed in at once. Beyond it the user's own oldest
   * session ends, so one user can never fill the store and sign others out.
   */
  readonly maxSessionsPerUser?: number;
  /**
   * The largest serialized token cache one session keeps, in bytes. One user's ID, Graph access and refresh token take
   * a few KiB; a cache beyond the bound is not kept (the user signs in again), so sessions × this bounds the store.
   */
  readonly maxTokenCacheBytes?: number;
  readonly signInAttempts?: SignInAttemptOptions;
}

/** What {@link sessionLimits} returns: the stores' limits and the token-cache bound. */
export interface ResolvedSessionLimits {
  readonly sessions: SessionLimits;
  readonly attempts: SignInAttemptLimits;
  readonly maxTokenCacheBytes: number;
}

export const DEFAULT_SESSION_LIMITS = {
  idleTimeoutMs: 60 * 60_000,
  absoluteTimeoutMs: 8 * 60 * 60_000,
  maxSessions: 10_000,
  maxSessionsPerUser: 10,
  maxTokenCacheBytes: 32 * 1024,
  maxBrowsers: 10_000,
  maxPerBrowser: 5,
} as const;

/** The bounds {@link readSessionSettings} reads. */
export type SessionBoundSettings = Pick<SessionOptions, "maxSessions" | "maxSessionsPerUser">;

/** The session bounds an operator may set as app settings, read as ASP.NET reads names (env-settings.ts). */
export const SessionSetting = {
  /** Live sessions in all (this instance's in memory, every instance's in Redis). */
  MaxSessions: "Sessions__MaxSessions",
  /** Live sessions of one user (`tid` + `oid`). */
  MaxPerUser: "Sessions__MaxPerUser",
} as const;

const MAX_SESSIONS_LIMIT = 10_000_000;
const MAX_PER_USER_LIMIT = 1_000;

/**
 * `Sessions__MaxSessions` and `Sessions__MaxPerUser` (unset: the defaults); a problem, naming the setting and the
 * fix, for a value that is not a whole number in range or for any other `Sessions__…` name.
 */
export function readSessionSettings(settings: Settings, problems: string[]): SessionBoundSettings {
  const read = (name: string, max: number, fallback: number): number | undefined => {
    const setting = settings.get(settingKey(name));
    if (!setting?.value) return undefined;
    const value = /^\d{1,8}$/.test(setting.value) ? Number(setting.value) : NaN;
    if (value >= 1 && value <= max) return value;
    const fix = `set a whole number from 1 to ${max}, or leave it unset for ${fallback}`;
    problems.push(`${setting.name} is "${setting.value}": ${fix}.`);
    return undefined;
  };
  for (const [key, setting] of settings) {
    const known = [SessionSetting.MaxSessions, SessionSetting.MaxPerUser].some((name) => settingKey(name) === key);
    if (key.startsWith("sessions:") && !known) {
      const names = `${SessionSetting.MaxSessions} or ${SessionSetting.MaxPerUser}`;
      problems.push(`${setting.name} is not a setting this app reads: use ${names}.`);
    }
  }
  const d = DEFAULT_SESSION_LIMITS;
  const maxSessions = read(SessionSetting.MaxSessions, MAX_SESSIONS_LIMIT, d.maxSessions);
  const maxSessionsPerUser = read(SessionSetting.MaxPerUser, MAX_PER_USER_LIMIT, d.maxSessionsPerUser);
  return {
    ...(maxSessions !== undefined ? { maxSessions } : {}),
    ...(maxSessionsPerUser !== undefined ? { maxSessionsPerUser } : {}),
  };
}

/** Thrown by {@link sessionLimits}: a limit is not a whole number in its range; the message names it and the fix. */
export class SessionLimitsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid session limits:\n- ${problems.join("\n- ")}`);
    this.name = "SessionLimitsError";
  }
}

/** The limits {@link SessionOptions} sets, defaults applied and checked: what either store is built with. */
export function sessionLimits(options: SessionOptions = {}): ResolvedSessionLimits {
  const d = DEFAULT_SESSION_LIMITS;
  const problems: string[] = [];
  const whole = (name: string, value: number | undefined, fallback: number, min: number, max = 2 ** 31 - 1) => {
    const chosen = value ?? fallback;
    if (!Number.isInteger(chosen) || chosen < min || chosen > max) {
      const range = `a whole number from ${min} to ${max} (default ${fallback})`;
      problems.push(`sessions.${name} is ${String(chosen)}: set ${range}.`);
    }
    return chosen;
  };
  const idleTimeoutMs = whole("idleTimeoutMs", options.idleTimeoutMs, d.idleTimeoutMs, 1);
  const absoluteTimeoutMs = whole("absoluteTimeoutMs", options.absoluteTimeoutMs, d.absoluteTimeoutMs, 1);
  const maxSessions = whole("maxSessions", options.maxSessions, d.maxSessions, 1, MAX_SESSIONS_LIMIT);
  // Above maxSessions only the global bound applies; a user with more than 1 000 browsers signed in is no use case.
  const perUser = options.maxSessionsPerUser;
  const maxSessionsPerUser = whole("maxSessionsPerUser", perUser, d.maxSessionsPerUser, 1, MAX_PER_USER_LIMIT);
  const maxTokenCacheBytes = whole("maxTokenCacheBytes", options.maxTokenCacheBytes, d.maxTokenCacheBytes, 0);
  const attempts = options.signInAttempts;
  const maxBrowsers = whole("signInAttempts.maxBrowsers", attempts?.maxBrowsers, d.maxBrowsers, 1);
  const maxPerBrowser = whole("signInAttempts.maxPerBrowser", attempts?.maxPerBrowser, d.maxPerBrowser, 1);
  if (problems.length > 0) throw new SessionLimitsError(problems);
  return {
    sessions: { idleTimeoutMs, absoluteTimeoutMs, maxSessions, maxSessionsPerUser },
    attempts: { ttlMs: SIGN_IN_ATTEMPT_TTL_MS, maxBrowsers, maxPerBrowser },
    maxTokenCacheBytes,
  };
}
