/**
 * Where the stack's logs and telemetry go: Log Analytics workspaces and Application Insights components that take
 * Microsoft Entra ID only, diagnostic settings that send a resource's platform logs to such a workspace of this stack
 * and nowhere else, and web apps that send telemetry only to such a component, as an identity they wear.
 */
import { parseAuthenticationString, TelemetrySetting } from "../../contract/telemetry";
import { type ResourceRule, type StackFinding, type StackRule, resourceRule, stackRule } from "./model";
import { arm, attachedIdentities, field, isAppHost, isArmIdOf, ref, show, stackSettingsOf } from "./shared";

export const isLogWorkspace = arm("operationalinsights", "Workspace");
export const isDiagnosticSetting = arm("monitor", "DiagnosticSetting");
export const isAppInsights = arm("applicationinsights", "Component");

/**
 * A workspace's shared keys ingest (legacy agent, HTTP Data Collector API) and query as whoever holds them;
 * `features.disableLocalAuth: true` leaves Entra ID only
 * (https://learn.microsoft.com/azure/azure-monitor/logs/azure-ad-authentication-logs).
 */
export const logWorkspaceEntraOnly: ResourceRule = resourceRule(
  "log-workspace-entra-only",
  "A Log Analytics workspace takes Microsoft Entra ID only: its shared keys neither ingest nor query.",
  isLogWorkspace,
  (r) => [
    r.props.features?.disableLocalAuth !== true
      ? `${ref(r)} has features.disableLocalAuth ${show(r.props.features?.disableLocalAuth)}: the workspace's shared ` +
        "keys can write into it and read it, and anyone who lists them can. Fix: set features: { disableLocalAuth: " +
        "true }."
      : undefined,
  ],
);

/**
 * Destinations other than a Log Analytics workspace: a storage account (written with its key or a SAS), an event hub
 * (its authorization rule is a shared key), a partner solution; each sends the logs outside what this stack controls.
 */
const OTHER_DESTINATIONS = [
  "storageAccountId",
  "eventHubAuthorizationRuleId",
  "eventHubName",
  "serviceBusRuleId",
  "marketplacePartnerId",
] as const;

/** The subscription GUID of an ARM ID, lower-cased; undefined for anything else. */
const subscriptionOf = (id: unknown): string | undefined =>
  typeof id === "string" ? /^\/subscriptions\/([^/]+)\//i.exec(id)?.[1]?.toLowerCase() : undefined;

/**
 * A diagnostic setting reads logs from a resource of this stack and sends them only to a Log Analytics workspace of
 * this stack (which log-workspace-entra-only keeps Entra-only). Logs carry request paths, client IPs and whatever the
 * app prints: another workspace, a storage account or an event hub is exfiltration the stack cannot see.
 */
export const diagnosticSettingOwnWorkspace: StackRule = stackRule(
  "diagnostic-setting-own-workspace",
  "A diagnostic setting sends a resource of this stack's logs to a Log Analytics workspace of this stack, and only " +
    "there: no storage account, event hub or partner destination.",
  (resources) => {
    const workspaces = resources.filter((r) => isLogWorkspace(r.type));
    return resources
      .filter((r) => isDiagnosticSetting(r.type))
      .flatMap((setting) => {
        const messages: string[] = [];
        for (const key of OTHER_DESTINATIONS) {
          const value = field(setting, key);
          if (value !== undefined && value !== null && value !== "")
            messages.push(
              `${ref(setting)} has ${key} ${show(value)}: logs would leave for a destination reached with keys or ` +
                `outside this stack. Fix: remove ${key}; send logs to this stack's Log Analytics workspace ` +
                "(workspaceId) only.",
            );
        }
        const workspaceId = field(setting, "workspaceId");
        if (!workspaces.some((w) => isArmIdOf(workspaceId, w)))
          messages.push(
            `${ref(setting)} has workspaceId ${show(workspaceId)}, not a Log Analytics workspace of this stack. Fix: ` +
              "set workspaceId to the ID of the stack's own workspace (LogWorkspace.id).",
          );
        const source = field(setting, "resourceUri");
        if (!resources.some((r) => r !== setting && isArmIdOf(source, r)))
          messages.push(
            `${ref(setting)} has resourceUri ${show(source)}, not a resource of this stack: it would copy another ` +
              "resource's logs. Fix: set resourceUri to the ID of a resource this stack creates (e.g. the web app).",
          );
        // Under the CLI, IDs are matched by group, type and name (isArmIdOf): a workspace of the same group and name
        // in a subscription someone else owns would pass. The source is the stack's, so its subscription is too.
        const [from, to] = [subscriptionOf(source), subscriptionOf(workspaceId)];
        if (from !== undefined && to !== undefined && from !== to)
          messages.push(
            `${ref(setting)} sends logs from subscription ${from} to a workspace in subscription ${to}. Fix: set ` +
              "workspaceId to the stack's own workspace, in the subscription of the resource it reads.",
          );
        return messages.map((message) => ({ message, resource: setting }));
      });
  },
);

/**
 * Application Insights with local authentication on ingests anything sent with its instrumentation key, which sits in
 * the connection string every app and browser is given; with it off, only Entra-authenticated telemetry
 * (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication; the built-in Azure Policy
 * "Application Insights components should block non-Azure Active Directory based ingestion" checks the same field).
 */
export const appInsightsEntraOnly: ResourceRule = resourceRule(
  "appinsights-entra-only",
  "An Application Insights component takes Microsoft Entra-authenticated telemetry only (local authentication off).",
  isAppInsights,
  (r) => [
    r.props.disableLocalAuth !== true
      ? `${ref(r)} has disableLocalAuth ${show(r.props.disableLocalAuth)}: anyone holding its connection string ` +
        "(every app setting, log and browser that sees it) can send telemetry into it. Fix: set disableLocalAuth: " +
        "true and let the app publish with its managed identity (Monitoring Metrics Publisher on the component)."
      : undefined,
  ],
);

