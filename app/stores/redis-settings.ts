/**
 * The `Redis__…` settings (contract/settings.ts): unset, the app keeps sessions in memory; with `Redis__HostName`
 * set, in that Redis, as the managed identity whose object ID is `Redis__UserName`. Names are matched as ASP.NET
 * matches them (app/env-settings.ts): in any letter case, `__` or `:` as the separator.
 */
import { redisScopeForInstance } from "../../contract/clouds";
import { AZURE_MANAGED_REDIS_PORT } from "../../contract/catalogue";
import { hostNameProblem } from "../../contract/rules";
import { RedisSetting, isGuid } from "../../contract/settings";
import { settingKey, type Setting, type Settings } from "../env-settings";
import type { RedisTarget } from "./redis-connection";

/** The Redis the app should use, or undefined for the memory store; problems name the setting and the fix. */
export function readRedisTarget(settings: Settings, instance: string, problems: string[]): RedisTarget | undefined {
  const find = (name: string): Setting | undefined => {
    const setting = settings.get(settingKey(name));
    return setting?.value ? setting : undefined;
  };
  const host = find(RedisSetting.HostName);
  const port = find(RedisSetting.Port);
  const user = find(RedisSetting.UserName);
  if (!host) {
    for (const other of [port, user]) {
      if (other)
        problems.push(
          `${other.name} is set but ${RedisSetting.HostName} is not: set the Redis host name ` +
            `too, or remove ${other.name} to keep sessions in memory.`,
        );
    }
    return undefined;
  }
  const before = problems.length;
  const hostProblem = hostNameProblem(host.value);
  if (hostProblem) problems.push(`${host.name} ${hostProblem}`);
  const portNumber =
    port === undefined ? AZURE_MANAGED_REDIS_PORT : /^\d{1,5}$/.test(port.value) ? Number(port.value) : NaN;
  if (!(portNumber >= 1 && portNumber <= 65535)) {
    problems.push(
      `${port!.name} is "${port!.value}": set the Redis TLS port, a whole number from 1 to ` +
        `65535 (Azure Managed Redis: ${AZURE_MANAGED_REDIS_PORT}).`,
    );
  }
  if (!user) {
    problems.push(
      `${RedisSetting.UserName} is missing: set it to the managed identity's object ` +
        `(principal) ID, the Redis user its access policy assignment names.`,
    );
  } else if (!isGuid(user.value)) {
    problems.push(
      `${user.name} is "${user.value}", not a GUID: set the managed identity's ` +
        `object (principal) ID (not its client ID, not a key).`,
    );
  }
  if (problems.length > before || !user || !instance) return undefined;
  return {
    host: host.value,
    port: portNumber,
    username: user.value,
    resource: redisScopeForInstance(instance).replace(/\/\.default$/, ""),
  };
}
