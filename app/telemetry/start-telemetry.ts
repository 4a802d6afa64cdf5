/**
 * Telemetry on: OpenTelemetry spans, metrics and logs, exported by the Azure Monitor exporter
 * (@azure/monitor-opentelemetry-exporter, the exporter the Azure Monitor OpenTelemetry distro itself uses) with a
 * token of the app's user-assigned managed identity for Azure Monitor (`https://monitor.azure.com/.default`), never
 * an instrumentation key (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication,
 * "Configure and enable Microsoft Entra ID-based authentication", Node.js: `credential` in the exporter's options).
 *
 * Why not the distro's `useAzureMonitor()`: its instrumentations patch modules as Node loads them (require hooks);
 * app/ runs as one esbuild bundle, where fastify, ioredis and msal-node are never loaded as modules, so those hooks
 * would see only `http`. The app instead records its own spans: one per request (Fastify hooks) and one per sign-in
 * step (the authorize redirect, the code redemption, the managed-identity endpoint, Graph, Redis), which also lets
 * every attribute pass an allow-list (allow-list.ts) before anything is exported.
 *
 * Nothing here is global: the active span lives in this module's AsyncLocalStorage, and no provider is registered
 * with the OpenTelemetry API, so several apps in one process (the tests) keep their telemetry apart.
 *
 * This module is loaded only when a connection string is set (app/server.ts imports it dynamically; esbuild keeps it
 * lazy in the bundle), so an app with telemetry off never evaluates the SDK.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import {
  AzureMonitorLogExporter,
  AzureMonitorMetricExporter,
  AzureMonitorTraceExporter,
  type AzureMonitorExporterOptions,
} from "@azure/monitor-opentelemetry-exporter";
import type { TokenCredential } from "@azure/core-auth";
import { createDefaultHttpClient, type HttpClient } from "@azure/core-rest-pipeline";
import {
  type Attributes,
  type Span,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { ExportResultCode, hrTime, millisToHrTime, type ExportResult } from "@opentelemetry/core";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { ReadableLogRecord } from "@opentelemetry/sdk-logs";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, type ReadableSpan, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { AZURE_MONITOR_SCOPE } from "../../contract/telemetry";
import type { AppConfig } from "../app-config";
import type { ManagedIdentityTokenSource } from "../auth/managed-identity";
import { LOG_FIELDS, LOG_TEXT_FIELDS, METRIC_ATTRIBUTES, SPAN_ATTRIBUTES, allowed, scrubText } from "./allow-list";
import { BoundedExport } from "./bounded-export";
import type { TelemetrySettings } from "./telemetry-settings";
import type { StepOptions, Telemetry, TelemetryAttributes } from "./telemetry";

/** The queues' and exporter's bounds. Defaults: {@link EXPORT_LIMITS}. */
export interface ExportLimits {
  /** Spans, and log records, held at most while waiting for export; beyond, they are dropped and counted. */
  readonly maxQueue: number;
  readonly maxBatch: number;
  /** How long a partial batch waits. */
  readonly delayMs: number;
  /** One export request's time limit (the HTTP request's too). */
  readonly timeoutMs: number;
  /** How often metrics are exported. */
  readonly metricIntervalMs: number;
}

export const EXPORT_LIMITS: ExportLimits = {
  maxQueue: 2048,
  maxBatch: 256,
  delayMs: 2_000,
  timeoutMs: 10_000,
  metricIntervalMs: 60_000,
};

export interface StartTelemetryOptions {
  readonly settings: TelemetrySettings;
  /**
   * The managed identity's token source for the identity the authentication string names, made once on first use
   * and given this telemetry (msal-node keeps one managed-identity source, with the network client of the first
   * request, per process: the app's and telemetry's requests share it, so it must be the one that records steps).
   */
  readonly tokens: (steps: Telemetry) => ManagedIdentityTokenSource;
  /** The public origins (AppConfig.publicOrigins): a request's URL is rebuilt from the one it came in on. */
  readonly publicOrigins: readonly string[];
  readonly limits?: Partial<ExportLimits>;
  /** `service.name` (Application Insights' cloud role). Defaults to "secretless-entra-webapp". */
  readonly serviceName?: string;
}

