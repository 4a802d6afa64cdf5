/**
 * The app registration through Microsoft Graph v1.0, as the operator: read it by client id, list and create its
 * federated identity credentials, remove a password credential, and tell beforehand whether the operator may.
 *
 * - `GET /applications(appId='{appId}')` (https://learn.microsoft.com/graph/api/application-get): `id`, `appId`,
 *   `displayName`, `passwordCredentials` (`keyId`, `displayName`, `hint`, `endDateTime`; `secretText` is always null),
 *   `keyCredentials`.
 * - `GET|POST /applications/{id}/federatedIdentityCredentials`
 *   (https://learn.microsoft.com/graph/api/application-post-federatedidentitycredentials): `name`, `issuer`,
 *   `subject`, `audiences` (exactly one).
 * - `POST /applications/{id}/removePassword` `{keyId}` → 204
 *   (https://learn.microsoft.com/graph/api/application-removepassword).
 * - `GET /applications/{id}/owners`.
 * Permissions (same pages): reading needs Application.Read.All; a change needs Application.ReadWrite.All and, for a
 * signed-in operator, ownership of the application or the Application Administrator / Cloud Application
 * Administrator role.
 */
import type { TokenCredential } from "@azure/identity";
import { decodeJwt } from "jose";
import { azureJsonRequest } from "../deploy/arm-site";

export interface PasswordCredentialInfo {
  readonly keyId: string;
  readonly displayName: string;
  /** The secret's first three characters, as Graph reports it: enough to recognise it, never the value. */
  readonly hint: string;
  readonly endDateTime: string | null;
}

export interface KeyCredentialInfo {
  readonly keyId: string;
  readonly displayName: string;
  readonly type: string;
  readonly endDateTime: string | null;
}

export interface FicInfo {
  readonly id: string;
  readonly name: string;
  readonly issuer: string;
  readonly subject: string;
  readonly audiences: readonly string[];
}

export interface ApplicationInfo {
  readonly id: string;
  readonly appId: string;
  readonly displayName: string;
  readonly passwordCredentials: readonly PasswordCredentialInfo[];
  readonly keyCredentials: readonly KeyCredentialInfo[];
}

/** A Graph request that failed: status, Graph's error code and message. */
export class GraphRequestError extends Error {
  constructor(
    readonly what: string,
    readonly status: number,
    readonly code: string,
    detail: string,
  ) {
    super(`Microsoft Graph refused to ${what}: ${status} ${code}${detail ? ` (${detail})` : ""}`);
    this.name = "GraphRequestError";
  }
}

/** Directory roles (template ids) that may change any application registration. */
const APPLICATION_ADMIN_ROLES = new Set([
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", // Application Administrator
  "158c047a-c907-4556-b7ef-446551a6b5f7", // Cloud Application Administrator
  "62e90394-69f5-4237-9190-012177145e10", // Global Administrator
]);

export const GRAPH_WRITE_PERMISSION = "Application.ReadWrite.All";
export const GRAPH_READ_PERMISSION = "Application.Read.All";

export class GraphApplication {
  private readonly baseUrl: string;
  private readonly fetchFn: typeof fetch;

  constructor(
    private readonly opts: {
      /** Graph's v1.0 base URL, e.g. https://graph.microsoft.com/v1.0. */
      graphBaseUrl: string;
      /** The token scope, e.g. https://graph.microsoft.com/.default. */
      graphScope: string;
      credential: TokenCredential;
      fetch?: typeof fetch;
    },
  ) {
    this.baseUrl = opts.graphBaseUrl.replace(/\/+$/, "");
    this.fetchFn = opts.fetch ?? fetch;
  }

  async byAppId(appId: string): Promise<ApplicationInfo | undefined> {
    const found = await this.request<Record<string, unknown>>(
      "GET",
      `/applications(appId='${encodeURIComponent(appId)}')`,
      "read the app registration",
      undefined,
      true,
    );
    if (!found) return undefined;
    const passwords = Array.isArray(found.passwordCredentials) ? found.passwordCredentials : [];
    const keys = Array.isArray(found.keyCredentials) ? found.keyCredentials : [];
    return {
      id: String(found.id ?? ""),
      appId: String(found.appId ?? ""),
      displayName: String(found.displayName ?? ""),
      passwordCredentials: passwords.map((p: Record<string, unknown>) => ({
        keyId: String(p.keyId ?? ""),
        displayName: String(p.displayName ?? ""),
        hint: String(p.hint ?? "").slice(0, 3),
        endDateTime: typeof p.endDateTime === "string" ? p.endDateTime : null,
      })),
      keyCredentials: keys.map((k: Record<string, unknown>) => ({
        keyId: String(k.keyId ?? ""),
        displayName: String(k.displayName ?? ""),
        type: String(k.type ?? ""),
        endDateTime: typeof k.endDateTime === "string" ? k.endDateTime : null,
      })),
    };
  }

