/**
 * Adopting an existing registration and web app (components/adoption.ts): the two deploy/ scripts that change objects
 * the stack does not own run as commands, so what they may target is checked here. Each may only add the stack's own
 * chain: the site script the stack's identity and that identity's credential, the redirect script one https URI on
 * the stack's site, on the registration whose federated credential trusts the stack's identity.
 */
import { clouds } from "../../contract/clouds";
import { type PlannedResource, type StackFinding, type StackRule, stackRule } from "./model";
import { field, isAppFic, isCommand, isUami, isWebApp, ref, show } from "./shared";

/** The adopt scripts' command lines (components/adoption.ts), and the one delete step each may have: its undo. */
export const ADOPT_SCRIPTS = ["deploy/adopt-site.ts", "deploy/adopt-redirect-uri.ts"].map(
  (script) => `node --import tsx ${script}`,
);
export const ADOPT_UNDO_FLAG = "--undo";
/** The rules of this file, broken against the adopting stack in test/policy/adopt.test.ts. */
export const ADOPT_RULE_NAMES = ["adopt-scripts-own-chain"];

const env = (r: PlannedResource, key: string): unknown => field(r, "environment")?.[key];
const runs = (r: PlannedResource, script: string) => isCommand(r.type) && field(r, "create") === script;

