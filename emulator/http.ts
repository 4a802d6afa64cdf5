/**
 * The few HTTP helpers both emulator servers share: a tiny router, form parsing, response writers and pages.
 * No framework: the emulator has a handful of routes, and plain `node:http` keeps every header visible.
 */
import { createHash } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import escapeHtml from "escape-html";
import type { EmulatorFaults } from "./types";

/** A request as handlers see it: the parsed URL plus the raw Node objects. */
export interface Request {
  method: string;
  url: URL;
  /** Capture groups of the route pattern (e.g. the tenant segment). */
  params: string[];
  raw: IncomingMessage;
}

/** A route handler; it writes the response itself. */
export type Handler = (req: Request, res: ServerResponse) => Promise<void> | void;

interface Route {
  methods: string[];
  pattern: RegExp;
  handler: Handler;
}

/** Matches method + path against regular expressions, in the order routes were added. */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; `pattern` is matched against the whole path (anchor it with ^…$). */
  on(methods: string | string[], pattern: RegExp, handler: Handler): this {
    this.routes.push({ methods: ([] as string[]).concat(methods), pattern, handler });
    return this;
  }

  /** A `node:http` request listener: routes, answers 404/405 itself and turns a thrown error into a 500. */
  listener(): (req: IncomingMessage, res: ServerResponse) => void {
    return (raw, res) => {
      let url: URL;
      try {
        url = new URL(raw.url ?? "/", "http://placeholder"); // only path and query are used
      } catch {
        return sendJson(res, 400, { error: "invalid_request" });
      }
      const method = raw.method ?? "GET";
      const matches = this.routes
        .map((route) => ({ route, match: route.pattern.exec(url.pathname) }))
        .filter((m) => m.match !== null);
      const found = matches.find((m) => m.route.methods.includes(method));
      if (!found) {
        sendJson(res, matches.length ? 405 : 404, { error: matches.length ? "method_not_allowed" : "not_found" });
        return;
      }
      // A handler's error (sync or async) becomes a 500 rather than an uncaught exception in the server.
      Promise.resolve()
        .then(() => {
          const params = found.match!.slice(1).map((p) => decodeURIComponent(p ?? ""));
          return found.route.handler({ method, url, params, raw }, res);
        })
        .catch((err: unknown) => {
          if (!res.headersSent) sendJson(res, 500, { error: "server_error", error_description: String(err) });
          else res.destroy();
        });
    };
  }
}

/** Reads a request's whole body, refusing one of more than `limitBytes`. */
export async function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new Error("request body too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Reads an `application/x-www-form-urlencoded` body (anything else yields no parameters). */
export async function readForm(req: IncomingMessage, limitBytes = 1024 * 1024): Promise<URLSearchParams> {
  const body = await readBody(req, limitBytes);
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  return type === "application/x-www-form-urlencoded"
    ? new URLSearchParams(body.toString("utf8"))
    : new URLSearchParams();
}

/** Writes a JSON response. Token responses must never be cached (RFC 6749 §5.1), so nothing here is. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
    Pragma: "no-cache",
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/**
 * Writes an HTML page under a Content-Security-Policy that allows exactly the inline `<style>` and `<script>` blocks
 * this response carries (by hash) and nothing else: no other script, no style attribute, no plugin, no `<base>`. The
 * emulator escapes every value it puts in a page, so those blocks are its own; forms and frames may go to the app.
 */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  const hashes = (tag: string): string =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))]
      .map((m) => ` 'sha256-${createHash("sha256").update(m[1]!).digest("base64")}'`)
      .join("");
  const csp =
    `default-src 'none'; style-src${hashes("style") || " 'none'"}; script-src${hashes("script") || " 'none'"}; ` +
    `frame-src http: https:; form-action http: https:; base-uri 'none'; frame-ancestors 'none'`;
  res.writeHead(status, {
    "Content-Type": "text/html; charset=utf-8",
    "Cache-Control": "no-store",
    "Content-Security-Policy": csp,
  });
  res.end(html);
}

/** Answers 302 Found to `location`. */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { Location: location, "Cache-Control": "no-store" });
  res.end();
}

/** The emulator's few styles, inline so its pages look right with scripts off (sendHtml's CSP allows it by hash). */
const STYLE = [
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1f;background:#f6f7f9}',
  "main{max-width:40rem;margin:3rem auto;padding:1.5rem " +
    "2rem;background:#fff;border:1px solid #d6d8dc;border-radius:8px}",
  "h1{font-size:1.4rem;margin-top:0}a{color:#0f6cbd}",
  "input[type=submit],button{padding:.5rem " +
    "1.1rem;border:0;border-radius:6px;background:#0f6cbd;color:#fff;font:inherit;cursor:pointer}",
  "pre{font:12px ui-monospace,monospace;white-space:pre-wrap;overflow-wrap:anywhere;color:#5c5f66}",
].join("");

/** A minimal HTML page shell shared by every page the emulator renders. */
export function page(title: string, body: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" ` +
    `content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><style>${STYLE}</style>` +
    `</head>\n<body>\n<main>\n${body}\n</main>\n</body></html>\n`
  );
}

/**
 * Answers with an auto-submitting form that POSTs `params` to `action` (OAuth 2.0 Form Post Response Mode, as Entra
 * renders it); `<noscript>` keeps it usable without JavaScript.
 */
export function sendFormPost(res: ServerResponse, action: string, params: Record<string, string>): void {
  const inputs = Object.entries(params)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("\n");
  const form = `<form method="POST" name="hiddenform" action="${escapeHtml(action)}">
${inputs}
<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript>
</form>
<script>document.forms[0].submit();</script>`;
  sendHtml(res, 200, page("Working...", form));
}

/**
 * Takes one use of an HTTP-error fault (`faults.mi`, `faults.graph`): clears it after its last `times`, and returns its
 * status with the `Retry-After` header it asks for, or undefined when the fault is off.
 */
export function takeFault(
  faults: EmulatorFaults,
  name: "mi" | "graph",
): { status: number; headers: Record<string, string> } | undefined {
  const fault = faults[name];
  if (!fault) return undefined;
  if (fault.times !== undefined && --fault.times <= 0) faults[name] = null;
  const headers: Record<string, string> =
    fault.retryAfterSeconds !== undefined ? { "Retry-After": String(fault.retryAfterSeconds) } : {};
  return { status: fault.status, headers };
}