  async federatedCredentials(objectId: string): Promise<FicInfo[]> {
    const list = await this.request<{ value?: Record<string, unknown>[] }>(
      "GET",
      `/applications/${encodeURIComponent(objectId)}/federatedIdentityCredentials`,
      "list the registration's federated credentials",
    );
    return (list?.value ?? []).map((f) => ({
      id: String(f.id ?? ""),
      name: String(f.name ?? ""),
      issuer: String(f.issuer ?? ""),
      subject: String(f.subject ?? ""),
      audiences: Array.isArray(f.audiences) ? f.audiences.map(String) : [],
    }));
  }

  async createFederatedCredential(
    objectId: string,
    fic: { name: string; issuer: string; subject: string; audience: string; description: string },
  ): Promise<void> {
    await this.request(
      "POST",
      `/applications/${encodeURIComponent(objectId)}/federatedIdentityCredentials`,
      "create the federated credential",
      {
        name: fic.name,
        issuer: fic.issuer,
        subject: fic.subject,
        audiences: [fic.audience],
        description: fic.description,
      },
    );
  }

  async removePassword(objectId: string, keyId: string): Promise<void> {
    await this.request("POST", `/applications/${encodeURIComponent(objectId)}/removePassword`, "remove the password", {
      keyId,
    });
  }

  async owners(objectId: string): Promise<string[]> {
    const list = await this.request<{ value?: { id?: unknown }[] }>(
      "GET",
      `/applications/${encodeURIComponent(objectId)}/owners`,
      "list the registration's owners",
    );
    return (list?.value ?? []).map((o) => String(o.id ?? ""));
  }

  /**
   * Why the operator may not change the registration, or undefined when the token says they may: read from the
   * operator's own Graph token (`scp`/`roles`, `wids`) and the registration's owners, before any change is made.
   */
  async writeProblem(objectId: string): Promise<string | undefined> {
    const claims = decodeJwt(await this.token());
    const app = claims.idtyp === "app";
    const granted = (app ? (Array.isArray(claims.roles) ? claims.roles : []) : String(claims.scp ?? "").split(" ")).map(
      (p) => String(p).toLowerCase(),
    );
    const owner = (await this.owners(objectId)).includes(String(claims.oid ?? ""));
    if (app) {
      if (granted.includes(GRAPH_WRITE_PERMISSION.toLowerCase())) return undefined;
      if (owner && granted.includes("application.readwrite.ownedby")) return undefined;
      return (
        `your identity's Graph token has no ${GRAPH_WRITE_PERMISSION} application permission (nor ` +
        "Application.ReadWrite.OwnedBy as an owner of the registration): a Privileged Role Administrator or Global " +
        "Administrator grants it (admin consent)"
      );
    }
    if (!granted.includes(GRAPH_WRITE_PERMISSION.toLowerCase())) {
      return (
        `your Graph token has no ${GRAPH_WRITE_PERMISSION} delegated permission: sign in with it ` +
        `(az login --scope https://graph.microsoft.com//.default after a tenant admin consented, or ` +
        "Connect-MgGraph -Scopes Application.ReadWrite.All)"
      );
    }
    const wids = Array.isArray(claims.wids) ? claims.wids.map(String) : [];
    if (owner || wids.some((w) => APPLICATION_ADMIN_ROLES.has(w))) return undefined;
    return (
      "you are neither an owner of the app registration nor an Application Administrator / Cloud Application " +
      "Administrator: an existing owner adds you (Entra admin center > App registrations > Owners), or a " +
      "Privileged Role Administrator assigns the role"
    );
  }

  private async token(): Promise<string> {
    const token = await this.opts.credential.getToken(this.opts.graphScope);
    if (!token?.token)
      throw new GraphRequestError("get a token", 401, "NoToken", `no token for ${this.opts.graphScope}`);
    return token.token;
  }

  private async request<T>(
    method: "GET" | "POST",
    path: string,
    what: string,
    body?: unknown,
    allowNotFound = false,
  ): Promise<T | undefined> {
    return azureJsonRequest<T>(
      this.fetchFn,
      `${this.baseUrl}${path}`,
      { method, token: await this.token(), body, allowNotFound },
      (status, code, detail) => new GraphRequestError(what, status, code, detail),
    );
  }
}