/**
 * Azure Monitor's ingestion audience. Entra-authenticated ingestion requires the public cloud
 * (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication, "Prerequisites": "Be in the public
 * cloud"), so it is the one audience.
 */
const MONITOR_AUDIENCES = new Set([resourceOf(AZURE_MONITOR_SCOPE)]);

function resourceOf(scope: string): string {
  return scope.replace(/\/\.default$/, "").replace(/\/$/, "");
}

/** The exporter's credential: the managed identity's token for Azure Monitor, and for nothing else. */
export function managedIdentityCredential(tokens: () => ManagedIdentityTokenSource): TokenCredential {
  return {
    async getToken(scopes) {
      const scope = [scopes].flat()[0] ?? AZURE_MONITOR_SCOPE;
      const resource = resourceOf(scope);
      // Only ever a token for Azure Monitor: the exporter asks for the connection string's AADAudience, and a token
      // for another audience (the token exchange's, the FIC assertion) must never go to the ingestion endpoint.
      if (!MONITOR_AUDIENCES.has(resource.toLowerCase())) {
        throw new Error(`telemetry asked for a token for ${resource}: only Azure Monitor's audience is allowed`);
      }
      const { token, expiresOn } = await tokens().getToken(resource);
      return { token, expiresOnTimestamp: expiresOn?.getTime() ?? Date.now() + 5 * 60_000 };
    },
  };
}

/**
 * An HTTP client whose every request gives up after `timeoutMs` (a hanging ingestion never holds a socket long) and
 * that notes whether ingestion accepted the last batch: with offline storage off, the exporter reports a batch it
 * could not deliver as a success (it "persisted" it nowhere), so delivery is judged by ingestion's own answer.
 */
function deliveryHttpClient(timeoutMs: number): { client: HttpClient; delivered: { value: boolean } } {
  const inner = createDefaultHttpClient();
  const delivered = { value: false };
  const client: HttpClient = {
    async sendRequest(request) {
      request.timeout = timeoutMs;
      const response = await inner.sendRequest(request);
      // 200: all accepted; 206: some items refused (the exporter retries none of them here).
      delivered.value = response.status === 200 || response.status === 206;
      return response;
    },
  };
  return { client, delivered };
}

/** The exporter's result as a promise: true when ingestion accepted the batch. */
function exported(
  delivered: { value: boolean },
  run: (done: (result: ExportResult) => void) => void,
): Promise<boolean> {
  delivered.value = false;
  return new Promise((resolve) =>
    run((result) => resolve(result.code === ExportResultCode.SUCCESS && delivered.value)),
  );
}

/** A span as exported: the same span with only allow-listed attributes, exception types, and no links. */
function exportable(span: ReadableSpan): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    ...(span.parentSpanContext ? { parentSpanContext: span.parentSpanContext } : {}),
    startTime: span.startTime,
    endTime: span.endTime,
    status: { code: span.status.code },
    attributes: allowed(span.attributes, SPAN_ATTRIBUTES),
    links: [],
    events: span.events
      .filter((event) => event.name === "exception")
      .map((event) => ({
        ...event,
        attributes: {
          "exception.type": String(event.attributes?.["exception.type"] ?? "Error").slice(0, 64),
          "exception.message": scrubText(String(event.attributes?.["exception.message"] ?? "")),
        },
      })),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
  };
}

const PINO_SEVERITY: Record<number, [SeverityNumber, string]> = {
  10: [SeverityNumber.TRACE, "TRACE"],
  20: [SeverityNumber.DEBUG, "DEBUG"],
  30: [SeverityNumber.INFO, "INFO"],
  40: [SeverityNumber.WARN, "WARN"],
  50: [SeverityNumber.ERROR, "ERROR"],
  60: [SeverityNumber.FATAL, "FATAL"],
};
/**
 * Fastify's own two lines per request: the request span says the same. pino writes `msg` as this exact JSON member,
 * so these lines are skipped before any parsing (they are most of the log).
 */
