/**
 * What the app asks of telemetry, with no OpenTelemetry in it: the routes and auth code call these, and with telemetry
 * off ({@link TELEMETRY_OFF}) each is a plain call or nothing, so an app without a connection string loads no SDK and
 * pays nothing. app/telemetry/start-telemetry.ts implements it with OpenTelemetry and the Azure Monitor exporter.
 */
import type { FastifyInstance } from "fastify";

/** Attribute values the app records; app/telemetry/allow-list.ts decides which leave the process. */
export type TelemetryAttributes = Record<string, string | number | boolean | undefined>;

/** A step of a request worth its own span: a dependency the app calls (client) or a piece of its own work. */
export interface StepOptions {
  /** "client" for a call to another service (a dependency in Application Insights), else "internal". */
  readonly kind: "client" | "internal";
  /** The service called, for a client step: "entra", "managed-identity", "graph" or "redis". */
  readonly peer?: "entra" | "managed-identity" | "graph" | "redis";
  /** URL of the service called (its origin and path are recorded, never a query or credentials). */
  readonly target?: string;
  /** For an HTTP call: its method, so the step is an HTTP dependency on `target`. */
  readonly method?: "GET" | "POST";
  readonly attributes?: TelemetryAttributes;
  /** Attributes describing a failure (e.g. the AADSTS code), from the error the step threw. */
  readonly failure?: (error: unknown) => TelemetryAttributes;
}

/** How a sign-in ended at the callback: succeeded, or failed with Entra's AADSTS code and OAuth error, if any. */
export type SignInOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly aadsts?: string | undefined; readonly error?: string | undefined };

/** Counters of the export queues (spans and logs): what was queued, sent, dropped because full, and failed. */
export interface ExportCounts {
  readonly queued: number;
  readonly exported: number;
  readonly dropped: number;
  readonly failed: number;
  readonly inFlight: boolean;
}

export interface Telemetry {
  readonly enabled: boolean;
  /** Adds the request spans (one per request, the parent of every step it runs) to the app. */
  instrument(app: FastifyInstance): void;
  /** Runs `fn` as a child span of the current request or step. */
  step<T>(name: string, options: StepOptions, fn: () => Promise<T>): Promise<T>;
  /** Adds attributes to the current span (the request's, outside any step). */
  annotate(attributes: TelemetryAttributes): void;
  /** Counts a finished sign-in (metric `signin.completed`, by outcome and AADSTS code). */
  signInCompleted(outcome: SignInOutcome): void;
  /** Counts a readiness answer (metric `readiness.checks`, by reason) and keeps it for the `readiness.ready` gauge. */
  readinessChecked(reason: string): void;
  /**
   * What pino needs for logs correlated with traces: a mixin adding `trace_id` and `span_id`, and a look at each
   * line as pino writes it, which exports it (allow-listed) as a log record. Undefined when telemetry is off.
   */
  readonly logging?: { readonly mixin: () => Record<string, string>; readonly line: (json: string) => void };
  /** The export queues' counters, spans and logs. */
  counts(): { readonly spans: ExportCounts; readonly logs: ExportCounts };
  /** Sends what is queued now (metrics too) and waits for it, within the export timeout. */
  flush(): Promise<void>;
  /** Flushes, then stops exporting. */
  shutdown(): Promise<void>;
}

const NO_COUNTS: ExportCounts = { queued: 0, exported: 0, dropped: 0, failed: 0, inFlight: false };

/** Telemetry off: steps run as plain calls, nothing is recorded, nothing is loaded. */
export const TELEMETRY_OFF: Telemetry = {
  enabled: false,
  instrument: () => undefined,
  step: (_name, _options, fn) => fn(),
  annotate: () => undefined,
  signInCompleted: () => undefined,
  readinessChecked: () => undefined,
  counts: () => ({ spans: NO_COUNTS, logs: NO_COUNTS }),
  flush: async () => undefined,
  shutdown: async () => undefined,
};
