/**
 * The telemetry contract shared by the infrastructure (which creates Application Insights with local authentication
 * off and writes these settings onto the app), the sample app (which exports OpenTelemetry with the managed identity)
 * and the local emulator (whose ingestion stand-in accepts only Entra tokens for Azure Monitor's audience).
 *
 * Sources:
 * - Entra-only ingestion, the role and the token audience:
 *   https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication ("Assign the Monitoring Metrics
 *   Publisher role … setting the target Application Insights resource as the role scope"; "Although the Monitoring
 *   Metrics Publisher role says 'metrics,' it publishes all telemetry"). Codeless App Service auto-instrumentation does
 *   not support Entra-authenticated ingestion (same page, "Unsupported scenarios"), so the app exports in code.
 * - The role's ID (data actions Microsoft.Insights/Telemetry/Write and Metrics/Write):
 *   https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/monitor#monitoring-metrics-publisher
 */

/** App settings (environment variables) the app reads for telemetry. */
export const TelemetrySetting = {
  /**
   * The component's connection string (`InstrumentationKey=…;IngestionEndpoint=…;…`). With local authentication
   * disabled on the component the instrumentation key in it is an identifier only: ingestion answers 401 to anything
   * but an Entra token, so the string is not a secret.
   */
  ConnectionString: "APPLICATIONINSIGHTS_CONNECTION_STRING",
  /**
   * How the exporter authenticates: `Authorization=AAD;ClientId=<user-assigned identity client ID>` (the documented
   * format for Entra-authenticated ingestion with a user-assigned identity).
   */
  AuthenticationString: "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
} as const;

/** The scope a token for Azure Monitor ingestion is asked for (audience `https://monitor.azure.com`). */
export const AZURE_MONITOR_SCOPE = "https://monitor.azure.com/.default";

/** Built-in role "Monitoring Metrics Publisher": publishes all telemetry to the component it is scoped to. */
export const MONITORING_METRICS_PUBLISHER_ROLE_ID = "3913510d-42f4-4e42-8a64-420c390055eb";

/** The value of {@link TelemetrySetting.AuthenticationString} for a user-assigned identity. */
export function entraAuthenticationString(identityClientId: string): string {
  return `Authorization=AAD;ClientId=${identityClientId}`;
}

/** Parses {@link TelemetrySetting.AuthenticationString}: the identity's client ID, or undefined when not Entra. */
export function parseAuthenticationString(value: string | undefined): { clientId?: string } | undefined {
  if (!value) return undefined;
  const parts = new Map(
    value.split(";").flatMap((pair) => {
      const at = pair.indexOf("=");
      return at > 0 ? [[pair.slice(0, at).trim().toLowerCase(), pair.slice(at + 1).trim()] as const] : [];
    }),
  );
  if (parts.get("authorization")?.toUpperCase() !== "AAD") return undefined;
  const clientId = parts.get("clientid");
  return clientId ? { clientId } : {};
}
