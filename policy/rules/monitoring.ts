/**
 * Where the stack's logs and telemetry go: Log Analytics workspaces that take Microsoft Entra ID only, and diagnostic
 * settings that send a resource's platform logs to such a workspace of this stack, and nowhere else.
 */
import { type ResourceRule, type StackRule, resourceRule, stackRule } from "./model";
import type { PlannedResource } from "./model";
import { arm, field, inputField, ref, show } from "./shared";

export const isLogWorkspace = arm("operationalinsights", "Workspace");
export const isDiagnosticSetting = arm("monitor", "DiagnosticSetting");

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

/** The ARM resource type of the azure-native types a diagnostic setting may read from or write to. */
const ARM_TYPES: Record<string, string> = {
  "azure-native:operationalinsights:Workspace": "microsoft.operationalinsights/workspaces",
  "azure-native:web:WebApp": "microsoft.web/sites",
  "azure-native:web:AppServicePlan": "microsoft.web/serverfarms",
  "azure-native:insights:Component": "microsoft.insights/components",
  "azure-native:app:ManagedEnvironment": "microsoft.app/managedenvironments",
  "azure-native:app:ContainerApp": "microsoft.app/containerapps",
};
const TOP_LEVEL_ID = /^\/subscriptions\/[^/]+\/resourcegroups\/([^/]+)\/providers\/([^/]+\/[^/]+)\/([^/]+)$/;

/**
 * Whether ARM ID `id` names resource `r` of this stack: its provider ID when known (offline), else — as the CLI hands
 * stack policies no IDs — its resource group, ARM type and name. Compared case-insensitively, as ARM does.
 */
export function isArmIdOf(id: unknown, r: PlannedResource): boolean {
  if (typeof id !== "string") return false;
  const wanted = id.toLowerCase();
  if (typeof r.id === "string" && r.id.toLowerCase() === wanted) return true;
  const [, group, type, name] = TOP_LEVEL_ID.exec(wanted) ?? [];
  const own = ARM_TYPES[r.type];
  return (
    own !== undefined &&
    type === own &&
    group === String(inputField(r, "resourceGroupName") ?? "").toLowerCase() &&
    name === String(field(r, "name") ?? "").toLowerCase()
  );
}

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
        return messages.map((message) => ({ message, resource: setting }));
      });
  },
);

export const monitoringRules: readonly ResourceRule[] = [logWorkspaceEntraOnly];
