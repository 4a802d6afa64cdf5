/**
 * Adds the stack's redirect URI to an adopted app registration, or (with `--undo`, on `pulumi destroy`) removes it
 * again, and touches no other URI: a read-modify-write of the registration's `web.redirectUris` through Microsoft
 * Graph, as the operator (DefaultAzureCredential; in GitHub Actions a fresh OIDC token per request).
 *
 *   node --import tsx deploy/adopt-redirect-uri.ts [--undo] --graph-url https://graph.microsoft.com/v1.0
 *     --app-object-id <registration object ID> --redirect-uri https://<host>/signin-oidc
 *
 * Or ADOPT_GRAPH_URL, ADOPT_APP_OBJECT_ID, ADOPT_REDIRECT_URI in the environment; none is secret. Why not azuread's
 * `ApplicationRedirectUris`: it owns every redirect URI of its type, so on an adopted registration it would delete
 * the owner's other URIs on create and all of them on destroy.
 *
 * Graph: `GET /applications/{id}?$select=web` then `PATCH /applications/{id}` with
 * `{ "web": { "redirectUris": [...] } }`
 * (learn.microsoft.com/graph/api/application-update, learn.microsoft.com/graph/api/resources/webapplication). The
 * create step prints `adopt-record: {"addedRedirectUri":true|false}` last; Pulumi keeps it as the command's stdout
 * and hands it back in PULUMI_COMMAND_STDOUT on delete, so the undo removes the URI only when the create added it (a
 * URI the owner had registered before stays). Graph has no ETag on applications: a change made by someone else
 * between the read and the write is overwritten for this one list, so run it when nobody edits the registration.
 *
 * Permissions: the operator must be allowed to update the registration: an owner of it (Application Developer or any
 * user, as owner), Application Administrator or Cloud Application Administrator; a service principal needs Graph
 * `Application.ReadWrite.OwnedBy` (as an owner) or `Application.ReadWrite.All`.
 */
import { parseArgs } from "node:util";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { readRecord, recordLine, withRedirectUri, withoutRedirectUri } from "../contract/adopt";
import { isGuid } from "../contract/settings";
import { DeployStepError, ExitCode, badInput, entraToken, oneLine, runMain } from "./cli";
import { gitHubActionsCredentialFromEnv } from "./github-actions-credential";

const NAME = "adopt-redirect-uri";

export interface RedirectUriOptions {
  /** Microsoft Graph's v1.0 base URL of the cloud, e.g. `https://graph.microsoft.com/v1.0`. */
  readonly graphUrl: string;
  /** The adopted registration's object ID (not its client ID). */
  readonly appObjectId: string;
  /** The stack's redirect URI: `https://{site host}{callbackPath}`. */
  readonly redirectUri: string;
  /** Remove the URI (only when `previousStdout` records that the create step added it). */
  readonly undo?: boolean;
  /** The create step's stdout (PULUMI_COMMAND_STDOUT), for the undo. */
  readonly previousStdout?: string;
  readonly credential?: TokenCredential;
  readonly log?: (line: string) => void;
  readonly fetch?: typeof fetch;
}

const PERMISSION_FIX =
  "Updating a registration's redirect URIs needs you to own it, or the Application Administrator or Cloud " +
  "Application Administrator role (a service principal: Graph Application.ReadWrite.OwnedBy as an owner, or " +
  "Application.ReadWrite.All, granted by a Privileged Role Administrator). Check `az account show` is the " +
  "registration's tenant.";

/** Adds (or with `undo` removes) the stack's redirect URI; returns the line to print last (create) or undefined. */
export async function adoptRedirectUri(options: RedirectUriOptions): Promise<void> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const graphUrl = requireGraphUrl(options.graphUrl);
  if (!isGuid(options.appObjectId ?? "")) {
    throw badInput("--app-object-id must be the registration's object ID (a GUID)", "pass the object ID");
  }
  const uri = requireRedirectUri(options.redirectUri);
  const credential = options.credential ?? gitHubActionsCredentialFromEnv(process.env) ?? new DefaultAzureCredential();
  const scope = `${new URL(graphUrl).origin}/.default`;
  const token = await getToken(credential, scope);
  const graph = new Graph(graphUrl, `Bearer ${token}`, options.fetch ?? fetch);
  const path = `/applications/${options.appObjectId}`;

  if (options.undo) {
    const record = readRecord(options.previousStdout);
    if (record?.addedRedirectUri !== true) {
      log(
        record === undefined
          ? "no record of the create step; leaving the registration's redirect URIs as they are"
          : `${uri} was registered before the stack adopted the registration; leaving it`,
      );
      return;
    }
    let current: string[];
    try {
      current = await graph.redirectUris(path);
    } catch (error) {
      // A registration deleted since (by its owner) holds nothing of the stack's: destroy goes on.
      if (!(error instanceof DeployStepError && error.exitCode === ExitCode.NotFound)) throw error;
      log("the registration no longer exists; nothing to remove");
      return;
    }
    const next = withoutRedirectUri(current, uri);
    if (next.length === current.length) {
      log(`${uri} is no longer registered; nothing to remove`);
      return;
    }
    await graph.setRedirectUris(path, next);
    log(`removed ${uri}; kept the registration's ${next.length} other redirect URI(s)`);
    return;
  }

  const current = await graph.redirectUris(path);
  const next = withRedirectUri(current, uri);
  if (next === undefined) {
    log(`${uri} is already registered; the stack leaves it (and never removes it)`);
    log(recordLine({ addedRedirectUri: false }));
    return;
  }
  await graph.setRedirectUris(path, next);
  log(`added ${uri}; kept the registration's ${current.length} other redirect URI(s)`);
  log(recordLine({ addedRedirectUri: true }));
}

