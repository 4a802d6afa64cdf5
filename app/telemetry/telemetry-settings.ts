/**
 * The telemetry settings (contract/telemetry.ts): `APPLICATIONINSIGHTS_CONNECTION_STRING` turns telemetry on, and
 * `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` must then name the user-assigned managed identity the app sends it as
 * (`Authorization=AAD;ClientId=<GUID>`): the component refuses anything but an Entra token, so there is no key to set.
 * Format of both strings: https://learn.microsoft.com/azure/azure-monitor/app/connection-strings and
 * https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication ("Environment variable configuration").
 */
import { isGuid } from "../../contract/settings";
import { parseAuthenticationString, TelemetrySetting } from "../../contract/telemetry";
import type { Env } from "../hosting";

/** Where telemetry goes and as whom; undefined in {@link AppConfig} when telemetry is off. */
export interface TelemetrySettings {
  /** The component's connection string, as given (not a secret: ingestion needs an Entra token). */
  readonly connectionString: string;
  /** Its ingestion endpoint origin, for span attributes and messages. */
  readonly ingestionEndpoint: string;
  /** The user-assigned managed identity's client ID the telemetry token is asked for. */
  readonly identityClientId: string;
}

/** Application Insights' global ingestion endpoint, which the exporter uses when the string names none. */
const DEFAULT_INGESTION_ENDPOINT = "https://dc.services.visualstudio.com";

/** The telemetry settings, or undefined when telemetry is off; each problem names the setting and the fix. */
export function readTelemetrySettings(env: Env, problems: string[]): TelemetrySettings | undefined {
  const connectionString = env[TelemetrySetting.ConnectionString]?.trim() || undefined;
  const authentication = env[TelemetrySetting.AuthenticationString]?.trim() || undefined;
  if (!connectionString) {
    if (authentication) {
      problems.push(
        `${TelemetrySetting.AuthenticationString} is set but ${TelemetrySetting.ConnectionString} is not: set the ` +
          "Application Insights connection string to send telemetry, or remove it to keep telemetry off.",
      );
    }
    return undefined;
  }
  const before = problems.length;
  const parts = new Map(
    connectionString.split(";").flatMap((pair) => {
      const at = pair.indexOf("=");
      return at > 0 ? [[pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim()] as const] : [];
    }),
  );
  if (!isGuid(parts.get("instrumentationkey") ?? "")) {
    problems.push(
      `${TelemetrySetting.ConnectionString} has no InstrumentationKey GUID: copy the whole connection string from ` +
        "the Application Insights resource (Overview, Connection String).",
    );
  }
  let ingestionEndpoint = DEFAULT_INGESTION_ENDPOINT;
  const endpoint = parts.get("ingestionendpoint");
  if (endpoint !== undefined) {
    const url = URL.canParse(endpoint) ? new URL(endpoint) : undefined;
    if (url?.protocol !== "https:" || url.username || url.password) {
      problems.push(
        `${TelemetrySetting.ConnectionString} has IngestionEndpoint "${endpoint}": it must be an https URL without ` +
          "credentials (the managed identity's token goes there).",
      );
    } else ingestionEndpoint = url.origin;
  }
  const auth = parseAuthenticationString(authentication);
  if (!auth?.clientId || !isGuid(auth.clientId)) {
    problems.push(
      `${TelemetrySetting.AuthenticationString} is ${authentication ? `"${authentication}"` : "missing"}: set it to ` +
        "Authorization=AAD;ClientId=<client ID of the app's user-assigned managed identity>. The app sends " +
        "telemetry only with an Entra token, never with the instrumentation key.",
    );
  }
  if (problems.length > before || !auth?.clientId) return undefined;
  return { connectionString, ingestionEndpoint, identityClientId: auth.clientId };
}
