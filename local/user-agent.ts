/**
 * A tiny scripted "browser" for the HTTP tests and the benchmark (bench/app.ts): a cookie jar, manual redirects, and
 * Entra's auto-submitting form_post page submitted the way a browser's script would. Cookies are kept per host name
 * (not port), as browsers do; Secure is ignored because the app under test listens on plain-http loopback.
 */

/** One HTTP response, body read as text. */
export interface Page {
  readonly status: number;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
}

/** Entra's form_post page: where it posts and what. */
export interface FormPost {
  readonly action: string;
  readonly fields: Record<string, string>;
}

const MAX_HOPS = 20;

export class UserAgent {
  private readonly jar = new Map<string, Map<string, string>>();
  /** Every URL requested, in order (for asserting the route a sign-in took). */
  readonly history: string[] = [];
  /** Raw Set-Cookie headers of the last response. */
  lastSetCookies: string[] = [];

  /** One request, no redirects followed. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
  ): Promise<Page> {
    this.history.push(`${init.method ?? "GET"} ${url}`);
    const headers = new Headers(init.headers);
    const cookie = this.cookieHeader(url);
    if (cookie) headers.set("cookie", cookie);
    let body: string | undefined;
    if (init.form) {
      headers.set("content-type", "application/x-www-form-urlencoded");
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(url, { method: init.method ?? "GET", headers, body, redirect: "manual" });
    this.lastSetCookies = response.headers.getSetCookie();
    this.store(url, this.lastSetCookies);
    return { status: response.status, url, headers: response.headers, body: await response.text() };
  }

  /**
   * Requests a URL and keeps going like a browser: follows redirects (as GET) and submits form_post pages, until a
   * page that is neither. `stopAtFormPost` returns Entra's form_post page unsubmitted instead.
   */
  async navigate(
    url: string,
    init: { method?: string; form?: Record<string, string>; stopAtFormPost?: boolean } = {},
  ): Promise<Page> {
    let page = await this.request(url, init);
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const location = page.headers.get("location");
      if (page.status >= 300 && page.status < 400 && location) {
        page = await this.request(new URL(location, page.url).href);
        continue;
      }
      const formPost = parseFormPost(page.body);
      if (formPost && !init.stopAtFormPost) {
        page = await this.request(new URL(formPost.action, page.url).href, { method: "POST", form: formPost.fields });
        continue;
      }
      return page;
    }
    throw new Error(`more than ${MAX_HOPS} hops from ${url}`);
  }

  /** The cookie a URL would be sent, by name. */
  cookie(url: string, name: string): string | undefined {
    return this.jar.get(new URL(url).hostname)?.get(name);
  }

  /** Adds or replaces a cookie (for cross-browser tests). */
  setCookie(url: string, name: string, value: string): void {
    const host = new URL(url).hostname;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    cookies.set(name, value);
    this.jar.set(host, cookies);
  }

  private cookieHeader(url: string): string {
    const cookies = this.jar.get(new URL(url).hostname);
    return cookies ? [...cookies].map(([name, value]) => `${name}=${value}`).join("; ") : "";
  }

  private store(url: string, setCookies: string[]): void {
    const host = new URL(url).hostname;
    const cookies = this.jar.get(host) ?? new Map<string, string>();
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(";").map((part) => part.trim());
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) <= Date.now()),
      );
      if (expired || value === "") cookies.delete(name);
      else cookies.set(name, value);
    }
    this.jar.set(host, cookies);
  }
}

/** Parses Entra's auto-submitting `<form method="POST" name="hiddenform">` page, or returns undefined. */
export function parseFormPost(html: string): FormPost | undefined {
  const form = /<form method="POST" name="hiddenform" action="([^"]*)">/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[decodeEntities(input[1]!)] = decodeEntities(input[2]!);
  }
  return { action: decodeEntities(form[1]!), fields };
}

const NAMED: Record<string, string> = { quot: '"', apos: "'", lt: "<", gt: ">", amp: "&" };

/** Decodes the HTML character references an escaped attribute can hold (named and numeric). */
function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith("#x") || ref.startsWith("#X")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number(ref.slice(1)));
    return NAMED[ref.toLowerCase()] ?? whole;
  });
}

/** Parsed attributes of one Set-Cookie header, lower-cased names. */
export function cookieAttributes(setCookie: string): { name: string; value: string; attributes: Map<string, string> } {
  const [pair, ...parts] = setCookie.split(";").map((part) => part.trim());
  const eq = pair!.indexOf("=");
  const attributes = new Map<string, string>();
  for (const part of parts) {
    const i = part.indexOf("=");
    attributes.set((i < 0 ? part : part.slice(0, i)).toLowerCase(), i < 0 ? "" : part.slice(i + 1));
  }
  return { name: pair!.slice(0, eq), value: pair!.slice(eq + 1), attributes };
}
