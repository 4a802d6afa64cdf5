/**
 * Deployment slots. A slot (`web:WebAppSlot`) is a web app to every other rule (`isWebApp`): HTTPS only, TLS, FTP off,
 * a user-assigned identity, secretless client credentials, basic auth off through the `…Slot` policies. These rules
 * add what only a slot beside its site can break, because of what a swap moves and what it leaves
 * (https://learn.microsoft.com/azure/app-service/deploy-staging-slots): a swap moves app settings that are not slot
 * settings, and never moves managed identities.
 */
import { type PlannedResource, type StackRule, stackRule } from "./model";
import { arm, attachedIdentities, inputField, ref, show, stackSettingsOf } from "./shared";

export const isSlot = arm("web", "WebAppSlot");
export const isSite = arm("web", "WebApp");
export const isSlotConfigNames = arm("web", "WebAppSlotConfigurationNames");

/** The stack's site a slot belongs to: same resource group and site name (inputs identify; outputs say site/slot). */
function siteOf(slot: PlannedResource, resources: readonly PlannedResource[]): PlannedResource | undefined {
  const key = (r: PlannedResource) =>
    `${inputField(r, "resourceGroupName")}/${String(inputField(r, "name")).toLowerCase()}`;
  return resources.find((r) => isSite(r.type) && key(r) === key(slot));
}

/** Each slot of the stack with its site, when the site is in the stack too. */
function slotsWithSites(resources: readonly PlannedResource[]): { slot: PlannedResource; site: PlannedResource }[] {
  return resources
    .filter((r) => isSlot(r.type))
    .flatMap((slot) => {
      const site = siteOf(slot, resources);
      return site ? [{ slot, site }] : [];
    });
}

export const slotIdentityMatchesSite: StackRule = stackRule(
  "slot-identity-matches-site",
  "A deployment slot wears exactly the user-assigned identities of its site.",
  (resources) =>
    slotsWithSites(resources).flatMap(({ slot, site }) => {
      const ids = (r: PlannedResource) =>
        attachedIdentities(r, resources)
          .map((i) => i.id.toLowerCase())
          .sort();
      const [slotIds, siteIds] = [ids(slot), ids(site)];
      if (JSON.stringify(slotIds) === JSON.stringify(siteIds)) return [];
      return [
        {
          resource: slot,
          message:
            `${ref(slot)} wears identities ${show(slotIds)} but its site ${ref(site)} wears ${show(siteIds)}. ` +
            "A swap does not move managed identities, so after a swap production would sign in as another identity " +
            "than the one its FIC trusts (AADSTS70021). Fix: give the slot the site's identity: " +
            '{ type: "UserAssigned", userAssignedIdentities: [<the site\'s identity>] }.',
        },
      ];
    }),
);

export const slotSettingsDifferOnlyWhenSticky: StackRule = stackRule(
  "slot-settings-differ-only-when-sticky",
  "An app setting whose value differs between a site and its slot is a slot setting (WebAppSlotConfigurationNames).",
  (resources) =>
    slotsWithSites(resources).flatMap(({ slot, site }) => {
      const names = resources.find((r) => isSlotConfigNames(r.type) && siteOf(r, [site]) === site);
      const sticky = ((names && inputField(names, "appSettingNames")) ?? []).map((n: string) => n.toLowerCase());
      // Setting names are case-insensitive in App Service: compare them lower-cased, report them as written.
      const lower = (settings: Record<string, unknown>) =>
        new Map(Object.entries(settings).map(([k, v]) => [k.toLowerCase(), { k, v }]));
      const [ofSlot, ofSite] = [lower(stackSettingsOf(slot) ?? {}), lower(stackSettingsOf(site) ?? {})];
      const differing = [...new Set([...ofSlot.keys(), ...ofSite.keys()])]
        .filter((k) => ofSlot.get(k)?.v !== ofSite.get(k)?.v && !sticky.includes(k))
        .map((k) => (ofSite.get(k) ?? ofSlot.get(k))!.k);
      if (differing.length === 0) return [];
      const one = differing.length === 1;
      return [
        {
          resource: slot,
          message:
            `${ref(slot)} and its site ${ref(site)} differ in ${differing.join(", ")}, ` +
            `which ${one ? "is not a slot setting" : "are not slot settings"}` +
            `: a swap would carry the slot's value${one ? "" : "s"} into production (and Pulumi would see drift). ` +
            `Fix: give both the same value, or list ${one ? "it" : "them"} in a web.WebAppSlotConfigurationNames ` +
            "{ name: <site name>, appSettingNames: [...] }.",
        },
      ];
    }),
);

export const slotRules: readonly StackRule[] = [slotIdentityMatchesSite, slotSettingsDifferOnlyWhenSticky];
