/**
 * A Microsoft Graph stand-in on the Entra server, under `/graph/v1.0` (`RunningEmulator.graphBaseUrl`):
 *
 *   GET /graph/v1.0/me[?$select=displayName,mail,…]    Authorization: Bearer <delegated Graph access token>
 *
 * and the `applications` routes of graph-applications.ts (a registration's credentials, for the migration command).
 * It checks the access token the way Graph does before it answers (signature by a key of the emulator's JWKS, issuer,
 * audience, lifetime, a delegated token, a permission that can read the user) and returns the registration's user in
 * Graph's shape. Errors use Graph's body `{error: {code, message, innerError}}`; a 401 carries `WWW-Authenticate`.
 * Faults: `faults.graph` (HTTP errors), `faults.graphDown` (no answer). https://learn.microsoft.com/graph/api/user-get
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { errors, jwtVerify, type JWTPayload } from "jose";
import type { IncomingMessage } from "node:http";
import { applications, isApplicationsPath } from "./graph-applications";
import { sendJson, takeFault, type Request, type Router } from "./http";
import { GRAPH_APP_ID, GRAPH_RESOURCE, graphIssuer } from "./tokens";
import type { EmulatorContext, EmulatorUser } from "./types";

/** The path of the stand-in's v1.0 endpoint on the emulator's HTTPS server. */
export const GRAPH_BASE_PATH = "/graph/v1.0";

/** Delegated permissions that let `/me` read the signed-in user (the least privileged first). */
const READ_USER_PERMISSIONS = [
  "User.Read",
  "User.ReadWrite",
  "User.ReadBasic.All",
  "User.Read.All",
  "User.ReadWrite.All",
  "Directory.Read.All",
  "Directory.ReadWrite.All",
];

/** The tolerated clock difference when checking `exp` and `nbf`. */
const CLOCK_SKEW_SECONDS = 300;

/** A Graph error answer: status, Graph's `error.code` and `error.message`. */
class GraphFailure {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly message: string,
  ) {}
}

const fail = (status: number, code: string, message: string) => new GraphFailure(status, code, message);
const invalidToken = (message: string) => fail(401, "InvalidAuthenticationToken", message);

/** Adds the stand-in's routes (every method and path under `/graph`) to the Entra router. */
export function addGraphRoutes(router: Router, ctx: EmulatorContext): Router {
  return router.on(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], /^\/graph(?:\/.*)?$/, (req, res) =>
    graph(ctx, req, res),
  );
}

async function graph(ctx: EmulatorContext, req: Request, res: ServerResponse): Promise<void> {
  ctx.stats.graphRequests++;
  if (ctx.faults.graphDown) {
    req.raw.socket.destroy(); // no answer at all, as when Graph is unreachable
    return;
  }
  const requestId = randomUUID();
  const clientRequestId = String(req.raw.headers["client-request-id"] ?? requestId);
  const ids = { "request-id": requestId, "client-request-id": clientRequestId };
  const send = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    sendJson(res, status, body, { ...ids, ...headers });
  const sendError = ({ status, code, message }: GraphFailure, headers: Record<string, string> = {}) =>
    send(
      status,
      { error: { code, message, innerError: { date: new Date().toISOString().replace(/\.\d+Z$/, ""), ...ids } } },
      headers,
    );

  const fault = takeFault(ctx.faults, "graph");
  if (fault)
    return sendError(
      fail(fault.status, faultCode(fault.status), `Injected fault: Graph answered ${fault.status}.`),
      fault.headers,
    );

  const challenge = {
    "WWW-Authenticate":
      `Bearer realm="", authorization_uri="${ctx.instance}${ctx.tenantId}/oauth2/v2.0/authorize", ` +
      `client_id="${GRAPH_APP_ID}"`,
  };
  const segment = req.url.pathname.replace(/\/$/, "").slice(GRAPH_BASE_PATH.length + 1);
  if (req.url.pathname.startsWith(`${GRAPH_BASE_PATH}/`) && isApplicationsPath(segment)) {
    const verified = await verifyToken(ctx, req.raw.headers.authorization);
    if (verified instanceof GraphFailure) return sendError(verified, verified.status === 401 ? challenge : {});
    const body = req.method === "POST" ? await readJson(req.raw) : undefined;
    if (body instanceof GraphFailure) return sendError(body);
    const answer = applications(ctx, req.method, req.url, segment, verified, body);
    if ("code" in answer) return sendError(fail(answer.status, answer.code, answer.message));
    if (answer.body === undefined) {
      res.writeHead(answer.status, ids).end();
      return;
    }
    return send(answer.status, answer.body);
  }
  const route = routeError(req);
  if (route) return sendError(route);
  const claims = await authenticate(ctx, req.raw.headers.authorization);
  if (claims instanceof GraphFailure) return sendError(claims, claims.status === 401 ? challenge : {});
  // Any user of the directory (the account picker's too), found by the token's object id.
  const user = [ctx.registration.user, ...(ctx.registration.otherUsers ?? [])].find((u) => u.oid === claims.oid);
  if (!user)
    return sendError(
      fail(
        404,
        "Request_ResourceNotFound",
        `Resource '${String(claims.oid)}' does not exist or one of its queried ` +
          `reference-property objects are not present.`,
      ),
    );
  const selected = select(profile(user), req.url.searchParams.get("$select"));
  if (selected instanceof GraphFailure) return sendError(selected);
  send(200, selected);
}