/** The cloud's Graph v1.0 URL: https, a host name (or loopback in tests), path `/v1.0`. */
function requireGraphUrl(value: string | undefined): string {
  let url: URL | undefined;
  try {
    url = new URL(value ?? "");
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || url.pathname.replace(/\/$/, "") !== "/v1.0" || url.search || url.hash) {
    throw badInput(
      `--graph-url must be Microsoft Graph's v1.0 URL, got ${JSON.stringify(String(value).slice(0, 100))}`,
      "pass e.g. https://graph.microsoft.com/v1.0",
    );
  }
  return `${url.origin}/v1.0`;
}

function requireRedirectUri(value: string | undefined): string {
  let url: URL | undefined;
  try {
    url = new URL(value ?? "");
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:" || url.search || url.hash || url.username || url.password) {
    throw badInput(
      "--redirect-uri must be an https URL without query or fragment, got " +
        JSON.stringify(String(value).slice(0, 100)),
      "pass https://<site host><callbackPath>",
    );
  }
  return value!;
}

function getToken(credential: TokenCredential, scope: string): Promise<string> {
  return entraToken(
    credential,
    scope,
    "Microsoft Graph",
    "On a laptop run `az login`; in CI sign in with OIDC. No secret is needed.",
  );
}

/** The two Graph calls, with each failure turned into its fix; the token goes to the Graph origin only. */
class Graph {
  constructor(
    private readonly base: string,
    private readonly authorization: string,
    private readonly fetcher: typeof fetch,
  ) {}

  async redirectUris(path: string): Promise<string[]> {
    const body = (await this.send("GET", `${path}?$select=web`, undefined, "read the registration")) as {
      web?: { redirectUris?: unknown };
    };
    const uris = body?.web?.redirectUris;
    if (uris !== undefined && uris !== null && !(Array.isArray(uris) && uris.every((u) => typeof u === "string"))) {
      throw new DeployStepError(
        "Microsoft Graph returned web.redirectUris that is not a list of strings",
        "retry; if it persists, check the registration in the Entra admin center",
        ExitCode.Unexpected,
      );
    }
    return (uris as string[] | undefined) ?? [];
  }

  async setRedirectUris(path: string, uris: readonly string[]): Promise<void> {
    await this.send("PATCH", path, { web: { redirectUris: uris } }, "update the registration's redirect URIs");
  }

  private async send(method: string, path: string, body: unknown, what: string): Promise<unknown> {
    let res: Response;
    try {
      res = await this.fetcher(`${this.base}${path}`, {
        method,
        headers: {
          authorization: this.authorization,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "error",
      });
    } catch (error) {
      throw new DeployStepError(
        `could not reach Microsoft Graph to ${what}: ` +
          oneLine(error instanceof Error ? error.message : String(error)),
        "check the network and the cloud (config cloud), then run again",
        ExitCode.Unreachable,
      );
    }
    const text = await res.text();
    if (res.ok) return text ? JSON.parse(text) : undefined;
    const code = graphErrorCode(text);
    if (res.status === 401 || res.status === 403) {
      throw new DeployStepError(
        `Microsoft Graph refused to ${what} (${res.status}${code ? ` ${code}` : ""})`,
        PERMISSION_FIX,
        ExitCode.Unauthorized,
      );
    }
    if (res.status === 404) {
      throw new DeployStepError(
        `Microsoft Graph has no registration ${path.split("/")[2]} (404) to ${what}`,
        "check existingAppClientId names a registration of the signed-in tenant, then run again",
        ExitCode.NotFound,
      );
    }
    throw new DeployStepError(
      `Microsoft Graph answered ${res.status}${code ? ` ${code}` : ""} to ${what}`,
      "run again; nothing else was changed",
      ExitCode.Failed,
    );
  }
}

/** Graph's `error.code`, the one part of an error body shown (bounded, one line). */
function graphErrorCode(text: string): string | undefined {
  try {
    const code = (JSON.parse(text) as { error?: { code?: unknown } })?.error?.code;
    return typeof code === "string" ? oneLine(code, 80) : undefined;
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  runMain(NAME, async () => {
    const { values } = parseArgs({
      options: {
        undo: { type: "boolean" },
        "graph-url": { type: "string" },
        "app-object-id": { type: "string" },
        "redirect-uri": { type: "string" },
      },
      strict: true,
    });
    await adoptRedirectUri({
      undo: values.undo ?? false,
      graphUrl: values["graph-url"] ?? process.env.ADOPT_GRAPH_URL ?? "",
      appObjectId: values["app-object-id"] ?? process.env.ADOPT_APP_OBJECT_ID ?? "",
      redirectUri: values["redirect-uri"] ?? process.env.ADOPT_REDIRECT_URI ?? "",
      previousStdout: process.env.PULUMI_COMMAND_STDOUT,
    });
  });
}
