/**
 * Raw HTTP requests as an attacker sends them: any Host, X-Forwarded-* and Cookie header, which fetch would not let a
 * test choose (it sets Host itself). Loopback only.
 */
import { request } from "node:http";
import { cookieAttributes } from "../../local/user-agent";

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** One request to `baseUrl` + `path` with exactly these headers (Host included), no redirects followed. */
export function rawRequest(
  baseUrl: string,
  path: string,
  init: { method?: string; headers?: Record<string, string>; form?: Record<string, string> } = {},
): Promise<RawResponse> {
  const base = new URL(baseUrl);
  const body = init.form ? new URLSearchParams(init.form).toString() : undefined;
  const headers = {
    ...init.headers,
    ...(body !== undefined
      ? { "content-type": "application/x-www-form-urlencoded", "content-length": String(Buffer.byteLength(body)) }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: init.method ?? "GET",
        headers,
        setHost: !("host" in headers),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The response's Set-Cookie headers, parsed. */
export function setCookies(res: RawResponse): ReturnType<typeof cookieAttributes>[] {
  const raw = res.headers["set-cookie"] ?? [];
  return (Array.isArray(raw) ? raw : [raw]).map(cookieAttributes);
}
