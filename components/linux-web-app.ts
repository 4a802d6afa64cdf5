import * as pulumi from "@pulumi/pulumi";
import { invalidArguments } from "../common/invalid-arguments";
import * as web from "@pulumi/azure-native/web";
import * as monitor from "@pulumi/azure-native/monitor";
import type * as inputs from "@pulumi/azure-native/types/input";
import {
  DEFAULT_NODE_VERSION,
  DEFAULT_PLAN_SKU,
  type PlanSku,
  alwaysOnByDefault,
  planSkus,
} from "../contract/catalogue";
import { findPlanSku, planSkuProblem } from "../contract/rules";
import { HEALTH_CHECK_PATH } from "../contract/settings";
import { scmHostNameOf } from "./app-deployment";

/** Arguments of {@link LinuxWebApp}. */
export interface LinuxWebAppArgs {
  /** Required. The resource group to create the plan and the site in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Required. The site name (2-60 letters, digits or hyphens). */
  readonly siteName: pulumi.Input<string>;
  /** Required. ARM resource ID of the user-assigned managed identity to attach; the site's only identity. */
  readonly identityId: pulumi.Input<string>;
  /**
   * Optional. SKU of the Linux plan to create, in any letter case. Defaults to `B1`. Ignored when `existingPlanId` is
   * set.
   */
  readonly planSku?: PlanSku;
  /** Optional. ARM resource ID of an existing Linux App Service plan to use instead of creating one. */
  readonly existingPlanId?: pulumi.Input<string>;
  /** Optional. Node.js major version (`NODE|<major>-lts`). Defaults to 22. Not used with `runtimeStack`. */
  readonly nodeVersion?: pulumi.Input<number>;
  /**
   * Optional. The Linux runtime stack (`linuxFxVersion`, e.g. `DOTNETCORE|8.0`) for an app other than the sample.
   * Defaults to `NODE|<nodeVersion>-lts`.
   */
  readonly runtimeStack?: pulumi.Input<string>;
  /** Optional. Keep the app loaded. Defaults to what the plan SKU allows (off on F1, on otherwise). */
  readonly alwaysOn?: pulumi.Input<boolean>;
  /** Optional. Path App Service probes for health. Defaults to `/healthz`. */
  readonly healthCheckPath?: pulumi.Input<string>;
  /** Optional. Start-up command. Defaults to `node server.js`, how the bundled sample app starts. */
  readonly appCommandLine?: pulumi.Input<string>;
  /**
   * Required. The complete set of app settings. They are written once, through `siteConfig.appSettings`: App Service
   * replaces the whole collection on every write, so a second mechanism would erase this one.
   */
  readonly appSettings: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Optional. Give the site a secure unique default host name (`<name>-<hash>.<region>-01.azurewebsites.net`), which
   * cannot be taken over after the site is deleted. Can only be chosen at creation. Defaults to true.
   */
  readonly uniqueDefaultHostname?: boolean;
  /**
   * Optional. Instances of the plan this component creates (`sku.capacity`). Defaults to 1. Ignored with
   * `existingPlanId`.
   */
  readonly instanceCount?: pulumi.Input<number>;
  /**
   * Optional. ARR affinity: App Service's front end pins each browser to one instance with a cookie. Needed while
   * sessions live in one instance's memory; off once they are shared (Redis), so any instance serves any user and a
   * failed instance loses nobody. Defaults to true.
   */
  readonly clientAffinityEnabled?: boolean;
  /** Optional. Tags for the plan and the site. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Optional. ARM resource ID of a Log Analytics workspace (components/log-workspace.ts) to send the site's platform
   * logs to ({@link APP_SERVICE_LOG_CATEGORIES}), through a diagnostic setting. Defaults to none.
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
}

/**
 * A hardened Linux App Service web app running Node.js with a user-assigned managed identity attached: HTTPS only,
 * TLS 1.2 minimum on the site and on SCM, FTP off, basic-auth publishing off, health check on.
 */
export class LinuxWebApp extends pulumi.ComponentResource {
  /** ARM resource ID of the site. */
  public readonly id: pulumi.Output<string>;
  /** The site name. */
  public readonly name: pulumi.Output<string>;
  /** The default host name, as App Service assigned it (never built by hand: unique host names carry a hash). */
  public readonly defaultHostName: pulumi.Output<string>;
  /** `https://{defaultHostName}`. */
  public readonly url: pulumi.Output<string>;
  /** ARM resource ID of the plan the site runs on. */
  public readonly planId: pulumi.Output<string>;
  /** The SCM (Kudu) host, as App Service reports it for the site (never built by hand: it carries the same hash). */
  public readonly scmHostName: pulumi.Output<string>;
  /**
   * What a deployment to this site must wait for: the site itself (its app settings are part of it) and the two
   * basic-auth-off policies, so the package never lands on a half-configured site.
   */
  public readonly deploymentDependencies: readonly pulumi.Resource[];
  /** The site's hosting and hardening without its name, settings and host name: what a deployment slot must repeat. */
  public readonly shape: LinuxSiteShape;

