/**
 * Application Insights' ingestion endpoint ("Breeze"), as a component with local authentication disabled answers it:
 *
 *   POST /v2.1/track            Authorization: Bearer <Entra token for https://monitor.azure.com>
 *   body: a JSON array of envelopes (gzip-compressed when `Content-Encoding: gzip`)
 *   200 {"itemsReceived":n,"itemsAccepted":n,"errors":[]}
 *
 * The path and body are those of @azure/monitor-opentelemetry-exporter (its generated client posts to
 * `{IngestionEndpoint}/v2.1/track`; it gzips only for Azure's own ingestion hosts, so the emulator sees both). With
 * local authentication off, ingestion accepts only an Entra token whose audience is Azure Monitor, from an identity
 * holding Monitoring Metrics Publisher on the component, and answers 401 to anything else, instrumentation key or
 * not (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication, "Disable local authentication"
 * and "Troubleshooting": 401 without a valid token, 403 when the identity lacks the role). Here the one identity with
 * the role is the registration's user-assigned managed identity, the one the app wears.
 *
 * What it accepts it keeps (the newest {@link KEPT_ENVELOPES}) for tests and `npm run dev`: `GET /_emulator/telemetry`
 * answers them as JSON, `RunningEmulator.telemetry` holds them.
 */
import { gunzipSync } from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";
import { jwtVerify } from "jose";
import { AZURE_MONITOR_SCOPE, TelemetrySetting } from "../contract/telemetry";
import { readBody, type Router, sendJson, type Request } from "./http";
import { resourceFromScope } from "./tokens";
import type { EmulatorContext } from "./types";

/** The emulator component's instrumentation key: an identifier only, since local authentication is off. */
export const EMULATOR_INSTRUMENTATION_KEY = "0e1e3e5e-7a11-4c1d-9e00-a11ce0f1e1d5";
/** How many envelopes the stand-in keeps: the newest, older ones make room. */
export const KEPT_ENVELOPES = 5000;
/** A request body bigger than this (after decompression) is refused, as Breeze refuses oversized batches. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
/** Azure Monitor's audience: `https://monitor.azure.com`, also accepted with a trailing slash. */
const MONITOR_AUDIENCE = resourceFromScope(AZURE_MONITOR_SCOPE);

/** One telemetry item as the exporter sends it (Application Insights' envelope). */
export interface TelemetryEnvelope {
  readonly name: string;
  readonly time: string;
  readonly iKey?: string;
  readonly tags?: Record<string, string>;
  readonly data?: { readonly baseType?: string; readonly baseData?: Record<string, unknown> };
}

/** What the stand-in has seen: the kept envelopes and the requests it refused, by status. */
export interface IngestionRecord {
  readonly envelopes: TelemetryEnvelope[];
  readonly refused: { status: number; reason: string }[];
}

export function newIngestionRecord(): IngestionRecord {
  return { envelopes: [], refused: [] };
}

/** The app settings that send a sample app's telemetry to this stand-in, with the emulator's identity. */
export function ingestionSettings(instance: string, identityClientId: string): Record<string, string> {
  return {
    [TelemetrySetting.ConnectionString]:
      `InstrumentationKey=${EMULATOR_INSTRUMENTATION_KEY};` + `IngestionEndpoint=${instance}`,
    [TelemetrySetting.AuthenticationString]: `Authorization=AAD;ClientId=${identityClientId}`,
  };
}

/** Adds the ingestion routes to the emulator's HTTPS router. */
export function addIngestionRoutes(router: Router, ctx: EmulatorContext, record: IngestionRecord): Router {
  return router
    .on("POST", /^\/v2\.1\/track$/, (req, res) => track(ctx, record, req, res))
    .on("GET", /^\/_emulator\/telemetry$/, (_req, res) => sendJson(res, 200, { envelopes: record.envelopes }));
}

async function track(ctx: EmulatorContext, record: IngestionRecord, req: Request, res: ServerResponse): Promise<void> {
  const refuse = (status: number, reason: string): void => {
    record.refused.push({ status, reason });
    sendJson(res, status, {
      itemsReceived: 0,
      itemsAccepted: 0,
      errors: [{ index: 0, statusCode: status, message: reason }],
    });
  };
  const problem = await authenticate(ctx, req.raw.headers.authorization);
  if (problem) return refuse(problem.status, problem.reason);

  let envelopes: unknown;
  try {
    envelopes = JSON.parse((await readEnvelopes(req.raw)).toString("utf8"));
  } catch (error) {
    return refuse(400, `The request body is not a JSON array of envelopes: ${String(error)}`);
  }
  if (!Array.isArray(envelopes)) return refuse(400, "The request body is not a JSON array of envelopes.");
  const errors: { index: number; statusCode: number; message: string }[] = [];
  envelopes.forEach((envelope: TelemetryEnvelope, index) => {
    if (envelope?.iKey !== EMULATOR_INSTRUMENTATION_KEY) {
      errors.push({ index, statusCode: 400, message: "Invalid instrumentation key" });
      return;
    }
    record.envelopes.push(envelope);
  });
  record.envelopes.splice(0, Math.max(0, record.envelopes.length - KEPT_ENVELOPES));
  sendJson(res, errors.length ? 206 : 200, {
    itemsReceived: envelopes.length,
    itemsAccepted: envelopes.length - errors.length,
    appId: null,
    errors,
  });
}

/** Why a bearer token may not publish to this component, or undefined when it may. */
async function authenticate(
  ctx: EmulatorContext,
  authorization: string | undefined,
): Promise<{ status: number; reason: string } | undefined> {
  const token = /^Bearer +(\S+)$/i.exec(authorization ?? "")?.[1];
  if (!token) return { status: 401, reason: "Authorization header with an Entra bearer token is required." };
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = ctx.keys.find(header.kid);
        if (!key) throw new Error(`unknown signing key ${header.kid ?? "(none)"}`);
        return key.publicKey;
      },
      {
        algorithms: ["RS256"],
        issuer: ctx.issuer,
        audience: [MONITOR_AUDIENCE, `${MONITOR_AUDIENCE}/`],
        requiredClaims: ["exp", "oid"],
      },
    );
    // The one principal with Monitoring Metrics Publisher on the emulator's component: the app's identity.
    if (payload.oid !== ctx.registration.uami.principalId) {
      return { status: 403, reason: "The provided credentials do not grant the access to ingest the telemetry." };
    }
    return undefined;
  } catch (error) {
    return { status: 401, reason: `The bearer token is not valid for Azure Monitor: ${String(error)}` };
  }
}

async function readEnvelopes(req: IncomingMessage): Promise<Buffer> {
  const body = await readBody(req, MAX_BODY_BYTES);
  return (req.headers["content-encoding"] ?? "").toLowerCase() === "gzip"
    ? gunzipSync(body, { maxOutputLength: MAX_BODY_BYTES })
    : body;
}