/**
 * A workspace-based component keeps its data in a Log Analytics workspace, under that workspace's Entra-only access and
 * retention; classic (non-workspace) components were retired in February 2024, and another workspace is data leaving
 * the stack.
 */
export const appInsightsWorkspaceBased: StackRule = stackRule(
  "appinsights-workspace-based",
  "An Application Insights component is workspace-based, on a Log Analytics workspace of this stack.",
  (resources) => {
    const workspaces = resources.filter((r) => isLogWorkspace(r.type));
    return resources
      .filter((r) => isAppInsights(r.type))
      .flatMap((component): StackFinding[] => {
        const messages: string[] = [];
        const workspaceId = field(component, "workspaceResourceId");
        if (!workspaces.some((w) => isArmIdOf(workspaceId, w)))
          messages.push(
            `${ref(component)} has workspaceResourceId ${show(workspaceId)}, not a Log Analytics workspace of this ` +
              "stack. Fix: set workspaceResourceId to the stack's own workspace (LogWorkspace.id).",
          );
        const mode = field(component, "ingestionMode");
        if (mode !== undefined && mode !== "LogAnalytics")
          messages.push(
            `${ref(component)} has ingestionMode ${show(mode)}: telemetry would not be stored in the workspace. Fix: ` +
              'set ingestionMode: "LogAnalytics" (or leave it unset with workspaceResourceId).',
          );
        return messages.map((message) => ({ message, resource: component }));
      });
  },
);

/** `InstrumentationKey=<guid>` in a connection string, any casing, wherever it sits. */
const INSTRUMENTATION_KEY = /(?:^|;)\s*InstrumentationKey\s*=\s*([^;]*)/i;

/**
 * The connection string is not a secret only because its component refuses the key it carries. So a web app (or slot)
 * may hold one — in any setting — only when it is the connection string of a component of this stack with local
 * authentication off, and the app says which identity it publishes as: `APPLICATIONINSIGHTS_AUTHENTICATION_STRING`
 * `Authorization=AAD;ClientId=<client ID>` of a user-assigned identity it wears (contract/telemetry.ts). A key of a
 * component the stack cannot see, or of one that still takes keys, is a write credential in an app setting.
 */
export const appInsightsConnectionStringEntraOnly: StackRule = stackRule(
  "appinsights-connection-string-entra-only",
  "A web app's Application Insights connection string is that of a component of this stack with local " +
    "authentication off, and the app authenticates with a managed identity it wears.",
  (resources) => {
    const components = resources.filter((r) => isAppInsights(r.type));
    return resources
      .filter((r) => isAppHost(r.type))
      .flatMap((site): StackFinding[] => {
        const settings = stackSettingsOf(site) ?? {};
        const keyed = Object.entries(settings).filter(
          ([name, value]) =>
            name.toLowerCase() === TelemetrySetting.ConnectionString.toLowerCase() ||
            (typeof value === "string" && INSTRUMENTATION_KEY.test(value)),
        );
        if (keyed.length === 0) return [];
        const messages: string[] = [];
        for (const [name, value] of keyed) {
          if (typeof value !== "string") continue; // not known yet (preview): judged on `pulumi up`
          const key = INSTRUMENTATION_KEY.exec(value)?.[1]?.trim().toLowerCase();
          const component = components.find(
            (c) => key !== undefined && String(field(c, "instrumentationKey") ?? "").toLowerCase() === key,
          );
          if (!component)
            messages.push(
              `${ref(site)} has app setting "${name}" with the instrumentation key of a component that is not in ` +
                "this stack, so nothing shows it refuses that key. Fix: use the connection string of the stack's own " +
                "Application Insights (disableLocalAuth: true).",
            );
          else if (field(component, "disableLocalAuth") !== true)
            messages.push(
              `${ref(site)} has app setting "${name}" with the connection string of ${ref(component)}, whose local ` +
                "authentication is on: its instrumentation key is then a write credential. Fix: set " +
                "disableLocalAuth: true on the component.",
            );
        }
        const worn = attachedIdentities(site, resources)
          .map((i) => i.clientId?.toLowerCase())
          .filter(Boolean);
        const authentication = settings[TelemetrySetting.AuthenticationString];
        const parsed = parseAuthenticationString(typeof authentication === "string" ? authentication : undefined);
        if (authentication === undefined || (typeof authentication === "string" && !parsed?.clientId))
          messages.push(
            `${ref(site)} sends telemetry but has ${TelemetrySetting.AuthenticationString} ${show(authentication)}: ` +
              "without it the exporter sends the key alone, which an Entra-only component refuses. Fix: set it to " +
              "Authorization=AAD;ClientId=<client ID of the user-assigned identity the app wears>.",
          );
        else if (parsed?.clientId && !worn.includes(parsed.clientId.toLowerCase()))
          messages.push(
            `${ref(site)} has ${TelemetrySetting.AuthenticationString} naming client ID ${parsed.clientId}, not an ` +
              "identity it wears: no token could be had for it. Fix: name the client ID of its user-assigned identity.",
          );
        return messages.map((message) => ({ message, resource: site }));
      });
  },
);

export const monitoringRules: readonly ResourceRule[] = [logWorkspaceEntraOnly, appInsightsEntraOnly];
export const monitoringStackRules: readonly StackRule[] = [
  diagnosticSettingOwnWorkspace,
  appInsightsWorkspaceBased,
  appInsightsConnectionStringEntraOnly,
];
