/**
 * Rules over the whole stack, for what a single resource cannot tell: a web app's publishing policies, the count of
 * federated credentials per parent, and whether a web app's settings, identity and its app registration's FICs agree.
 */
import { AzureAdSetting } from "../../contract/settings";
import { type PlannedResource, type StackRule, stackRule } from "./model";
import {
  MAX_FICS_PER_PARENT,
  field,
  inputField,
  isAppFic,
  isFic,
  isFtpAllowed,
  isScmAllowed,
  isWebApp,
  ref,
  show,
  signInWebApps,
} from "./shared";

export const webAppBasicAuthOff: StackRule = stackRule(
  "webapp-basic-auth-off",
  "Every web app has SCM and FTP basic-auth publishing turned off (allow: false).",
  (resources) =>
    resources
      .filter((r) => isWebApp(r.type))
      .flatMap((site) => {
        // Identify by inputs: a publishing policy's `name` output is "scm"/"ftp", its input the site's name.
        const key = (r: PlannedResource) =>
          [
            inputField(r, "resourceGroupName"),
            inputField(r, "name"),
            r.type.endsWith("Slot") ? inputField(r, "slot") : "",
          ].join("/");
        return (
          [
            ["SCM", isScmAllowed, "WebAppScmAllowed"],
            ["FTP", isFtpAllowed, "WebAppFtpAllowed"],
          ] as const
        ).flatMap(([kind, is, cls]) => {
          const policies = resources.filter((p) => is(p.type) && key(p) === key(site));
          if (policies.length === 0) {
            return [
              {
                resource: site,
                message:
                  `${ref(site)} leaves ${kind} basic-auth publishing on: no ${cls} resource turns it off. Fix: add ` +
                  `web.${cls} { resourceGroupName, name: <site name>, allow: false }.`,
              },
            ];
          }
          return policies
            .filter((p) => field(p, "allow") !== false)
            .map((p) => ({
              resource: p,
              message:
                `${ref(p)} sets allow ${show(field(p, "allow"))} for ${ref(site)}: ${kind} ` +
                `basic-auth publishing credentials work. Fix: set allow: false.`,
            }));
        });
      }),
);

export const ficCount: StackRule = stackRule(
  "fic-count",
  `At most ${MAX_FICS_PER_PARENT} federated identity credentials per app registration or user-assigned identity.`,
  (resources) => {
    const byParent = new Map<string, PlannedResource[]>();
    for (const r of resources.filter((x) => isFic(x.type))) {
      const parent = isAppFic(r.type)
        ? `app registration ${field(r, "applicationId")}`
        : `identity ${field(r, "resourceGroupName")}/${field(r, "resourceName")}`;
      byParent.set(parent, [...(byParent.get(parent) ?? []), r]);
    }
    return [...byParent]
      .filter(([, fics]) => fics.length > MAX_FICS_PER_PARENT)
      .map(([parent, fics]) => ({
        resource: fics[MAX_FICS_PER_PARENT],
        message:
          `${parent} has ${fics.length} federated identity credentials; Entra allows ${MAX_FICS_PER_PARENT}. Fix: ` +
          `remove ${fics.length - MAX_FICS_PER_PARENT}, or split them across identities.`,
      }));
  },
);

export const ficTrustsWebAppIdentity: StackRule = stackRule(
  "fic-trusts-webapp-identity",
  "The FICs of a web app's app registration trust the principal ID of an identity the web app wears, and nothing else.",
  (resources) =>
    signInWebApps(resources).flatMap(({ site, app, fics, identities }) => {
      if (fics.length === 0) {
        return [
          {
            resource: app,
            message:
              `${ref(app)}, which ${ref(site)} signs in as, has no federated identity credential, so sign-in fails ` +
              `(AADSTS70021). Fix: add one whose subject is the principal ID of the identity the web app wears.`,
          },
        ];
      }
      const principals = identities.map((i) => i.principalId);
      return fics
        .filter((f) => !principals.includes(field(f, "subject")))
        .map((f) => {
          const subject = field(f, "subject");
          const hint = identities.some((i) => i.clientId === subject)
            ? " That is the identity's client ID; a FIC's subject is its principal (object) ID."
            : "";
          return {
            resource: f,
            message:
              `${ref(f)} on ${ref(app)} trusts subject ${show(subject)}, which is not the principal ID of an ` +
              `identity ${ref(site)} wears (${principals.map(show).join(", ") || "none"}).${hint} Fix: set subject ` +
              `to the principal ID of the web app's user-assigned identity.`,
          };
        });
    }),
);

export const webAppIdentityMatchesFic: StackRule = stackRule(
  "webapp-identity-matches-fic",
  "A web app's ManagedIdentityClientId is the client ID of the identity its app registration's FIC trusts.",
  (resources) =>
    signInWebApps(resources).flatMap(({ site, fics, identities, settings }) => {
      const trusted = identities.filter((i) => fics.some((f) => field(f, "subject") === i.principalId));
      const clientId = settings[AzureAdSetting.ManagedIdentityClientId];
      if (trusted.length === 0 || trusted.some((i) => i.clientId === clientId)) return [];
      const hint = trusted.some((i) => i.principalId === clientId)
        ? " That is the identity's principal ID; the setting takes its client ID."
        : "";
      return [
        {
          resource: site,
          message:
            `${ref(site)} has ${AzureAdSetting.ManagedIdentityClientId} ${show(clientId)}, but the identity its FIC ` +
            `trusts has client ID ${trusted.map((i) => show(i.clientId)).join(" or ")}.${hint} Fix: set ` +
            `${AzureAdSetting.ManagedIdentityClientId} to ${show(trusted[0]!.clientId)}.`,
        },
      ];
    }),
);

export const webAppTokenExchangeMatchesFic: StackRule = stackRule(
  "webapp-token-exchange-matches-fic",
  "A web app's TokenExchangeUrl is the audience of the FIC that trusts its identity.",
  (resources) =>
    signInWebApps(resources).flatMap(({ site, fics, identities, settings }) => {
      const principals = identities.map((i) => i.principalId);
      const trusting = fics.filter((f) => principals.includes(field(f, "subject")));
      const audiences = [...new Set((trusting.length ? trusting : fics).flatMap((f) => field(f, "audiences") ?? []))];
      const url = settings[AzureAdSetting.TokenExchangeUrl];
      if (audiences.length === 0 || audiences.includes(url)) return [];
      return [
        {
          resource: site,
          message:
            `${ref(site)} has ${AzureAdSetting.TokenExchangeUrl} ${show(url)}, but its FIC accepts ` +
            `${audiences.map(show).join(", ")}: token exchange would fail (AADSTS700212). Fix: set ` +
            `${AzureAdSetting.TokenExchangeUrl} to ${show(audiences[0])}.`,
        },
      ];
    }),
);
