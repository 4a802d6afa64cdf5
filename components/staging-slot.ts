import * as pulumi from "@pulumi/pulumi";
import * as web from "@pulumi/azure-native/web";
import { STAGING_SLOT_NAME, STICKY_APP_SETTING_NAMES } from "../contract/slots";
import { scmHostNameOf } from "./app-deployment";
import { LOG_QUOTA_MB, LOG_RETENTION_DAYS, type LinuxSiteShape, nameValuePairs } from "./linux-web-app";

/** Arguments of {@link StagingSlot}. */
export interface StagingSlotArgs {
  /** Required. The resource group the site lives in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Required. The site (production slot) name, from the site resource so the slot waits for it. */
  readonly siteName: pulumi.Input<string>;
  /** Required. The site's hosting and hardening (`LinuxWebApp.shape`): the slot repeats it exactly. */
  readonly shape: LinuxSiteShape;
  /**
   * Required. The site's complete app settings. The slot gets the same ones except the slot settings
   * (`STICKY_APP_SETTING_NAMES`, contract/slots.ts), which belong to production.
   */
  readonly appSettings: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** Optional. Tags for the slot. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * A `staging` deployment slot beside a {@link LinuxWebApp}, for deploys that never take production down: the deploy
 * step pushes the package here, waits for this slot's `/readyz`, then swaps it into production (deploy/swap.ts).
 *
 * A swap moves the code and the app settings, but not the managed identity, HTTPS Only, TLS, Always On, diagnostic log
 * settings or publishing endpoints (https://learn.microsoft.com/azure/app-service/deploy-staging-slots), so the slot
 * gets all of them itself: the same user-assigned identity (the app registration's one FIC trusts that identity, so it
 * serves both slots), the same site configuration, SCM and FTP basic auth off, the same platform logs. It also marks
 * the slot settings on the site (`WebAppSlotConfigurationNames`, the site's `slotConfigNames`).
 */
export class StagingSlot extends pulumi.ComponentResource {
  /** ARM resource ID of the slot (`…/sites/{site}/slots/staging`). */
  public readonly id: pulumi.Output<string>;
  /** The slot's name: `staging`. */
  public readonly slotName: pulumi.Output<string>;
  /** The slot's default host name, as App Service assigned it (never built by hand: unique host names carry a hash). */
  public readonly defaultHostName: pulumi.Output<string>;
  /** The slot's SCM (Kudu) host, as App Service reports it in the slot's `hostNameSslStates` (Repository entry). */
  public readonly scmHostName: pulumi.Output<string>;
  /** What a deployment to the slot must wait for: the slot (with its settings) and its two basic-auth-off policies. */
  public readonly deploymentDependencies: readonly pulumi.Resource[];

  constructor(name: string, args: StagingSlotArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:StagingSlot", name, {}, opts);
    const slotSettings = pulumi.output(args.appSettings).apply((settings) => withoutStickySettings(settings));

    // Create the slot with the site's identity, hosting and hardening; Kudu keeps answering while the slot is stopped
    // (scmSiteAlsoStopped false, the default, stated), so a deploy can reach a slot the last swap left stopped.
    const slot = new web.WebAppSlot(
      `${name}-slot`,
      {
        ...args.shape,
        resourceGroupName: args.resourceGroupName,
        name: args.siteName,
        slot: STAGING_SLOT_NAME,
        scmSiteAlsoStopped: false,
        siteConfig: { ...args.shape.siteConfig, appSettings: nameValuePairs(slotSettings) },
        tags: args.tags,
      },
      { parent: this },
    );
    const onSlot = { resourceGroupName: args.resourceGroupName, name: args.siteName, slot: STAGING_SLOT_NAME };

    // Turn off basic-auth publishing on the slot's own SCM and FTP endpoints: publishing endpoints are per slot.
    const afterSlot = { parent: this, dependsOn: [slot] };
    const scmBasicAuth = new web.WebAppScmAllowedSlot(`${name}-scm-basic-auth`, { ...onSlot, allow: false }, afterSlot);
    const ftpBasicAuth = new web.WebAppFtpAllowedSlot(`${name}-ftp-basic-auth`, { ...onSlot, allow: false }, afterSlot);

    // Diagnostic log settings are not swapped either: the same bounded HTTP logs and error pages as the site.
    new web.WebAppDiagnosticLogsConfigurationSlot(
      `${name}-logs`,
      {
        ...onSlot,
        httpLogs: { fileSystem: { enabled: true, retentionInDays: LOG_RETENTION_DAYS, retentionInMb: LOG_QUOTA_MB } },
        detailedErrorMessages: { enabled: true },
      },
      { parent: this, dependsOn: [slot] },
    );

    // Mark the settings that stay with their slot in a swap (why each one: contract/slots.ts). This is the site's
    // `slotConfigNames`, one per site; everything not listed travels with the code.
    new web.WebAppSlotConfigurationNames(
      `${name}-slot-settings`,
      {
        resourceGroupName: args.resourceGroupName,
        name: args.siteName,
        appSettingNames: [...STICKY_APP_SETTING_NAMES],
      },
      { parent: this, dependsOn: [slot] },
    );

    this.id = slot.id;
    this.slotName = pulumi.output(STAGING_SLOT_NAME);
    this.defaultHostName = slot.defaultHostName;
    this.scmHostName = scmHostNameOf(slot);
    this.deploymentDependencies = [slot, scmBasicAuth, ftpBasicAuth];
    this.registerOutputs({
      id: this.id,
      slotName: this.slotName,
      defaultHostName: this.defaultHostName,
      scmHostName: this.scmHostName,
    });
  }
}

/** The site's settings without the slot settings (App Service setting names are case-insensitive). */
export function withoutStickySettings<T>(settings: Record<string, T>): Record<string, T> {
  const sticky = STICKY_APP_SETTING_NAMES.map((n) => n.toLowerCase());
  return Object.fromEntries(Object.entries(settings).filter(([key]) => !sticky.includes(key.toLowerCase())));
}
