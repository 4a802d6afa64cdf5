/**
 * What the app's logs may contain: JSON lines without tokens, codes, state, cookies or session ids. Fastify's pino
 * logger gets {@link loggerOptions}; errors go through {@link safeError}; msal-node logs through {@link msalLogger}.
 */
import type { FastifyBaseLogger, FastifyServerOptions } from "fastify";
import { LogLevel, type NodeSystemOptions } from "@azure/msal-node";
import pino from "pino";
import { prettyLogStream } from "./log-format";
import type { Telemetry } from "./telemetry/telemetry";

/** Query parameters whose values must never reach a log line (request URLs are logged). */
const SECRET_PARAMS = [
  "code",
  "state",
  "id_token",
  "access_token",
  "refresh_token",
  "client_assertion",
  "session_state",
  "sid",
  "csrf",
];
/** Property names redacted wherever they appear in a log object, as a second line of defence. */
const SECRET_FIELDS = [
  "id_token",
  "idToken",
  "access_token",
  "accessToken",
  "refresh_token",
  "refreshToken",
  "client_assertion",
  "assertion",
  "csrf",
  "csrfToken",
  "tokenCache",
  "authorization",
];

/**
 * JSON logs at LOG_LEVEL (default "info") with cookies, authorization headers and token fields redacted. Without a
 * stream they go to stdout asynchronously: the lines logged while one write is under way go out in the next, instead
 * of one blocking write per line (two a request), and pino flushes what is left when the process exits. When stdout
 * is a terminal (a person runs the app: `npm run dev`), they go through {@link prettyLogStream} as one readable line
 * each (LOG_FORMAT=json keeps JSON there too).
 */
export function loggerOptions(
  stream?: NodeJS.WritableStream,
  telemetry?: Telemetry["logging"],
): NonNullable<FastifyServerOptions["logger"]> {
  const pretty = stream === undefined && process.stdout.isTTY === true && process.env.LOG_FORMAT !== "json";
  const local = stream ?? (pretty ? prettyLogStream(process.stdout) : pino.destination({ dest: 1, sync: false }));
  return {
    level: process.env.LOG_LEVEL ?? "info",
    stream: local,
    // With telemetry on, each line carries its trace and span IDs, and telemetry sees the same redacted line as it is
    // written (and exports only allow-listed fields: app/telemetry/allow-list.ts). A hook, not a second stream: it
    // costs a function call per line.
    ...(telemetry
      ? {
          mixin: telemetry.mixin,
          hooks: {
            streamWrite: (line: string): string => {
              telemetry.line(line);
              return line;
            },
          },
        }
      : {}),
    redact: {
      paths: [
        "req.headers.cookie",
        "req.headers.authorization",
        'res.headers["set-cookie"]',
        ...SECRET_FIELDS,
        ...SECRET_FIELDS.map((name) => `*.${name}`),
      ],
      censor: "[redacted]",
    },
    serializers: {
      req: (req: { method: string; url: string; host?: string; ip?: string }) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
      }),
    },
  } as NonNullable<FastifyServerOptions["logger"]>;
}

/** msal-node's logger, writing to the app's log: no PII, warnings up, its harmless managed-identity warning down. */
export function msalLogger(log: FastifyBaseLogger): NonNullable<NodeSystemOptions["loggerOptions"]> {
  return {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Warning,
    loggerCallback: (level: LogLevel, message: string, containsPii: boolean): void => {
      if (containsPii) return;
      // Managed-identity responses never carry client_info; msal-node warns about it on every MI fetch.
      const harmless = message.includes("No client info in response");
      if (level <= LogLevel.Warning && !harmless) log.warn({ msal: message }, "msal-node");
      else log.debug({ msal: message }, "msal-node");
    },
  };
}

/** An error reduced to what may be logged: name, message, codes. Never payloads, tokens or response bodies. */
export function safeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const e = error as Error & { errorCode?: string; code?: string; statusCode?: number; reason?: string };
  return {
    type: e.name,
    message: redactText(e.message),
    ...(e.errorCode ? { errorCode: e.errorCode } : {}),
    ...(e.code ? { code: e.code } : {}),
    ...(e.statusCode ? { statusCode: e.statusCode } : {}),
    stack: redactText(e.stack ?? ""),
  };
}

/** Removes anything shaped like a JWT from free text. */
function redactText(text: string): string {
  return text.replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, "[redacted-jwt]");
}

/** A URL with the values of secret-bearing query parameters replaced. */
function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_PARAMS.includes(name.toLowerCase())) params.set(name, "[redacted]");
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}
