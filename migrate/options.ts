/**
 * The migration command's inputs: the phase and its flags, validated before anything is read or changed. Every
 * message names the flag and the fix. Nothing here is secret: ids, URLs and names only.
 */
import { parseArgs } from "node:util";
import { clouds, type CloudName, isCloudName } from "../contract/clouds";
import { isGuid } from "../contract/settings";
import { badInput, positiveNumber } from "../deploy/cli";
import { isSiteId, isUserAssignedIdentityId } from "../deploy/arm-site";

export const PHASES = ["inspect", "add", "prove", "remove-secret", "delete-secret", "rollback"] as const;
export type Phase = (typeof PHASES)[number];

/** How `prove` decides that the app signs in without its secret. */
export type Proof =
  | { readonly kind: "readyz"; readonly url: string }
  | { readonly kind: "url"; readonly url: string }
  | { readonly kind: "operator" };

export interface MigrateOptions {
  readonly phase: Phase;
  /** The app registration's client (application) id. */
  readonly clientId: string;
  /** The web app's ARM resource id. */
  readonly siteId: string;
  /** The user-assigned identity's ARM resource id (created in the site's region by `add` when missing). */
  readonly identityId: string;
  readonly cloud: CloudName;
  /** The cloud's endpoints, each overridable (a local world on loopback). */
  readonly resourceManagerUrl: string;
  readonly graphBaseUrl: string;
  readonly graphScope: string;
  /** The Entra instance of the FIC's issuer, `{instance}{tenant}/v2.0`. */
  readonly instance: string;
  readonly tokenExchangeAudience: string;
  /** The federated credential's name on the registration. */
  readonly ficName: string;
  readonly proof?: Proof;
  /** How long `prove` waits for its proof. */
  readonly proofTimeoutMs: number;
  readonly proofIntervalMs: number;
  /** `delete-secret` removes password credentials only with this. */
  readonly confirmDelete: boolean;
  /** `rollback` after `remove-secret`: the secret's value comes from stdin (never a flag, never printed). */
  readonly secretFromStdin: boolean;
}

export const DEFAULT_FIC_NAME = "app-trusts-managed-identity";

export const USAGE = `npm run migrate -- <phase> --client-id <app id> --site-id <site resource id>
  --identity-id <UAMI resource id>
  phases: inspect (default, read-only) | add | prove | remove-secret | delete-secret | rollback
  site: --site-id /subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.Web/sites/<name>
        or --subscription <sub> --resource-group <group> --site-name <name>
  proof (prove, remove-secret, delete-secret): --readyz-url https://<host>/readyz (the sample app) |
        --proof-url <url that answers 200 only after a token redemption> | --confirmed-by-operator
  --confirm-delete (delete-secret)  --secret-stdin (rollback after remove-secret)  --cloud public|usgov|china
  --fic-name <name>  --proof-timeout-seconds 300  --arm-url / --graph-url / --instance (local or custom endpoints)`;