const REQUEST_LINES = ['"msg":"incoming request"', '"msg":"request completed"'];

/** One pino line's fields, nested objects flattened with dots (`err.type`). */
function flatten(
  value: Record<string, unknown>,
  prefix = "",
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [key, field] of Object.entries(value)) {
    if (field && typeof field === "object" && !Array.isArray(field) && prefix === "") {
      flatten(field as Record<string, unknown>, `${key}.`, into);
    } else into[`${prefix}${key}`] = field;
  }
  return into;
}

/**
 * The app's telemetry as app/server.ts starts it: sent as the managed identity the authentication string names, with
 * tokens from `tokens` (app/server.ts passes the app's own guarded managed-identity source, so this file, bundled
 * apart as telemetry.js, carries no second copy of msal-node).
 */
export function startAppTelemetry(
  config: Pick<AppConfig, "publicOrigins">,
  settings: TelemetrySettings,
  tokens: (steps: Telemetry) => ManagedIdentityTokenSource,
  limits?: Partial<ExportLimits>,
): Telemetry {
  return startTelemetry({ settings, tokens, publicOrigins: config.publicOrigins, ...(limits ? { limits } : {}) });
}

export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  const limits = { ...EXPORT_LIMITS, ...options.limits };
  // Statsbeat is the exporter's own usage report to Microsoft, sent with Microsoft's instrumentation key: off here,
  // where the one place telemetry goes is the app's own component, with an Entra token.
  // APPLICATION_INSIGHTS_NO_STATSBEAT is the switch the exporter reads (export/base.js) when one is created.
  process.env.APPLICATION_INSIGHTS_NO_STATSBEAT ??= "true";
  // Nor a `_OTELRESOURCE_` metric with every metric export: the resource is on every item already.
  process.env.APPLICATIONINSIGHTS_OPENTELEMETRY_RESOURCE_METRIC_DISABLED ??= "true";
  let tokens: ManagedIdentityTokenSource | undefined;
  const exporterOptions = (httpClient: HttpClient): AzureMonitorExporterOptions => ({
    connectionString: options.settings.connectionString,
    credential: managedIdentityCredential(() => {
      tokens ??= options.tokens(self);
      return tokens;
    }),
    // Bounded memory, nothing on disk: what cannot be sent within the limits is dropped and counted, not persisted.
    disableOfflineStorage: true,
    httpClient,
    retryOptions: { maxRetries: 0 },
  });
  const resource = resourceFromAttributes({ "service.name": options.serviceName ?? "secretless-entra-webapp" });
  // One HTTP client each, so each knows whether its own last batch was delivered.
  const traceHttp = deliveryHttpClient(limits.timeoutMs);
  const logHttp = deliveryHttpClient(limits.timeoutMs);
  const traceExporter = new AzureMonitorTraceExporter(exporterOptions(traceHttp.client));
  const logExporter = new AzureMonitorLogExporter(exporterOptions(logHttp.client));
  const metricReader = new PeriodicExportingMetricReader({
    exporter: new AzureMonitorMetricExporter(exporterOptions(deliveryHttpClient(limits.timeoutMs).client)),
    exportIntervalMillis: limits.metricIntervalMs,
    exportTimeoutMillis: Math.min(limits.timeoutMs, limits.metricIntervalMs),
  });

  // Exports run outside any request's context, so the exporter's own token request is never a step of a request.
  const active = new AsyncLocalStorage<Span>();
  const outside = <T>(fn: () => Promise<T>): Promise<T> => active.exit(fn);
  const queueLimits = { maxQueue: limits.maxQueue, maxBatch: limits.maxBatch, delayMs: limits.delayMs };
  const spanQueue = new BoundedExport<ReadableSpan>({
    ...queueLimits,
    timeoutMs: limits.timeoutMs,
    send: (batch) =>
      outside(() => exported(traceHttp.delivered, (done) => traceExporter.export(batch.map(exportable), done))),
  });
  const logQueue = new BoundedExport<ReadableLogRecord>({
    ...queueLimits,
    timeoutMs: limits.timeoutMs,
    send: (batch) => outside(() => exported(logHttp.delivered, (done) => logExporter.export(batch, done))),
  });

  const processor: SpanProcessor = {
    onStart: () => undefined,
    onEnd: (span) => spanQueue.add(span),
    forceFlush: () => spanQueue.flush(),
    shutdown: () => spanQueue.flush(),
  };
  const tracer = new BasicTracerProvider({ resource, spanProcessors: [processor] }).getTracer("app");
  const meterProvider = new MeterProvider({ resource, readers: [metricReader] });
  const meter = meterProvider.getMeter("app");
  const signIns = meter.createCounter("signin.completed", { description: "Sign-ins finished at the callback" });
  const readinessChecks = meter.createCounter("readiness.checks", { description: "/readyz answers, by reason" });
  // What the bounded queues dropped: sent with the metrics, so an outage's loss shows once ingestion is back.
  meter
    .createObservableCounter("telemetry.dropped", { description: "Spans and log records dropped: queue full" })
    .addCallback((result) => {
      result.observe(spanQueue.counts().dropped, { signal: "spans" });
      result.observe(logQueue.counts().dropped, { signal: "logs" });
    });
  let lastReadiness: string | undefined;
  meter
    .createObservableGauge("readiness.ready", { description: "1 when the last /readyz answer was ready, else 0" })
    .addCallback((result) => {
      if (lastReadiness !== undefined) result.observe(lastReadiness === "ok" ? 1 : 0);
    });

  const requestSpans = new WeakMap<FastifyRequest, Span>();
  const origins = new Map(options.publicOrigins.map((origin) => [new URL(origin).host.toLowerCase(), origin]));

  const endRequestSpan = (req: FastifyRequest, reply: FastifyReply | undefined): void => {
    const span = requestSpans.get(req);
    if (!span) return;
    requestSpans.delete(req);
    const route = req.routeOptions.url;
    const status = reply?.statusCode;
    // The URL is rebuilt from the configured origin the request named and the route template (or the plain path):
    // never the query string, never a host the client made up.
    const origin = origins.get(String(req.headers.host ?? "").toLowerCase()) ?? options.publicOrigins[0] ?? "";
    const path = route ?? req.url.split("?")[0] ?? "/";
    span.updateName(`${req.method} ${route ?? "(no route)"}`);
    span.setAttributes({
      "url.full": `${origin}${path}`,
      "url.path": path,
      "url.scheme": origin.startsWith("https:") ? "https" : "http",
      ...(route ? { "http.route": route } : {}),
      ...(status !== undefined ? { "http.response.status_code": status } : {}),
    });
    if (status === undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: "aborted" });
    else if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };

  const exportLine = (text: string): void => {
    if (REQUEST_LINES.some((member) => text.includes(member))) return;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return; // not a JSON line: nothing to export
    }
    if (Number(line.level) >= 30) logQueue.add(logRecord(line));
  };

  const logRecord = (line: Record<string, unknown>): ReadableLogRecord => {
    const fields = flatten(line);
    const [severityNumber, severityText] = PINO_SEVERITY[Number(line.level)] ?? [SeverityNumber.INFO, "INFO"];
    const traceId = typeof line.trace_id === "string" ? line.trace_id : undefined;
    const spanId = typeof line.span_id === "string" ? line.span_id : undefined;
    const texts: Attributes = {};
    for (const name of LOG_TEXT_FIELDS) {
      if (typeof fields[name] === "string") texts[name] = scrubText(fields[name] as string);
    }
    const time = typeof line.time === "number" ? millisToHrTime(line.time) : hrTime();
    return {
      hrTime: time,
      hrTimeObserved: time,
      ...(traceId && spanId ? { spanContext: { traceId, spanId, traceFlags: TraceFlags.SAMPLED } } : {}),
      severityNumber,
      severityText,
      body: scrubText(String(line.msg ?? "")),
      resource,
      instrumentationScope: { name: "app" },
      attributes: { ...(allowed(fields, LOG_FIELDS) as Attributes), ...texts },
      droppedAttributesCount: 0,
    };
  };

  const flushAll = async (): Promise<void> => {
    await Promise.all([spanQueue.flush(), logQueue.flush(), metricReader.forceFlush().catch(() => undefined)]);
  };

  const self: Telemetry = {
    enabled: true,

    instrument(app: FastifyInstance) {
      app.addHook("onRequest", (req, _reply, done) => {
        // A new trace per request: an incoming traceparent is the client's choice and is not followed.
        const span = tracer.startSpan(
          req.method,
          { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method } },
          ROOT_CONTEXT,
        );
        requestSpans.set(req, span);
        active.run(span, done);
      });
      // The body is read outside the request's async context; re-enter it for the handler.
      app.addHook("preHandler", (req, _reply, done) => {
        const span = requestSpans.get(req);
        if (span) active.run(span, done);
        else done();
      });
      app.addHook("onResponse", (req, reply, done) => {
        endRequestSpan(req, reply);
        done();
      });
      app.addHook("onRequestAbort", (req, done) => {
        endRequestSpan(req, undefined);
        done();
      });
    },

    async step<T>(name: string, step: StepOptions, fn: () => Promise<T>): Promise<T> {
      const parent = active.getStore();
      // Only steps of a request are traced: background work (a token refresh) would be a trace of its own.
      if (!parent) return fn();
      const target = step.target ? new URL(step.target) : undefined;
      const span = tracer.startSpan(
        name,
        {
          kind: step.kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL,
          attributes: definedOnly({
            ...(step.peer ? { "peer.service": step.peer } : {}),
            ...(target ? { "server.address": target.hostname, "server.port": Number(target.port) || 443 } : {}),
            // An HTTP call: Application Insights shows it as an HTTP dependency on that URL (path only, no query).
            ...(target && step.method
              ? { "http.request.method": step.method, "url.full": `${target.origin}${target.pathname}` }
              : {}),
            ...step.attributes,
          }),
        },
        trace.setSpan(ROOT_CONTEXT, parent),
      );
      try {
        return await active.run(span, fn);
      } catch (error) {
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.setAttributes(definedOnly({ "error.type": errorType(error), ...step.failure?.(error) }));
        throw error;
      } finally {
        span.end();
      }
    },

    annotate(attributes) {
      active.getStore()?.setAttributes(definedOnly(attributes));
    },

    signInCompleted(outcome) {
      signIns.add(
        1,
        allowed(
          outcome.ok
            ? { outcome: "succeeded", aadsts: "none" }
            : {
                outcome: "failed",
                aadsts: outcome.aadsts ?? "none",
                ...(outcome.error ? { error: outcome.error } : {}),
              },
          METRIC_ATTRIBUTES,
        ),
      );
    },

    readinessChecked(reason) {
      lastReadiness = reason;
      readinessChecks.add(1, allowed({ reason }, METRIC_ATTRIBUTES));
    },

    logging: {
      mixin: (): Record<string, string> => {
        const context = active.getStore()?.spanContext();
        return context ? { trace_id: context.traceId, span_id: context.spanId } : {};
      },
      line: exportLine,
    },

    counts: () => ({ spans: spanQueue.counts(), logs: logQueue.counts() }),

    flush: flushAll,

    async shutdown() {
      await flushAll();
      await Promise.allSettled([
        traceExporter.shutdown(),
        logExporter.shutdown(),
        meterProvider.shutdown({ timeoutMillis: limits.timeoutMs }),
      ]);
    },
  };
  return self;
}

function definedOnly(attributes: TelemetryAttributes): Attributes {
  return Object.fromEntries(Object.entries(attributes).filter(([, value]) => value !== undefined)) as Attributes;
}

/** An error's type for `error.type`: its class name (or code), never its message. */
function errorType(error: unknown): string {
  if (error instanceof Error) return (error as Error & { errorCode?: string }).errorCode || error.name;
  return typeof error;
}
