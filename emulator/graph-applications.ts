/**
 * Microsoft Graph's `applications` as the migration command uses them, on the Graph stand-in (`/graph/v1.0`):
 *
 *   GET  /applications(appId='{appId}')                        the registration (also /applications/{id} and
 *   GET  /applications?$filter=appId eq '{appId}'              the filter form, answered as a collection)
 *   GET  /applications/{id}/owners
 *   GET  /applications/{id}/federatedIdentityCredentials       list
 *   POST /applications/{id}/federatedIdentityCredentials       create {name, issuer, subject, audiences, description}
 *   POST /applications/{id}/removePassword                     {keyId}: 204
 *
 * Shapes are Graph v1.0's (https://learn.microsoft.com/graph/api/resources/application,
 * .../resources/passwordcredential: `secretText` is null in every answer but addPassword's, `hint` is the secret's
 * first three characters; .../application-removepassword; .../resources/federatedidentitycredential and
 * .../application-post-federatedidentitycredentials: `audiences` holds exactly one value, `name` 3–120 characters).
 *
 * Permissions, as those pages list them: reading needs `Application.Read.All` (or `…ReadWrite.All`,
 * `Directory.Read.All`); a change needs `Application.ReadWrite.All`, and in a delegated token the signed-in user must
 * also own the application or hold Application Administrator, Cloud Application Administrator or Global
 * Administrator (the `wids` claim); an app-only token may use `Application.ReadWrite.OwnedBy` on an application it
 * owns. Otherwise 403 `Authorization_RequestDenied`, as Graph answers.
 */
import { createHash, randomUUID } from "node:crypto";
import type { JWTPayload } from "jose";
import type { EmulatorContext, FederatedIdentityCredential } from "./types";

/** A Graph answer: status and body (undefined for 204), or Graph's error code and message. */
export type GraphAnswer =
  | { readonly status: number; readonly body?: unknown }
  | { readonly status: number; readonly code: string; readonly message: string };

/** The default application object id of the emulator's registration. */
export const DEFAULT_APPLICATION_OBJECT_ID = "a1d2c3b4-e5f6-4a7b-8c9d-0e1f2a3b4c5d";

/** Directory role template ids that may manage any application (the `wids` claim). */
const APPLICATION_ADMIN_ROLES = new Set([
  "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", // Application Administrator
  "158c047a-c907-4556-b7ef-446551a6b5f7", // Cloud Application Administrator
  "62e90394-69f5-4237-9190-012177145e10", // Global Administrator
]);
const READ_PERMISSIONS = ["Application.Read.All", "Application.ReadWrite.All", "Directory.Read.All"];
const WRITE_ALL = "Application.ReadWrite.All";
const WRITE_OWNED = "Application.ReadWrite.OwnedBy";
const GRAPH_METADATA = "https://graph.microsoft.com/v1.0/$metadata";
const FIC_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$/;

const denied = (): GraphAnswer => ({
  status: 403,
  code: "Authorization_RequestDenied",
  message: "Insufficient privileges to complete the operation.",
});
const badRequest = (message: string): GraphAnswer => ({ status: 400, code: "Request_BadRequest", message });
const notFound = (what: string): GraphAnswer => ({
  status: 404,
  code: "Request_ResourceNotFound",
  message: `Resource '${what}' does not exist or one of its queried reference-property objects are not present.`,
});

/** True when `path` (after `/graph/v1.0`) is one of these routes' paths. */
export function isApplicationsPath(segment: string): boolean {
  return /^applications(?:$|[/(?])/i.test(segment);
}

/** Answers one `applications` request whose token Graph has already verified (signature, issuer, audience, time). */
export function applications(
  ctx: EmulatorContext,
  method: string,
  url: URL,
  segment: string,
  claims: JWTPayload,
  body: unknown,
): GraphAnswer {
  const registration = ctx.registration;
  const objectId = registration.objectId ?? DEFAULT_APPLICATION_OBJECT_ID;
  const match =
    /^applications(?:\(appId='([^']*)'\)|\/([^/]+))?(?:\/(owners|federatedIdentityCredentials|removePassword))?$/i.exec(
      segment,
    );
  if (!match) return badRequest(`Resource not found for the segment '${segment.split("/")[1] ?? segment}'.`);
  const [, appId, id, action] = match;
  const filter = url.searchParams.get("$filter");
  const collection = appId === undefined && id === undefined;
  if (collection) {
    if (method !== "GET" || !filter) return badRequest("This request needs $filter=appId eq '{appId}' here.");
    const wanted = /^appId eq '([^']*)'$/i.exec(filter.trim())?.[1];
    if (!wanted) return badRequest(`Invalid filter clause: ${filter.slice(0, 100)}`);
  }
  const named = (appId ?? id ?? /'([^']*)'/.exec(filter ?? "")?.[1] ?? "").toLowerCase();
  const isOurs = appId !== undefined || collection ? named === registration.clientId.toLowerCase() : named === objectId;

  const owner = (registration.owners ?? []).includes(String(claims.oid));
  const write = method !== "GET";
  if (!permitted(claims, write, owner)) return denied();
  if (collection) {
    return {
      status: 200,
      body: { "@odata.context": `${GRAPH_METADATA}#applications`, value: isOurs ? [applicationBody(ctx)] : [] },
    };
  }
  if (!isOurs) return notFound(appId ?? id ?? "");

  switch (`${method} ${(action ?? "").toLowerCase()}`) {
    case "GET ":
      return {
        status: 200,
        body: { "@odata.context": `${GRAPH_METADATA}#applications/$entity`, ...applicationBody(ctx) },
      };
    case "GET owners":
      return {
        status: 200,
        body: {
          "@odata.context": `${GRAPH_METADATA}#directoryObjects`,
          value: (registration.owners ?? []).map((o) => ({ "@odata.type": "#microsoft.graph.user", id: o })),
        },
      };
    case "GET federatedidentitycredentials":
      return {
        status: 200,
        body: {
          "@odata.context": `${GRAPH_METADATA}#applications('${objectId}')/federatedIdentityCredentials`,
          value: ficsOf(ctx).map((f) => ficBody(ctx, f)),
        },
      };
    case "POST federatedidentitycredentials":
      return createFic(ctx, body, objectId);
    case "POST removepassword":
      return removePassword(ctx, body);
    default:
      return {
        status: 405,
        code: "Request_BadRequest",
        message: "Specified HTTP method is not allowed for the request target.",
      };
  }
}

