/**
 * Readable log lines for a terminal. The app logs JSON lines (App Service's log stream and any collector read them);
 * when its stdout is a terminal (`npm run dev`, `npm run app:start` by hand) {@link prettyLogStream} turns each into
 * one short line instead: time, level, message, then the other fields as key=value. A request is one line, written
 * when it completes (`GET /signin 302 4 ms`), instead of Fastify's "incoming request" + "request completed" pair.
 * The input is the already-redacted JSON, so nothing the JSON would hide shows here.
 */
import { Writable } from "node:stream";

const LEVELS: Record<number, string> = { 10: "TRACE", 20: "DEBUG", 30: "INFO ", 40: "WARN ", 50: "ERROR", 60: "FATAL" };
const COLOURS: Record<number, string> = { 10: "90", 20: "90", 30: "32", 40: "33", 50: "31", 60: "31" };
/** Fields every line has, or that the request line already shows. */
const HIDDEN = new Set(["level", "time", "pid", "hostname", "msg", "reqId", "req", "res", "responseTime"]);
/** Requests whose "incoming request" line has been seen and whose "request completed" has not, at most this many. */
const MAX_OPEN_REQUESTS = 1_000;

interface LogLine {
  level?: number;
  time?: number;
  msg?: string;
  reqId?: string;
  req?: { method?: string; url?: string };
  res?: { statusCode?: number };
  responseTime?: number;
  [field: string]: unknown;
}

/** A formatter with state: the requests in flight, so their completion line can name them. */
export function createLogFormatter(options: { colour: boolean }): (json: string) => string | undefined {
  const open = new Map<string, string>();
  const paint = (code: string, text: string): string => (options.colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  return (json) => {
    let line: LogLine;
    try {
      line = JSON.parse(json) as LogLine;
    } catch {
      return json; // not a JSON line: as it came
    }
    if (line.msg === "incoming request" && line.reqId !== undefined && line.req) {
      if (open.size >= MAX_OPEN_REQUESTS) open.delete(open.keys().next().value!);
      open.set(line.reqId, `${line.req.method ?? "?"} ${line.req.url ?? "?"}`);
      return undefined;
    }
    const level = line.level ?? 30;
    const time = new Date(line.time ?? Date.now()).toISOString().slice(11, 23);
    let msg = line.msg ?? "";
    if (msg === "request completed" && line.reqId !== undefined) {
      const request = open.get(line.reqId) ?? "request";
      open.delete(line.reqId);
      const ms = typeof line.responseTime === "number" ? ` ${Math.round(line.responseTime)} ms` : "";
      msg = `${request} ${line.res?.statusCode ?? "?"}${ms}`;
    }
    const fields = Object.entries(line)
      .filter(([key]) => !HIDDEN.has(key))
      .map(([key, value]) => `${key}=${formatValue(value)}`);
    const label = paint(COLOURS[level] ?? "0", LEVELS[level] ?? String(level));
    return `${paint("90", time)} ${label} ${msg}${fields.length ? `  ${paint("90", fields.join(" "))}` : ""}`;
  };
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (value && typeof value === "object" && "message" in value) {
    const err = value as { type?: unknown; message?: unknown };
    return JSON.stringify(`${typeof err.type === "string" ? `${err.type}: ` : ""}${String(err.message)}`);
  }
  return JSON.stringify(value);
}

/** A stream for pino that writes {@link createLogFormatter}'s lines to `out` (stdout by default). */
export function prettyLogStream(out: NodeJS.WritableStream = process.stdout, colour = true): Writable {
  const format = createLogFormatter({ colour });
  let partial = "";
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      const lines = (partial + chunk.toString()).split("\n");
      partial = lines.pop() ?? "";
      const text = lines.map(format).filter((line) => line !== undefined);
      if (text.length) out.write(`${text.join("\n")}\n`);
      done();
    },
  });
}