/** Parses `argv` (after `--`). Throws a bad-input error naming the flag and the fix. */
export function parseMigrateArgs(argv: readonly string[]): MigrateOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      "client-id": { type: "string" },
      "site-id": { type: "string" },
      subscription: { type: "string" },
      "resource-group": { type: "string" },
      "site-name": { type: "string" },
      "identity-id": { type: "string" },
      cloud: { type: "string" },
      "arm-url": { type: "string" },
      "graph-url": { type: "string" },
      instance: { type: "string" },
      "fic-name": { type: "string" },
      "readyz-url": { type: "string" },
      "proof-url": { type: "string" },
      "confirmed-by-operator": { type: "boolean" },
      "proof-timeout-seconds": { type: "string" },
      "proof-interval-ms": { type: "string" },
      "confirm-delete": { type: "boolean" },
      "secret-stdin": { type: "boolean" },
    },
  });
  if (positionals.length > 1) throw badInput(`one phase at a time, got ${positionals.join(", ")}`, USAGE);
  const phase = (positionals[0] ?? "inspect") as Phase;
  if (!PHASES.includes(phase)) {
    throw badInput(`unknown phase ${JSON.stringify(String(phase).slice(0, 40))}`, `use one of ${PHASES.join(", ")}`);
  }

  const clientId = values["client-id"] ?? "";
  if (!isGuid(clientId)) {
    throw badInput("--client-id must be the app registration's application (client) id, a GUID", USAGE);
  }
  const siteId = values["site-id"] ?? siteIdFromParts(values);
  if (!isSiteId(siteId)) {
    throw badInput(
      `--site-id must be a web app's resource id (or pass --subscription, --resource-group and --site-name), got ` +
        JSON.stringify(siteId.slice(0, 200)),
      "e.g. --site-id /subscriptions/<sub>/resourceGroups/<group>/providers/Microsoft.Web/sites/<name>",
    );
  }
  const identityId = values["identity-id"] ?? "";
  if (!isUserAssignedIdentityId(identityId)) {
    throw badInput(
      "--identity-id must be the user-assigned identity's resource id (add creates it when it does not exist)",
      "e.g. --identity-id /subscriptions/<sub>/resourceGroups/<group>/providers/" +
        "Microsoft.ManagedIdentity/userAssignedIdentities/<name>",
    );
  }
  const cloudName = values.cloud ?? "public";
  if (!isCloudName(cloudName)) throw badInput(`--cloud must be one of public, usgov, china`, "e.g. --cloud public");
  const cloud = clouds[cloudName];

  const proofs = [values["readyz-url"], values["proof-url"], values["confirmed-by-operator"]].filter(Boolean).length;
  if (proofs > 1) {
    throw badInput(
      "--readyz-url, --proof-url and --confirmed-by-operator are alternatives",
      "pass the one that fits the app",
    );
  }
  const proof: Proof | undefined = values["readyz-url"]
    ? { kind: "readyz", url: httpUrl(values["readyz-url"], "--readyz-url") }
    : values["proof-url"]
      ? { kind: "url", url: httpUrl(values["proof-url"], "--proof-url") }
      : values["confirmed-by-operator"]
        ? { kind: "operator" }
        : undefined;

  const ficName = values["fic-name"] ?? DEFAULT_FIC_NAME;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/.test(ficName)) {
    throw badInput("--fic-name must be 3-120 letters, digits, '-' or '_', starting with a letter or digit", "");
  }
  const timeout = positiveNumber(values["proof-timeout-seconds"], "--proof-timeout-seconds", 300);
  const interval = positiveNumber(values["proof-interval-ms"], "--proof-interval-ms", 5000);
  const instance = values.instance ? httpUrl(values.instance, "--instance").replace(/\/?$/, "/") : cloud.instance;
  return {
    phase,
    clientId: clientId.toLowerCase(),
    siteId,
    identityId,
    cloud: cloudName,
    resourceManagerUrl: values["arm-url"]
      ? httpUrl(values["arm-url"], "--arm-url")
      : cloud.resourceManagerScope.replace(/\/\.default$/, ""),
    graphBaseUrl: values["graph-url"] ? httpUrl(values["graph-url"], "--graph-url") : cloud.graphBaseUrl,
    graphScope: cloud.graphScope,
    instance,
    tokenExchangeAudience: cloud.tokenExchangeAudience,
    ficName,
    ...(proof ? { proof } : {}),
    proofTimeoutMs: timeout * 1000,
    proofIntervalMs: interval,
    confirmDelete: values["confirm-delete"] === true,
    secretFromStdin: values["secret-stdin"] === true,
  };
}

function siteIdFromParts(values: Record<string, unknown>): string {
  const sub = values.subscription;
  const group = values["resource-group"];
  const name = values["site-name"];
  if (typeof sub !== "string" || typeof group !== "string" || typeof name !== "string") return "";
  return `/subscriptions/${sub}/resourceGroups/${group}/providers/Microsoft.Web/sites/${name}`;
}

/** An https URL, or http on loopback (a local world). */
function httpUrl(value: string, flag: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw badInput(`${flag} is not a URL`, `pass an absolute https URL to ${flag}`);
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
    throw badInput(`${flag} must use https (http only on loopback)`, `pass https://… to ${flag}`);
  }
  if (url.username || url.password) throw badInput(`${flag} must not carry credentials`, "remove user:password@");
  return url.href.replace(/\/$/, "");
}

/** The flags that name the same registration, site and identity again: for the way-back and next-phase lines. */
export function targetFlags(o: MigrateOptions): string {
  const local = [
    o.cloud !== "public" ? `--cloud ${o.cloud}` : "",
    o.resourceManagerUrl !== clouds[o.cloud].resourceManagerScope.replace(/\/\.default$/, "")
      ? `--arm-url ${o.resourceManagerUrl}`
      : "",
    o.graphBaseUrl !== clouds[o.cloud].graphBaseUrl ? `--graph-url ${o.graphBaseUrl}` : "",
    o.instance !== clouds[o.cloud].instance ? `--instance ${o.instance}` : "",
  ].filter(Boolean);
  return [`--client-id ${o.clientId}`, `--site-id ${o.siteId}`, `--identity-id ${o.identityId}`, ...local].join(" ");
}
