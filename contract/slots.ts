/**
 * The staging-slot contract shared by the stack (components/staging-slot.ts), its configuration, the deploy step's swap
 * (deploy/swap.ts) and the policy pack (policy/rules/slots.ts): the slot's name, which plan tiers allow slots, which
 * settings stay with a slot, how the platform warms a slot up before a swap, and what happens to the slot afterwards.
 *
 * Sources (Microsoft Learn, "Set up staging environments in Azure App Service",
 * https://learn.microsoft.com/azure/app-service/deploy-staging-slots, and "App Service limits",
 * https://learn.microsoft.com/azure/azure-resource-manager/management/azure-subscription-service-limits
 * #app-service-limits):
 * - slots exist "when you're running in the Standard, Premium, or Isolated App Service plan tier"; Free, Shared and
 *   Basic have none (limits: Standard 5 slots, Premium and Isolated 20). A slot costs nothing extra: it runs on the
 *   plan's instances beside production.
 * - a swap moves app settings (unless marked as slot settings), the language stack and WebSockets; it does NOT move
 *   HTTPS Only, the TLS version, Always On, IP restrictions, diagnostic log settings, managed identities, publishing
 *   endpoints or custom domain names. So a slot must carry its own identity and hardening.
 * - before routing production traffic to the source slot, App Service applies the target's slot settings to every
 *   source instance (restarting them), then pings each instance at WEBSITE_SWAP_WARMUP_PING_PATH; "If the returned
 *   status code isn't in the list [WEBSITE_SWAP_WARMUP_PING_STATUSES], the warmup and swap operations are stopped."
 */
import { type PlanSku, planSkus } from "./catalogue";
import { READINESS_PATH } from "./readiness";
import { HostingSetting } from "./settings";

/** The one slot the stack adds. `az webapp deployment slot swap --slot staging --target-slot production` swaps it. */
export const STAGING_SLOT_NAME = "staging";

/** ARM's name for the production slot in a swap request (`targetSlot`) and in `az … --target-slot`. */
export const PRODUCTION_SLOT_NAME = "production";

/** Plan tiers (ARM `sku.tier`) whose apps may have deployment slots. */
export const SLOT_TIERS: readonly string[] = [
  "Standard",
  "Premium",
  "PremiumV2",
  "PremiumV3",
  "PremiumMV3",
  "PremiumV4",
  "Isolated",
  "IsolatedV2",
];

/** Whether a plan SKU this project knows allows deployment slots. */
export function allowsSlots(planSku: PlanSku): boolean {
  return SLOT_TIERS.includes(planSkus[planSku].tier);
}

/**
 * What happens to the staging slot after a successful swap, when it holds the previous production version:
 * - `keep`: it keeps running there, warm, so swapping back is instant (it uses the plan's memory and CPU, and the
 *   previous version keeps its identity's access).
 * - `stop`: the slot is stopped (ARM `…/slots/staging/stop`): the previous version no longer runs or holds the
 *   identity; swapping back means starting the slot first (`az webapp start --slot staging`). The next deploy
 *   starts it.
 */
export const slotAfterSwapModes = ["keep", "stop"] as const;
export type SlotAfterSwap = (typeof slotAfterSwapModes)[number];
export const DEFAULT_SLOT_AFTER_SWAP: SlotAfterSwap = "keep";

/**
 * App settings marked as slot settings (`WebAppSlotConfigurationNames.appSettingNames`): they stay with their slot in
 * a swap. Decided per setting:
 * - `AllowedHosts` stays: it lists custom domains, and custom domains are bound to production and are not swapped, so
 *   the list belongs to production (the slot gets none).
 * - Everything else travels with the code, on purpose: the `AzureAd__…` and Graph settings name the same registration
 *   and the same identity in both slots (one FIC trusts the identity both slots wear), `Redis__…` the same store (so
 *   sessions survive the swap), `WEBSITE_RUN_FROM_PACKAGE`/`SCM_DO_BUILD_DURING_DEPLOYMENT` how the package runs, and
 *   the warm-up settings below how the swap proves it. Identical values in both slots also mean a swap never shows as
 *   drift to Pulumi, and that no slot setting differs, so the swap does not restart the warmed-up instances.
 * - WEBSITE_HOSTNAME is App Service's own (each slot's default host name), not a setting the stack writes.
 */
export const STICKY_APP_SETTING_NAMES: readonly string[] = [HostingSetting.AllowedHosts];

/**
 * The platform's own pre-swap check, on every instance of the slot: ping `/readyz` and stop the swap unless it answers
 * 200, so no instance joins production before it proved the managed identity → FIC → Entra chain. Written to both
 * slots.
 */
export const SWAP_WARMUP_SETTINGS = {
  WEBSITE_SWAP_WARMUP_PING_PATH: READINESS_PATH,
  WEBSITE_SWAP_WARMUP_PING_STATUSES: "200",
} as const;

/** Why a staging slot cannot be added on this plan, with the fix; undefined when it can (or the tier is unknown). */
export function stagingSlotProblem(planSku: PlanSku, onExistingPlan: boolean): string | undefined {
  if (onExistingPlan || allowsSlots(planSku)) return undefined;
  return (
    `is true but planSku ${planSku} (${planSkus[planSku].tier} tier) has no deployment slots; ` +
    "App Service offers them from the Standard tier up. " +
    "Set planSku to S1 or P0v3 (pulumi config set planSku P0v3), or set stagingSlot to false."
  );
}

/**
 * Easy Auth's settings are per slot, and a swap applies the target's to the source first
 * (https://learn.microsoft.com/azure/app-service/deploy-staging-slots, "App Service authentication settings"): a slot
 * would need its own FIC-based auth settings, which the stack does not build yet.
 */
export const EASY_AUTH_SLOT_PROBLEM =
  "is true but authMode is easyAuth: App Service authentication is " +
  "configured per slot, and the staging slot does not " +
  "get Easy Auth settings yet. Set stagingSlot to false, or authMode to app (pulumi config set authMode app).";

/** Why the after-swap mode is not one this project knows, with the fix. */
export function slotAfterSwapProblem(value: string): string | undefined {
  return (slotAfterSwapModes as readonly string[]).includes(value)
    ? undefined
    : `"${value}" is not one of ${slotAfterSwapModes.join(", ")}; keep leaves the previous version running in the ` +
        "slot for a fast swap back, stop stops the slot.";
}
