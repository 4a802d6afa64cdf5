import * as pulumi from "@pulumi/pulumi";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import { type ArgumentProblem, refuseInvalidArguments } from "../common/invalid-arguments";

/**
 * Days a workspace keeps data by default. The ingestion price includes 31 days of analytics retention, so less saves
 * nothing and more is billed per GB and month; a workspace's default retention goes from 30 days up to two years
 * (https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure).
 */
export const DEFAULT_LOG_RETENTION_DAYS = 30;
/** The workspace-level retention a PerGB2018 workspace accepts, in days. */
export const MIN_LOG_RETENTION_DAYS = 30;
export const MAX_LOG_RETENTION_DAYS = 730;

/** Arguments of {@link LogWorkspace}. */
export interface LogWorkspaceArgs {
  /** Required. The resource group to create the workspace in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Optional. Days data is kept, 30 to 730. Defaults to 30. */
  readonly retentionInDays?: number;
  /**
   * Optional. A daily ingestion cap in GB: once reached, the workspace stops collecting until the next day (the cap
   * resets at a fixed hour per workspace). Defaults to none (no cap).
   */
  readonly dailyQuotaGb?: number;
  /** Optional. Tags for the workspace. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A Log Analytics workspace that takes Microsoft Entra ID only: the one destination of this stack's platform logs
 * (diagnostic settings), its workspace-based Application Insights and, with Container Apps, the environment's logs.
 *
 * - `features.disableLocalAuth: true`: the workspace's shared keys no longer ingest (the legacy Log Analytics agent,
 *   the HTTP Data Collector API) nor query; only Entra-authenticated callers and Azure's own pipelines (diagnostic
 *   settings, workspace-based Application Insights) write to it. Source: "Microsoft Entra authentication for Azure
 *   Monitor Logs", https://learn.microsoft.com/azure/azure-monitor/logs/azure-ad-authentication-logs ("You can opt out
 *   of local authentication and ensure that only telemetry that's exclusively authenticated by using Managed
 *   Identities and Microsoft Entra ID is ingested"); the ARM property is `properties.features.disableLocalAuth`
 *   (@pulumi/azure-native operationalinsights WorkspaceFeaturesArgs, API 2023-09-01).
 * - `sku: PerGB2018` (pay-as-you-go, the only SKU new workspaces get): billed by GB ingested, with a free monthly
 *   allowance; the workspace itself costs nothing while empty (docs/telemetry.md, "Cost").
 * - `enableLogAccessUsingOnlyResourcePermissions: true` (resource-context access, the default of new workspaces): a
 *   reader of the web app sees that app's logs without being given the whole workspace.
 */
export class LogWorkspace extends pulumi.ComponentResource {
  /** ARM resource ID: what diagnostic settings and Application Insights name as their destination. */
  public readonly id: pulumi.Output<string>;
  /** The workspace name (Azure's, with a random suffix). */
  public readonly name: pulumi.Output<string>;
  /** The workspace (customer) ID, a GUID: what a Log Analytics query or `az monitor log-analytics query -w` names. */
  public readonly customerId: pulumi.Output<string>;

  constructor(name: string, args: LogWorkspaceArgs, opts?: pulumi.ComponentResourceOptions) {
    // Refused before the component registers, so a bad argument leaves nothing half-registered behind.
    validateLogWorkspaceArgs(args);
    super("secretless:index:LogWorkspace", name, {}, opts);

    // Create the workspace: Entra ID only, pay-as-you-go, resource-context access.
    const workspace = new operationalinsights.Workspace(
      `${name}-workspace`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        sku: { name: operationalinsights.WorkspaceSkuNameEnum.PerGB2018 },
        retentionInDays: args.retentionInDays ?? DEFAULT_LOG_RETENTION_DAYS,
        features: { disableLocalAuth: true, enableLogAccessUsingOnlyResourcePermissions: true },
        ...(args.dailyQuotaGb === undefined ? {} : { workspaceCapping: { dailyQuotaGb: args.dailyQuotaGb } }),
        tags: args.tags,
      },
      { parent: this },
    );

    this.id = workspace.id;
    this.name = workspace.name;
    this.customerId = workspace.customerId;
    this.registerOutputs({ id: this.id, name: this.name, customerId: this.customerId });
  }
}

/** Refuses a retention or a cap the service would reject, naming the argument and the fix. */
export function validateLogWorkspaceArgs(args: LogWorkspaceArgs): void {
  const errors: ArgumentProblem[] = [];
  const days = args.retentionInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < MIN_LOG_RETENTION_DAYS || days > MAX_LOG_RETENTION_DAYS))
    errors.push({
      propertyPath: "retentionInDays",
      reason:
        `is ${days}; a PerGB2018 workspace keeps data ${MIN_LOG_RETENTION_DAYS} to ${MAX_LOG_RETENTION_DAYS} ` +
        `whole days. Set a number in that range, or leave it out for ${DEFAULT_LOG_RETENTION_DAYS}.`,
    });
  const cap = args.dailyQuotaGb;
  if (cap !== undefined && !(Number.isFinite(cap) && cap > 0))
    errors.push({
      propertyPath: "dailyQuotaGb",
      reason: `is ${cap}; a daily cap is a positive number of GB (e.g. 1 or 0.5). Leave it out for no cap.`,
    });
  refuseInvalidArguments("LogWorkspace", errors);
}