/** The stack's identities, with the app registrations (object IDs) whose federated credentials trust each. */
function chain(resources: readonly PlannedResource[]) {
  const fics = resources.filter((r) => isAppFic(r.type));
  return resources
    .filter((r) => isUami(r.type))
    .map((u) => {
      const principalId = field(u, "principalId");
      const trusting = fics.filter((f) => principalId !== undefined && field(f, "subject") === principalId);
      return {
        id: u.id ?? field(u, "id"),
        name: field(u, "name"),
        clientId: field(u, "clientId"),
        audiences: trusting.flatMap((f) => (field(f, "audiences") as string[] | undefined) ?? []),
        appObjectIds: trusting.map((f) => String(field(f, "applicationId") ?? "").replace(/^\/applications\//, "")),
      };
    });
}

/** The cloud endpoints each step may name (contract/clouds.ts). */
const ENDPOINTS: readonly [string, readonly string[]][] = [
  ["ADOPT_GRAPH_URL", Object.values(clouds).map((c) => c.graphBaseUrl)],
  ["ADOPT_ARM_SCOPE", Object.values(clouds).map((c) => c.resourceManagerScope)],
  ["ADOPT_INSTANCE", Object.values(clouds).map((c) => c.instance)],
];

/** App Service's default-host domains of the supported clouds (public, US Government, China). */
const APP_SERVICE_DOMAINS = ["azurewebsites.net", "azurewebsites.us", "chinacloudsites.cn"];

/**
 * Whether `host` is a default host name App Service gives site `name`: `<name>.<domain>`, or the unique default host
 * name `<name>-<random hash>.<region>.<domain>` ("myapp-ds27dh7271aah175.westus-01.azurewebsites.net", MicrosoftDocs/
 * azure-docs app-service/includes/regionalization-note.md). A custom domain or an App Service Environment's host is not
 * accepted here: nothing in the plan shows whose it is.
 */
function isDefaultHostOf(host: string, name: string): boolean {
  const h = host.toLowerCase();
  const n = name.toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return APP_SERVICE_DOMAINS.some((domain) =>
    new RegExp(`^${n}(?:-[a-z0-9]{16}\\.[a-z0-9-]+)?\\.${domain.replace(/\./g, "\\.")}$`).test(h),
  );
}

/** Values the engine does not know yet (a first preview) are checked when it does. */
const known = (v: unknown) => typeof v === "string" && v !== "";

export const adoptScriptsOwnChain: StackRule = stackRule(
  "adopt-scripts-own-chain",
  "The adopt scripts add only the stack's own chain to an adopted site and registration: the stack's identity and " +
    "its credential, and an https redirect URI on the stack's site of the registration that trusts that identity.",
  (resources) => {
    const identities = chain(resources);
    const [siteScript, redirectScript] = ADOPT_SCRIPTS as [string, string];
    const findings: StackFinding[] = [];
    const flag = (resource: PlannedResource, message: string) => findings.push({ resource, message });

    // One adopted site and one adopted registration per stack (existingWebAppName, existingAppClientId): a second
    // step of either script would put the app's identity on another site, or its redirect URI on another app.
    for (const script of ADOPT_SCRIPTS) {
      for (const extra of resources.filter((r) => runs(r, script)).slice(1)) {
        flag(
          extra,
          `${ref(extra)} is a second ${script.replace(/^node --import tsx /, "")} step: a stack adopts one site and ` +
            "one registration, and another step would give this stack's identity (or redirect URI) to another. " +
            "Fix: remove it; adopt the other app in a stack of its own.",
        );
      }
    }

    // The endpoints the steps send the operator's token to: a cloud's own, never another host.
    for (const cmd of resources.filter((r) => runs(r, siteScript) || runs(r, redirectScript))) {
      for (const [key, allowed] of ENDPOINTS) {
        const value = env(cmd, key);
        if (runs(cmd, siteScript) === (key === "ADOPT_GRAPH_URL") || !known(value)) continue;
        if (!allowed.includes(String(value))) {
          flag(
            cmd,
            `${ref(cmd)} has ${key} ${show(value)}, which is not a cloud's (${allowed.map(show).join(", ")}): the ` +
              "step would send the operator's token, or the app's sign-in, elsewhere. Fix: use the cloud's value " +
              "(contract/clouds.ts).",
          );
        }
      }
    }

    for (const cmd of resources.filter((r) => runs(r, siteScript))) {
      const siteHost = env(cmd, "ADOPT_SITE_HOST");
      const siteName =
        String(env(cmd, "ADOPT_SITE_ID") ?? "")
          .split("/")
          .at(-1) ?? "";
      if (known(siteHost) && known(env(cmd, "ADOPT_SITE_ID")) && !isDefaultHostOf(String(siteHost), siteName)) {
        flag(
          cmd,
          `${ref(cmd)} has ADOPT_SITE_HOST ${show(siteHost)}, which is not a host App Service gives site ` +
            `${show(siteName)} (ADOPT_SITE_ID): the pack takes it as the stack's site, so a redirect URI there would ` +
            "pass. Fix: pass the adopted site's own defaultHostName.",
        );
      }
      const id = env(cmd, "ADOPT_IDENTITY_ID");
      // By ID, else (the CLI's stack view has no IDs) by the name that ends the ID, as attachedIdentities does.
      const mine = identities.find(
        (i) =>
          known(id) &&
          (String(i.id).toLowerCase() === String(id).toLowerCase() ||
            (i.id === undefined && String(i.name).toLowerCase() === String(id).split("/").at(-1)?.toLowerCase())),
      );
      if (known(id) && !mine) {
        flag(cmd, `${ref(cmd)} adds identity ${show(id)}, which is not this stack's. Fix: pass the stack's own.`);
        continue;
      }
      const clientId = env(cmd, "ADOPT_MI_CLIENT_ID");
      if (mine && known(clientId) && known(mine.clientId) && clientId !== mine.clientId) {
        flag(
          cmd,
          `${ref(cmd)} presents managed identity ${show(clientId)}, but adds identity ${show(id)} (client ID ` +
            `${show(mine.clientId)}). Fix: set ADOPT_MI_CLIENT_ID to the added identity's client ID.`,
        );
      }
      const audience = env(cmd, "ADOPT_TOKEN_EXCHANGE_URL");
      if (mine && known(audience) && mine.audiences.length > 0 && !mine.audiences.includes(String(audience))) {
        flag(
          cmd,
          `${ref(cmd)} exchanges tokens for ${show(audience)}, but the federated credential trusting the identity ` +
            `accepts ${mine.audiences.map(show).join(", ")}. Fix: use the credential's audience.`,
        );
      }
    }

    const hosts = [
      ...resources
        .filter((r) => isWebApp(r.type))
        .map((s) => field(s, "defaultHostName"))
        .filter(known)
        .map((h) => String(h).toLowerCase()),
      ...adoptedSiteHosts(resources),
    ];
    const trustedApps = identities.flatMap((i) => i.appObjectIds).map((o) => o.toLowerCase());
    for (const cmd of resources.filter((r) => runs(r, redirectScript))) {
      const app = env(cmd, "ADOPT_APP_OBJECT_ID");
      if (known(app) && !trustedApps.includes(String(app).toLowerCase())) {
        flag(
          cmd,
          `${ref(cmd)} changes registration ${show(app)}, whose federated credentials do not trust this stack's ` +
            "identity. Fix: target the adopted registration the stack adds its federated credential to.",
        );
      }
      const uri = env(cmd, "ADOPT_REDIRECT_URI");
      if (!known(uri)) continue;
      let url: URL | undefined;
      try {
        url = new URL(String(uri));
      } catch {
        url = undefined;
      }
      if (url?.protocol !== "https:" || url.search || url.hash || !hosts.includes(url.hostname)) {
        flag(
          cmd,
          `${ref(cmd)} registers redirect URI ${show(uri)}, which is not https on this stack's site ` +
            `(${hosts.map(show).join(", ") || "none"}): sign-in codes would be sent there. Fix: register only ` +
            "https://<the site's host name><callback path>.",
        );
      }
    }
    return findings;
  },
);

/**
 * Whether an adopt-site command of this stack puts identity `uami` on an adopted site (by ID, else by the name that
 * ends the ID): such an identity is worn, as one a web app of the stack wears (fic-trust-allowed).
 */
export function wornOnAdoptedSite(uami: PlannedResource, resources: readonly PlannedResource[]): boolean {
  const [siteScript] = ADOPT_SCRIPTS as [string];
  const id = String(uami.id ?? field(uami, "id") ?? "").toLowerCase();
  const name = String(field(uami, "name") ?? "").toLowerCase();
  return resources
    .filter((r) => runs(r, siteScript))
    .map((c) => String(env(c, "ADOPT_IDENTITY_ID") ?? "").toLowerCase())
    .some((added) => added !== "" && (added === id || (name !== "" && added.split("/").at(-1) === name)));
}

/**
 * The registration an app FIC is on, when this stack adopts it rather than creates it: an adopt-redirect-uri command
 * of the stack targets the same registration (`/applications/{objectId}`). Returned as a stand-in resource, for
 * messages; undefined when the stack does not adopt it.
 */
export function adoptedRegistration(
  applicationId: unknown,
  resources: readonly PlannedResource[],
): PlannedResource | undefined {
  const [, redirectScript] = ADOPT_SCRIPTS as [string, string];
  const objectId = String(applicationId ?? "")
    .replace(/^\/applications\//, "")
    .toLowerCase();
  const adopted = resources.some(
    (r) => runs(r, redirectScript) && String(env(r, "ADOPT_APP_OBJECT_ID") ?? "").toLowerCase() === objectId,
  );
  return adopted && objectId !== "" ? { type: "adopted registration", name: objectId, props: {} } : undefined;
}

/** The host names of the sites this stack adopts (ADOPT_SITE_HOST of its adopt-site steps), lower case. */
export function adoptedSiteHosts(resources: readonly PlannedResource[]): string[] {
  const [siteScript] = ADOPT_SCRIPTS as [string];
  return resources
    .filter((r) => runs(r, siteScript))
    .map((c) => env(c, "ADOPT_SITE_HOST"))
    .filter(known)
    .map((h) => String(h).toLowerCase());
}