/** Graph's `error.code` for a status it answers on its own. */
function faultCode(status: number): string {
  if (status === 429) return "TooManyRequests";
  if (status === 503) return "serviceNotAvailable";
  if (status === 504) return "UnknownError";
  return "generalException";
}

/** Only `GET /v1.0/me` exists; other versions, paths and methods get Graph's answers for them. */
function routeError(req: Request): GraphFailure | undefined {
  const path = req.url.pathname.replace(/\/$/, "");
  if (!path.startsWith(`${GRAPH_BASE_PATH}/`))
    return fail(400, "BadRequest", `Invalid version: ${path.split("/")[2] ?? ""}`);
  const segment = path.slice(GRAPH_BASE_PATH.length + 1);
  if (segment.toLowerCase() !== "me")
    return fail(400, "BadRequest", `Resource not found for the segment '${segment.split("/")[0]}'.`);
  if (req.method !== "GET")
    return fail(405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.");
  return undefined;
}

/** The claims of a valid delegated Graph token in `authorization` that may read the user, or Graph's failure. */
async function authenticate(
  ctx: EmulatorContext,
  authorization: string | undefined,
): Promise<JWTPayload | GraphFailure> {
  const payload = await verifyToken(ctx, authorization);
  if (payload instanceof GraphFailure) return payload;
  if (payload.idtyp === "app" || typeof payload.scp !== "string") {
    return fail(400, "BadRequest", "/me request is only valid with delegated authentication flow.");
  }
  const granted = payload.scp.split(" ").map((s) => s.toLowerCase());
  if (!READ_USER_PERMISSIONS.some((p) => granted.includes(p.toLowerCase()))) {
    return fail(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.");
  }
  return payload;
}

/** A JSON request body (at most 64 KiB), or Graph's 400. */
async function readJson(raw: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of raw) {
    size += (chunk as Buffer).length;
    if (size > 65_536) return fail(413, "Request_EntityTooLarge", "The request body is too large.");
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
  } catch {
    return fail(400, "BadRequest", "Unable to read JSON request payload.");
  }
}

/** The claims of a Graph access token that Graph would accept (signature, issuer, audience, time), or its 401. */
async function verifyToken(
  ctx: EmulatorContext,
  authorization: string | undefined,
): Promise<JWTPayload | GraphFailure> {
  const token = /^Bearer +(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) return invalidToken("Access token is empty.");
  if (!token.includes(".")) {
    return invalidToken(
      "IDX14100: JWT is not well formed, there are no dots (.). The token needs " +
        "to be in JWS or JWE Compact Serialization Format.",
    );
  }
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(token, (header) => keyFor(ctx, header.kid), {
      algorithms: ["RS256"],
      issuer: graphIssuer(ctx.tenantId),
      audience: [GRAPH_APP_ID, GRAPH_RESOURCE, `${GRAPH_RESOURCE}/`],
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["exp"],
    }));
  } catch (err) {
    return tokenFailure(err);
  }
  return payload;
}

/** The published key with this `kid`, or an error that {@link tokenFailure} reports as a validation failure. */
function keyFor(ctx: EmulatorContext, kid: string | undefined) {
  const key = ctx.keys.find(kid);
  if (!key) throw new errors.JWKSNoMatchingKey();
  return key.publicKey;
}

/** Graph's message for a token jose rejected. */
function tokenFailure(err: unknown): GraphFailure {
  if (err instanceof errors.JWTExpired) return invalidToken("Lifetime validation failed, the token is expired.");
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return invalidToken("Lifetime validation failed, the token is not yet valid.");
    if (err.claim === "aud") return invalidToken("Access token validation failure. Invalid audience.");
    if (err.claim === "iss") return invalidToken("Access token validation failure. Invalid issuer.");
  }
  if (err instanceof errors.JOSEError) return invalidToken("Access token validation failure.");
  throw err;
}

/** The user as Graph's v1.0 `/me` returns it by default. */
function profile(user: EmulatorUser): Record<string, unknown> {
  const [givenName = null, ...rest] = user.name.split(" ");
  return {
    businessPhones: [],
    displayName: user.name,
    givenName,
    jobTitle: user.jobTitle ?? null,
    mail: user.mail === undefined ? user.preferredUsername : user.mail,
    mobilePhone: null,
    officeLocation: null,
    preferredLanguage: null,
    surname: rest.length ? rest.join(" ") : null,
    userPrincipalName: user.preferredUsername,
    id: user.oid,
  };
}

/** The `@odata.context` plus the properties `$select` names (all default ones without it). */
function select(user: Record<string, unknown>, $select: string | null): Record<string, unknown> | GraphFailure {
  const context = `${GRAPH_RESOURCE}/v1.0/$metadata#users`;
  if ($select === null) return { "@odata.context": `${context}/$entity`, ...user };
  const names = $select
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen: Record<string, unknown> = {};
  for (const name of names) {
    const property = Object.keys(user).find((k) => k.toLowerCase() === name.toLowerCase());
    if (!property)
      return fail(400, "BadRequest", `Could not find a property named '${name}' on type 'microsoft.graph.user'.`);
    chosen[property] = user[property];
  }
  return { "@odata.context": `${context}(${Object.keys(chosen).join(",")})/$entity`, ...chosen };
}
