/**
 * A local stand-in for App Service's built-in authentication (Easy Auth), so the app's Easy Auth mode runs offline
 * (`npm run dev -- --easy-auth`, the browser tests): a small front end on loopback that signs users in with the Entra
 * emulator and forwards every request to the app with the headers the platform injects.
 *
 * What it does as the platform does (App Service docs, "Authentication and authorization in Azure App Service",
 * "Work with user identities", "Work with OAuth tokens"): `/.auth/login/aad` starts a sign-in and
 * `/.auth/login/aad/callback` finishes it, redeeming the code with the **managed identity's token as the client
 * assertion** (what `OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID` makes the platform do) and keeping the tokens in its token
 * store; `/.auth/logout`, `/.auth/me` and `/.auth/refresh`; a session cookie (`AppServiceAuthSession`); unauthenticated
 * requests redirected to sign-in except the excluded health paths; every client-sent `X-MS-CLIENT-PRINCIPAL*` and
 * `X-MS-TOKEN-*` header removed, and the signed-in user's set. What it does differently: the emulator implements only
 * `response_type=code`, so it uses the code flow with PKCE where App Service asks for `code id_token`; its sessions
 * live in this process's memory; it sends requests on with Host set to the app's own origin.
 */
import { randomBytes, createHash } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer, request as httpRequest } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { clouds } from "../contract/clouds";
import {
  EASY_AUTH_EXCLUDED_PATHS,
  EASY_AUTH_PATHS,
  EasyAuthHeader,
  easyAuthLoginParameters,
  isPlatformIdentityHeader,
} from "../contract/easy-auth";
import { TOKEN_EXCHANGE_URI, type RunningEmulator } from "../emulator";

/** Easy Auth's session cookie name. */
export const SESSION_COOKIE = "AppServiceAuthSession";
const PENDING_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1_000;

interface Session {
  readonly claims: Record<string, unknown>;
  idToken: string;
  accessToken: string;
  refreshToken: string | undefined;
  expiresOn: Date;
}

interface Pending {
  readonly verifier: string;
  readonly nonce: string;
  readonly returnTo: string;
  readonly createdAt: number;
}

export interface EasyAuthProxyOptions {
  /** The running emulator: its authority signs users in, its managed-identity endpoint gives the client assertion. */
  readonly emu: RunningEmulator;
  /** The app's own origin (its PUBLIC_BASE_URL), e.g. http://localhost:3001; requests go to it on loopback. */
  readonly upstream: string;
  /** The port to listen on (127.0.0.1). Defaults to a free one. */
  readonly port?: number;
}

export interface EasyAuthProxy {
  /** `http://localhost:<port>`: what a browser opens. */
  readonly url: string;
  /** The redirect URI the emulator must accept: `${url}/.auth/login/aad/callback`. */
  readonly redirectUri: string;
  close(): Promise<void>;
}

const b64url = (bytes: Buffer) => bytes.toString("base64url");