  constructor(name: string, args: LinuxWebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:LinuxWebApp", name, {}, opts);
    const sku = findPlanSku(args.planSku ?? DEFAULT_PLAN_SKU);
    if (sku === undefined)
      invalidArguments("LinuxWebApp", [{ propertyPath: "planSku", reason: planSkuProblem(args.planSku!)! }]);

    // Create a Linux plan, unless the caller brings one.
    const planId =
      args.existingPlanId !== undefined
        ? pulumi.output(args.existingPlanId)
        : new web.AppServicePlan(
            `${name}-plan`,
            {
              resourceGroupName: args.resourceGroupName,
              location: args.location,
              kind: "linux",
              reserved: true,
              sku: { name: sku, tier: planSkus[sku].tier, capacity: args.instanceCount ?? 1 },
              tags: args.tags,
            },
            { parent: this },
          ).id;

    // What the site is, apart from its name, settings and host name: a deployment slot repeats exactly this, since
    // App Service swaps neither identities nor HTTPS Only, TLS or Always On (components/staging-slot.ts).
    const shape: LinuxSiteShape = {
      location: args.location,
      kind: "app,linux",
      reserved: true,
      serverFarmId: planId,
      identity: { type: web.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [args.identityId] },
      keyVaultReferenceIdentity: args.identityId,
      httpsOnly: true,
      clientCertEnabled: false,
      // Sessions in the app's memory need each browser kept on one instance; shared sessions (Redis) do not.
      clientAffinityEnabled: args.clientAffinityEnabled ?? true,
      siteConfig: {
        linuxFxVersion: args.runtimeStack ?? pulumi.interpolate`NODE|${args.nodeVersion ?? DEFAULT_NODE_VERSION}-lts`,
        appCommandLine: args.appCommandLine ?? "node server.js",
        minTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
        scmMinTlsVersion: web.SupportedTlsVersions.SupportedTlsVersions_1_2,
        ftpsState: web.FtpsState.Disabled,
        http20Enabled: true,
        alwaysOn: args.alwaysOn ?? alwaysOnByDefault(sku, args.existingPlanId !== undefined),
        healthCheckPath: args.healthCheckPath ?? HEALTH_CHECK_PATH,
        remoteDebuggingEnabled: false,
        webSocketsEnabled: false,
      },
    };

    // Create the site, with the managed identity as its only identity.
    const site = new web.WebApp(
      `${name}-site`,
      {
        ...shape,
        resourceGroupName: args.resourceGroupName,
        name: args.siteName,
        autoGeneratedDomainNameLabelScope:
          (args.uniqueDefaultHostname ?? true) ? web.AutoGeneratedDomainNameLabelScope.TenantReuse : undefined,
        siteConfig: { ...shape.siteConfig, appSettings: nameValuePairs(args.appSettings) },
        tags: args.tags,
      },
      { parent: this },
    );

    // Turn off basic-auth publishing: deployments authenticate with Entra ID tokens, never publishing credentials.
    const scmBasicAuth = new web.WebAppScmAllowed(
      `${name}-scm-basic-auth`,
      { resourceGroupName: args.resourceGroupName, name: site.name, allow: false },
      { parent: this },
    );
    const ftpBasicAuth = new web.WebAppFtpAllowed(
      `${name}-ftp-basic-auth`,
      { resourceGroupName: args.resourceGroupName, name: site.name, allow: false },
      { parent: this },
    );

    // Keep the platform's HTTP (web server / container) logs and detailed error pages, bounded: they are what the log
    // stream and Kudu show when the app will not start. On Linux the file-system HTTP log setting carries the quota.
    new web.WebAppDiagnosticLogsConfiguration(
      `${name}-logs`,
      {
        resourceGroupName: args.resourceGroupName,
        name: site.name,
        httpLogs: { fileSystem: { enabled: true, retentionInDays: LOG_RETENTION_DAYS, retentionInMb: LOG_QUOTA_MB } },
        detailedErrorMessages: { enabled: true },
      },
      { parent: this },
    );

    // Send the platform's logs to the stack's workspace, where they outlive the instance and can be queried.
    if (args.logWorkspaceId !== undefined) {
      new monitor.DiagnosticSetting(
        `${name}-platform-logs`,
        {
          resourceUri: site.id,
          name: PLATFORM_LOGS_SETTING_NAME,
          workspaceId: args.logWorkspaceId,
          logs: APP_SERVICE_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
        },
        { parent: this },
      );
    }

    this.id = site.id;
    this.name = site.name;
    this.defaultHostName = site.defaultHostName;
    this.url = pulumi.interpolate`https://${site.defaultHostName}`;
    this.planId = planId;
    this.scmHostName = scmHostNameOf(site);
    this.deploymentDependencies = [site, scmBasicAuth, ftpBasicAuth];
    this.shape = shape;
    this.registerOutputs({
      id: this.id,
      name: this.name,
      defaultHostName: this.defaultHostName,
      url: this.url,
      planId: this.planId,
      scmHostName: this.scmHostName,
    });
  }
}

/** A site's (or slot's) hosting and hardening: everything but its name, app settings, host name and tags. */
export type LinuxSiteShape = Required<
  Pick<
    web.WebAppArgs,
    | "kind"
    | "reserved"
    | "serverFarmId"
    | "identity"
    | "keyVaultReferenceIdentity"
    | "httpsOnly"
    | "clientCertEnabled"
    | "clientAffinityEnabled"
  >
> &
  Pick<web.WebAppArgs, "location"> & { readonly siteConfig: Omit<inputs.web.SiteConfigArgs, "appSettings"> };

/**
 * The site's log categories sent to the workspace, each into its own table of the same name (Azure Monitor reference,
 * "Supported logs for Microsoft.Web/sites": https://learn.microsoft.com/azure/azure-monitor/reference/supported-logs/
 * microsoft-web-sites-logs; tables AppServiceHTTPLogs, AppServiceConsoleLogs, AppServiceAppLogs,
 * AppServicePlatformLogs, resource type microsoft.web/sites). HTTP: every request the front end served (status, path,
 * time taken, client IP); Console: the app's stdout/stderr; App: platform-captured application logs (Linux: some
 * stacks only, so a Node app's own logs are in Console and, with telemetry, in Application Insights); Platform: start,
 * stop, container and health-check events. The audit categories (file, IP restrictions, antivirus) stay off: this
 * app has no file share or IP rules to audit, and each category is ingestion billed.
 */
export const APP_SERVICE_LOG_CATEGORIES = [
  "AppServiceHTTPLogs",
  "AppServiceConsoleLogs",
  "AppServiceAppLogs",
  "AppServicePlatformLogs",
] as const;
/** The diagnostic setting's name on the site (one per destination; a site may have at most five). */
export const PLATFORM_LOGS_SETTING_NAME = "platform-logs-to-workspace";

/** How long the platform keeps its HTTP logs, in days, and how much disk they may use, in MB (ARM allows 25-100). */
export const LOG_RETENTION_DAYS = 7;
export const LOG_QUOTA_MB = 35;

/** App settings as ARM's name/value list, sorted by name so the order never shows as a change. */
export function nameValuePairs(
  appSettings: LinuxWebAppArgs["appSettings"],
): pulumi.Output<{ name: string; value: string }[]> {
  return pulumi.output(appSettings).apply((settings) =>
    Object.keys(settings)
      .sort()
      .map((name) => ({ name, value: settings[name]! })),
  );
}