/** Whether the token may read (or, with `write`, change) the registration. */
function permitted(claims: JWTPayload, write: boolean, owner: boolean): boolean {
  const app = claims.idtyp === "app";
  const granted = new Set(
    (app ? (Array.isArray(claims.roles) ? claims.roles : []) : String(claims.scp ?? "").split(" ")).map((p) =>
      String(p).toLowerCase(),
    ),
  );
  const has = (p: string) => granted.has(p.toLowerCase());
  if (!write) return READ_PERMISSIONS.some(has) || (app && owner && has(WRITE_OWNED));
  if (app) return has(WRITE_ALL) || (owner && has(WRITE_OWNED));
  const wids = Array.isArray(claims.wids) ? claims.wids.map(String) : [];
  return has(WRITE_ALL) && (owner || wids.some((w) => APPLICATION_ADMIN_ROLES.has(w)));
}

function applicationBody(ctx: EmulatorContext): Record<string, unknown> {
  const r = ctx.registration;
  return {
    id: r.objectId ?? DEFAULT_APPLICATION_OBJECT_ID,
    appId: r.clientId,
    displayName: r.displayName ?? "Secretless sample app",
    signInAudience: "AzureADMyOrg",
    keyCredentials: [],
    passwordCredentials: (r.passwordCredentials ?? []).map((p) => ({
      customKeyIdentifier: null,
      displayName: p.displayName,
      endDateTime: p.endDateTime ?? null,
      hint: p.secretText.slice(0, 3),
      keyId: p.keyId,
      secretText: null,
      startDateTime: p.startDateTime ?? null,
    })),
    web: { redirectUris: [...r.redirectUris] },
  };
}

function ficsOf(ctx: EmulatorContext): FederatedIdentityCredential[] {
  ctx.registration.federatedCredentials ??= [ctx.registration.fic];
  return ctx.registration.federatedCredentials;
}

/** A FIC without an id (the defaults) gets a stable one from its name. */
function ficId(f: FederatedIdentityCredential): string {
  const h = createHash("sha256").update(f.name).digest("hex");
  return f.id ?? `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function ficBody(ctx: EmulatorContext, f: FederatedIdentityCredential): Record<string, unknown> {
  return {
    id: ficId(f),
    name: f.name,
    issuer: f.issuer ?? ctx.issuer,
    subject: f.subject,
    description: f.description ?? null,
    audiences: [...f.audiences],
  };
}

function createFic(ctx: EmulatorContext, body: unknown, objectId: string): GraphAnswer {
  const b = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const { name, issuer, subject, audiences, description } = b;
  if (typeof name !== "string" || !FIC_NAME.test(name)) {
    return badRequest("Property 'name' is invalid: 3 to 120 characters, letters, digits, '-' and '_'.");
  }
  if (typeof issuer !== "string" || !issuer || typeof subject !== "string" || !subject) {
    return badRequest("Properties 'issuer' and 'subject' are required.");
  }
  if (!Array.isArray(audiences) || audiences.length !== 1 || typeof audiences[0] !== "string") {
    return badRequest("Property 'audiences' must hold exactly one value.");
  }
  const fics = ficsOf(ctx);
  if (fics.some((f) => f.name.toLowerCase() === name.toLowerCase())) {
    return {
      status: 409,
      code: "Request_MultipleObjectsWithSameKeyValue",
      message: `FIC with name '${name}' already exists.`,
    };
  }
  if (fics.some((f) => (f.issuer ?? ctx.issuer) === issuer && f.subject === subject)) {
    return badRequest("A federated identity credential with this issuer and subject already exists.");
  }
  if (fics.length >= 20) return badRequest("An application can have at most 20 federated identity credentials.");
  const fic: FederatedIdentityCredential = {
    id: randomUUID(),
    name,
    issuer,
    subject,
    audiences: [audiences[0]],
    ...(typeof description === "string" ? { description } : {}),
  };
  fics.push(fic);
  return {
    status: 201,
    body: {
      "@odata.context": `${GRAPH_METADATA}#applications('${objectId}')/federatedIdentityCredentials/$entity`,
      ...ficBody(ctx, fic),
    },
  };
}

function removePassword(ctx: EmulatorContext, body: unknown): GraphAnswer {
  const keyId = (body as { keyId?: unknown } | null)?.keyId;
  if (typeof keyId !== "string" || !keyId) return badRequest("Property 'keyId' is required.");
  const passwords = ctx.registration.passwordCredentials ?? [];
  const index = passwords.findIndex((p) => p.keyId.toLowerCase() === keyId.toLowerCase());
  if (index < 0) return badRequest(`No password credential found with keyId ${keyId}.`);
  passwords.splice(index, 1);
  return { status: 204 };
}