/** A relative path on this origin (the platform only redirects there), or "/". */
function localPath(value: string | null): string {
  if (!value?.startsWith("/") || value.startsWith("//")) return "/";
  if (/[\\\s]/.test(value) || value.length > 2_000) return "/";
  return value;
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** The X-MS-CLIENT-PRINCIPAL payload, claims named as App Service's claim mapping names the common ones. */
function clientPrincipal(claims: Record<string, unknown>): string {
  const mapped: Record<string, string> = {
    oid: "http://schemas.microsoft.com/identity/claims/objectidentifier",
    tid: "http://schemas.microsoft.com/identity/claims/tenantid",
  };
  const list = Object.entries(claims).flatMap(([typ, val]) =>
    (Array.isArray(val) ? val : [val])
      .filter((v) => typeof v === "string" || typeof v === "number")
      .map((v) => ({ typ: mapped[typ] ?? typ, val: String(v) })),
  );
  const roleType = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role";
  const principal = { auth_typ: "aad", claims: list, name_typ: "name", role_typ: roleType };
  return Buffer.from(JSON.stringify(principal)).toString("base64");
}

export async function startEasyAuthProxy(options: EasyAuthProxyOptions): Promise<EasyAuthProxy> {
  const { emu, upstream } = options;
  const upstreamUrl = new URL(upstream);
  const sessions = new Map<string, Session>();
  const pending = new Map<string, Pending>();
  const jwks = createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`));
  const scope = easyAuthLoginParameters(clouds.public.graphScope)[1]!.replace(/^scope=/, "");
  let url = "";
  const redirectUri = () => `${url}${EASY_AUTH_PATHS.callback}`;

  /** The managed identity's token for the token exchange: the client assertion, as App Service presents it. */
  const assertion = async (): Promise<string> => {
    const mi = new URL(emu.identityEndpoint);
    const clientId = emu.registration.uami.clientId;
    mi.search = new URLSearchParams({
      "api-version": "2019-08-01",
      resource: TOKEN_EXCHANGE_URI,
      client_id: clientId,
    }).toString();
    const res = await fetch(mi, { headers: { "x-identity-header": emu.identityHeader } });
    if (!res.ok) throw new Error(`managed identity endpoint answered ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  };

  const tokenRequest = async (grant: Record<string, string>) => {
    const body = new URLSearchParams({
      client_id: emu.registration.clientId,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: await assertion(),
      ...grant,
    });
    const res = await fetch(`${emu.authority}/oauth2/v2.0/token`, { method: "POST", body });
    const json = (await res.json()) as Record<string, string | number | undefined>;
    if (!res.ok) throw new Error(`${String(json.error)}: ${String(json.error_description ?? "").split("\n")[0]}`);
    return json;
  };

  const send = (res: ServerResponse, status: number, headers: Record<string, string | string[]>, body = "") => {
    res.writeHead(status, { "cache-control": "no-store", ...headers });
    res.end(body);
  };
  const fail = (res: ServerResponse, status: number, message: string) =>
    send(res, status, { "content-type": "text/plain; charset=utf-8" }, `Easy Auth stand-in: ${message}\n`);
  const sessionCookie = (id: string, maxAge?: number) =>
    `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Lax${maxAge === undefined ? "" : `; Max-Age=${maxAge}`}`;
  const sessionOf = (req: IncomingMessage) => {
    const id = cookies(req)[SESSION_COOKIE];
    return id ? { id, session: sessions.get(id) } : { id: undefined, session: undefined };
  };

  const login = (res: ServerResponse, query: URLSearchParams) => {
    const now = Date.now();
    for (const [k, p] of pending) if (now - p.createdAt > PENDING_TTL_MS) pending.delete(k);
    if (pending.size >= MAX_PENDING) return fail(res, 503, "too many sign-ins in progress; try again shortly");
    const state = b64url(randomBytes(32));
    const verifier = b64url(randomBytes(32));
    const nonce = b64url(randomBytes(16));
    pending.set(state, { verifier, nonce, returnTo: localPath(query.get("post_login_redirect_uri")), createdAt: now });
    const authorize = new URL(`${emu.authority}/oauth2/v2.0/authorize`);
    authorize.search = new URLSearchParams({
      client_id: emu.registration.clientId,
      response_type: "code",
      response_mode: "query",
      redirect_uri: redirectUri(),
      scope,
      state,
      nonce,
      code_challenge: b64url(createHash("sha256").update(verifier).digest()),
      code_challenge_method: "S256",
    }).toString();
    send(res, 302, { location: authorize.href });
  };

  const callback = async (res: ServerResponse, query: URLSearchParams) => {
    const state = query.get("state") ?? "";
    const attempt = pending.get(state);
    pending.delete(state);
    if (!attempt) return fail(res, 400, "unknown or expired sign-in (state); start again at /.auth/login/aad");
    const error = query.get("error");
    if (error)
      return fail(res, 401, `sign-in failed: ${error}: ${(query.get("error_description") ?? "").split("\n")[0]}`);
    const code = query.get("code");
    if (!code) return fail(res, 400, "no code in the callback");
    const tokens = await tokenRequest({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      code_verifier: attempt.verifier,
      scope,
    });
    const idToken = String(tokens.id_token);
    const { payload } = await jwtVerify(idToken, jwks, { issuer: emu.issuer, audience: emu.registration.clientId });
    if (payload.nonce !== attempt.nonce) return fail(res, 401, "the ID token's nonce does not match the sign-in");
    const id = b64url(randomBytes(32));
    sessions.set(id, {
      claims: payload as Record<string, unknown>,
      idToken,
      accessToken: String(tokens.access_token),
      refreshToken: tokens.refresh_token === undefined ? undefined : String(tokens.refresh_token),
      expiresOn: new Date(Date.now() + Number(tokens.expires_in ?? 3600) * 1000),
    });
    send(res, 302, { location: attempt.returnTo, "set-cookie": sessionCookie(id) });
  };

  const refresh = async (res: ServerResponse, session: Session | undefined) => {
    if (!session?.refreshToken) return fail(res, 401, "no session with a refresh token; sign in at /.auth/login/aad");
    const tokens = await tokenRequest({ grant_type: "refresh_token", refresh_token: session.refreshToken, scope });
    session.accessToken = String(tokens.access_token);
    if (tokens.id_token) session.idToken = String(tokens.id_token);
    if (tokens.refresh_token) session.refreshToken = String(tokens.refresh_token);
    session.expiresOn = new Date(Date.now() + Number(tokens.expires_in ?? 3600) * 1000);
    send(res, 200, { "content-type": "application/json" }, "{}");
  };

  /** Sends the request on to the app, without the client's identity headers and with the signed-in user's. */
  const forward = (req: IncomingMessage, res: ServerResponse, session: Session | undefined) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !isPlatformIdentityHeader(name) && name !== "host") headers[name] = value;
    }
    headers.host = upstreamUrl.host;
    if (session) {
      const c = session.claims;
      Object.assign(headers, {
        [EasyAuthHeader.Principal]: clientPrincipal(c),
        [EasyAuthHeader.PrincipalId]: String(c.oid ?? ""),
        [EasyAuthHeader.PrincipalName]: String(c.preferred_username ?? c.name ?? ""),
        [EasyAuthHeader.PrincipalIdp]: "aad",
        [EasyAuthHeader.IdToken]: session.idToken,
        [EasyAuthHeader.AccessToken]: session.accessToken,
        [EasyAuthHeader.ExpiresOn]: session.expiresOn.toISOString(),
        ...(session.refreshToken ? { [EasyAuthHeader.RefreshToken]: session.refreshToken } : {}),
      });
    }
    const upstreamReq = httpRequest(
      // Host names the app's own origin (its PUBLIC_BASE_URL); the connection goes to loopback, where the app listens.
      {
        host: upstreamUrl.hostname === "localhost" ? "127.0.0.1" : upstreamUrl.hostname,
        port: upstreamUrl.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        upstreamRes.pipe(res);
      },
    );
    upstreamReq.on("error", () => (res.headersSent ? res.destroy() : fail(res, 502, "the app did not answer")));
    req.pipe(upstreamReq);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const target = new URL(req.url ?? "/", "http://stand-in");
    const path = target.pathname;
    const { id, session } = sessionOf(req);
    if (path === EASY_AUTH_PATHS.login && req.method === "GET") return login(res, target.searchParams);
    if (path === EASY_AUTH_PATHS.callback && req.method === "GET") return callback(res, target.searchParams);
    if (path === EASY_AUTH_PATHS.logout) {
      if (id) sessions.delete(id);
      const location = localPath(target.searchParams.get("post_logout_redirect_uri"));
      return send(res, 302, { location, "set-cookie": sessionCookie("", 0) });
    }
    if (path === EASY_AUTH_PATHS.me) {
      if (!session) return fail(res, 401, "not signed in");
      const me = [
        {
          provider_name: "aad",
          user_id: session.claims.preferred_username,
          user_claims: JSON.parse(Buffer.from(clientPrincipal(session.claims), "base64").toString()).claims,
          id_token: session.idToken,
          access_token: session.accessToken,
          expires_on: session.expiresOn.toISOString(),
        },
      ];
      return send(res, 200, { "content-type": "application/json" }, JSON.stringify(me));
    }
    if (path === EASY_AUTH_PATHS.refresh) return refresh(res, session);
    if (path.startsWith("/.auth/")) return fail(res, 404, `${path} is not implemented by the stand-in`);
    if (session || (EASY_AUTH_EXCLUDED_PATHS as readonly string[]).includes(path)) return forward(req, res, session);
    // Require authentication: redirect browsers' GETs to sign-in (RedirectToLoginPage), refuse everything else.
    if (req.method === "GET" || req.method === "HEAD") {
      return send(res, 302, {
        location: `${EASY_AUTH_PATHS.login}?post_login_redirect_uri=${encodeURIComponent(`${path}${target.search}`)}`,
      });
    }
    return fail(res, 401, "sign in first");
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) fail(res, 502, `sign-in failed: ${error instanceof Error ? error.message : String(error)}`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  url = `http://localhost:${(server.address() as AddressInfo).port}`;
  return {
    url,
    redirectUri: redirectUri(),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
