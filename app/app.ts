import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import { timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import fastifyHelmet from "@fastify/helmet";
import { LogLevel } from "@azure/msal-node";
import type { JWTPayload } from "jose";
import { DEFAULT_FRONT_CHANNEL_LOGOUT_PATH, HEALTH_CHECK_PATH } from "../contract/settings";
import type { AppConfig } from "./config";
import { explainAadsts, type SignInProblem } from "./auth/aadsts";
import { createManagedIdentityAssertion, ManagedIdentityError, type AssertionProvider } from "./auth/managed-identity";
import { createSignInClient, explainSignInFailure, newSignInAttempt, type SignInAttempt } from "./auth/oidc";
import { BoundedStore, randomId } from "./store";
import { sanitiseReturnUrl } from "./return-url";
import { frontChannelSignedOutPage, messagePage, problemPage, signedInPage, signedOutPage, type TrustChain } from "./views";

/** Optional collaborators and tuning, mostly for tests. */
export interface AppDeps {
  /** The client-assertion source. Defaults to the user-assigned managed identity via msal-node. */
  readonly assertion?: AssertionProvider;
  /** Fastify logger options; defaults to JSON logs at LOG_LEVEL (default "info") with redaction. `false` turns logging off. */
  readonly logger?: FastifyServerOptions["logger"];
  /** Where JSON logs go (tests capture them); defaults to stdout. */
  readonly logStream?: NodeJS.WritableStream;
  /** Session timeouts and bound. Defaults: 1 h idle, 8 h absolute, 10 000 sessions. */
  readonly sessions?: { readonly idleTimeoutMs?: number; readonly absoluteTimeoutMs?: number; readonly maxSessions?: number };
  /** jose's JWKS refetch cooldown for unknown key IDs. Defaults to 10 s. */
  readonly jwksCooldownMs?: number;
  /** Folder of static assets served under /public/. Defaults to `public` next to this module (or the bundle). */
  readonly publicDir?: string;
}

/** A signed-in user's server-side session. The cookie carries only its random id. */
interface Session {
  readonly claims: JWTPayload;
  /** Per-session token the sign-out form must echo (CSRF). */
  readonly csrfToken: string;
  /** Entra's session id (`sid` claim), for front-channel logout. */
  readonly sid?: string;
  readonly loginHint?: string;
  readonly trust: TrustChain;
}

/** A sign-in in progress, keyed by its state. */
interface Transaction {
  readonly attempt: SignInAttempt;
  /** Random value also held in the browser's transaction cookie: the response must come back to the same browser. */
  readonly binding: string;
  readonly returnUrl: string;
}

const TRANSACTION_TTL_MS = 15 * 60_000; // ASP.NET's nonce lifetime
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const JSON_ROUTES = ["/me", "/readyz", HEALTH_CHECK_PATH];
const CONTENT_TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

/** Query parameters whose values must never reach a log line (request URLs are logged). */
const SECRET_PARAMS = ["code", "state", "id_token", "access_token", "refresh_token", "client_assertion", "session_state", "sid", "csrf"];
/** Property names redacted wherever they appear in a log object, as a second line of defence. */
const SECRET_FIELDS = ["id_token", "idToken", "access_token", "accessToken", "refresh_token", "client_assertion", "assertion", "csrf", "csrfToken"];

/**
 * Builds the sample web app (routes, auth, sessions, error pages) without listening; app/server.ts listens.
 * Routes are documented in app/README.md.
 */
export function createApp(config: AppConfig, deps: AppDeps = {}): FastifyInstance {
  const app = Fastify({
    logger: deps.logger ?? defaultLogger(deps.logStream),
    // App Service terminates TLS in its front end and forwards X-Forwarded-Proto/-Host/-For.
    trustProxy: true,
    bodyLimit: 64 * 1024,
    requestIdHeader: false,
  });

  const msalLogger = {
    piiLoggingEnabled: false,
    logLevel: LogLevel.Warning,
    loggerCallback: (level: LogLevel, message: string, containsPii: boolean): void => {
      if (containsPii) return;
      // Managed-identity responses never carry client_info; msal-node warns about it on every MI fetch.
      const harmless = message.includes("No client info in response");
      if (level <= LogLevel.Warning && !harmless) app.log.warn({ msal: message }, "msal-node");
      else app.log.debug({ msal: message }, "msal-node");
    },
  };
  const assertion =
    deps.assertion ??
    createManagedIdentityAssertion({
      managedIdentityClientId: config.managedIdentityClientId,
      tokenExchangeUrl: config.tokenExchangeUrl,
      loggerOptions: msalLogger,
    });
  const client = createSignInClient({
    config,
    assertion,
    loggerOptions: msalLogger,
    ...(deps.jwksCooldownMs !== undefined ? { jwksCooldownMs: deps.jwksCooldownMs } : {}),
  });

  const sessions = new BoundedStore<Session>({
    idleTimeoutMs: deps.sessions?.idleTimeoutMs ?? 60 * 60_000,
    absoluteTimeoutMs: deps.sessions?.absoluteTimeoutMs ?? 8 * 60 * 60_000,
    maxEntries: deps.sessions?.maxSessions ?? 10_000,
  });
  const transactions = new BoundedStore<Transaction>({ absoluteTimeoutMs: TRANSACTION_TTL_MS, maxEntries: 10_000 });
  const sweeper = setInterval(() => {
    sessions.sweep();
    transactions.sweep();
  }, 60_000);
  sweeper.unref();
  app.addHook("onClose", async () => clearInterval(sweeper));

  const instanceOrigin = new URL(config.instance).origin;
  const assets = loadAssets(deps.publicDir ?? join(__dirname, "public"));

  app.register(fastifyCookie);
  app.register(fastifyFormbody);
  app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        // The sign-out form's redirect continues to Entra's end-session endpoint.
        formAction: ["'self'", instanceOrigin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: "no-referrer" },
    xFrameOptions: { action: "deny" },
  });

  // Cookies: the session cookie is Lax (it need not follow cross-site requests); the sign-in transaction cookie must
  // survive Entra's cross-site form_post to the callback, so it is SameSite=None, which browsers accept only with
  // Secure (Chromium and Firefox treat http://localhost as secure, so local runs work too).
  const isHttps = (req: FastifyRequest): boolean => req.protocol === "https";
  const sessionCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-session" : "session");
  const transactionCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-signin" : "signin");
  const origin = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;

  const currentSession = (req: FastifyRequest): { id: string; session: Session } | undefined => {
    const id = req.cookies[sessionCookie(req)];
    if (!id || !ID_PATTERN.test(id)) return undefined;
    const session = sessions.get(id);
    return session ? { id, session } : undefined;
  };
  const clearSessionCookie = (req: FastifyRequest, reply: FastifyReply): void => {
    reply.clearCookie(sessionCookie(req), { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
  };
  const sendPage = (reply: FastifyReply, status: number, html: string): FastifyReply =>
    reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(html);
  const sendProblem = (reply: FastifyReply, problem: SignInProblem): FastifyReply => sendPage(reply, problem.status, problemPage(problem));

  // A redirect URI or origin built from a malformed Host header would be garbage; refuse such requests early.
  app.addHook("onRequest", async (req, reply) => {
    if (!HOST_PATTERN.test(req.host)) {
      return sendPage(reply, 400, messagePage("Bad request", "The Host header is not valid."));
    }
  });

  app.get("/", async (req, reply) => {
    const current = currentSession(req);
    if (!current) return sendPage(reply, 200, signedOutPage());
    return sendPage(reply, 200, signedInPage({ claims: current.session.claims, csrfToken: current.session.csrfToken, trust: current.session.trust }));
  });

  app.get<{ Querystring: { returnUrl?: string } }>("/signin", async (req, reply) => {
    const raw = typeof req.query.returnUrl === "string" ? req.query.returnUrl : undefined;
    const returnUrl = sanitiseReturnUrl(raw);
    if (returnUrl === undefined) {
      return sendPage(
        reply,
        400,
        messagePage("Return URL refused", "returnUrl must be a path on this site starting with a single \"/\" (for example /me); other sites, \"//\" and backslashes are not allowed."),
      );
    }
    const attempt = await newSignInAttempt(`${origin(req)}${config.callbackPath}`);
    const existing = req.cookies[transactionCookie(req)];
    const binding = existing && ID_PATTERN.test(existing) ? existing : randomId();
    let url: string;
    try {
      url = await client.authorizationUrl(attempt);
    } catch (error) {
      req.log.warn({ err: safeError(error) }, "could not build the authorization URL");
      return sendProblem(reply, explainSignInFailure(error, config));
    }
    transactions.set(attempt.state, { attempt, binding, returnUrl });
    reply.setCookie(transactionCookie(req), binding, {
      path: "/",
      httpOnly: true,
      secure: true,
      sameSite: "none",
      maxAge: TRANSACTION_TTL_MS / 1000,
    });
    return reply.header("cache-control", "no-store").redirect(url, 302);
  });

  // The callback: GET for response_mode=query, POST for form_post (what the app asks for).
  const callback = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const params = ((req.method === "POST" ? req.body : req.query) ?? {}) as Record<string, unknown>;
    const field = (name: string): string | undefined => (typeof params[name] === "string" ? (params[name] as string) : undefined);
    const state = field("state");
    if (!state) {
      return sendPage(reply, 400, messagePage("Sign-in response without state", "This request did not come from a sign-in this app started. Sign in again from the home page."));
    }
    const transaction = transactions.take(state);
    if (!transaction) {
      return sendPage(reply, 400, messagePage("Sign-in attempt unknown or already used", "This sign-in response is unknown, expired (15 minutes) or was already used. Sign in again."));
    }
    const binding = req.cookies[transactionCookie(req)];
    if (!binding || !safeEqual(binding, transaction.binding)) {
      return sendPage(reply, 400, messagePage("Sign-in started in another browser", "This sign-in response belongs to a sign-in started elsewhere (or cookies are blocked). Sign in again."));
    }
    const error = field("error");
    if (error) {
      const description = field("error_description");
      const problem = explainAadsts({ error, ...(description ? { description } : {}) });
      req.log.warn({ error, aadsts: problem.code }, "Entra returned an error to the callback");
      return sendProblem(reply, problem);
    }
    const code = field("code");
    if (!code) {
      return sendPage(reply, 400, messagePage("Sign-in response without code", "Entra's response carried neither a code nor an error. Sign in again."));
    }

    let claims: JWTPayload;
    try {
      claims = await client.redeem(transaction.attempt, { code, state });
    } catch (failure) {
      const problem = explainSignInFailure(failure, config);
      req.log.warn({ err: safeError(failure), problem: problem.title, aadsts: problem.code }, "sign-in failed");
      return sendProblem(reply, problem);
    }

    // A new session id on every sign-in (no fixation); the old session, if any, ends.
    const previous = currentSession(req);
    if (previous) sessions.delete(previous.id);
    const info = assertion.lastAssertionInfo();
    const metadata = await client.metadata();
    const sessionId = randomId();
    sessions.set(sessionId, {
      claims,
      csrfToken: randomId(),
      ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}),
      ...(typeof claims.login_hint === "string" ? { loginHint: claims.login_hint } : {}),
      trust: {
        appOrigin: origin(req),
        managedIdentityClientId: info?.clientId ?? config.managedIdentityClientId,
        ficIssuer: info?.issuer ?? "(unknown)",
        ficSubject: info?.subject ?? "(unknown)",
        ficAudience: config.tokenExchangeUrl,
        idTokenIssuer: metadata.issuer,
        clientId: config.clientId,
      },
    });
    reply.setCookie(sessionCookie(req), sessionId, { path: "/", httpOnly: true, secure: isHttps(req), sameSite: "lax" });
    req.log.info({ oid: claims.oid }, "signed in");
    return reply.header("cache-control", "no-store").redirect(transaction.returnUrl, 303);
  };
  app.get(config.callbackPath, callback);
  app.post(config.callbackPath, callback);

  app.post<{ Body: { csrf?: unknown } }>("/signout", async (req, reply) => {
    const current = currentSession(req);
    if (!current) return reply.redirect("/", 303);
    const csrf = typeof req.body?.csrf === "string" ? req.body.csrf : "";
    if (!safeEqual(csrf, current.session.csrfToken)) {
      return sendPage(reply, 403, messagePage("Sign-out refused", "The sign-out form was not submitted from this app (CSRF check failed). Use the Sign out button."));
    }
    sessions.delete(current.id);
    clearSessionCookie(req, reply);
    let target = "/";
    try {
      target = (await client.endSessionUrl(`${origin(req)}/`, current.session.loginHint)) ?? "/";
    } catch (error) {
      req.log.warn({ err: safeError(error) }, "no end-session endpoint; signed out locally only");
    }
    req.log.info({ oid: current.session.claims.oid }, "signed out");
    return reply.header("cache-control", "no-store").redirect(target, 303);
  });

  // Front-channel logout: Entra loads this in a hidden iframe when the user signs out elsewhere.
  app.get<{ Querystring: { sid?: string; iss?: string } }>(DEFAULT_FRONT_CHANNEL_LOGOUT_PATH, async (req, reply) => {
    // The one page the IdP may frame: replace helmet's frame-ancestors 'none' and X-Frame-Options for it.
    reply.header("content-security-policy", `default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors ${instanceOrigin}`);
    reply.removeHeader("x-frame-options");
    let cleared = 0;
    const current = currentSession(req);
    if (current) {
      sessions.delete(current.id);
      cleared++;
    }
    clearSessionCookie(req, reply);
    const { sid, iss } = req.query;
    const fromOurAuthority = typeof iss !== "string" || iss.startsWith(config.instance);
    if (typeof sid === "string" && sid && fromOurAuthority) {
      cleared += sessions.deleteWhere((session) => session.sid === sid);
    }
    req.log.info({ cleared }, "front-channel logout");
    return sendPage(reply, 200, frontChannelSignedOutPage());
  });

  app.get("/me", async (req, reply) => {
    reply.header("cache-control", "no-store");
    const current = currentSession(req);
    if (!current) return reply.code(401).send({ error: "not_signed_in", message: "Sign in at /signin first." });
    return current.session.claims;
  });

  app.get(HEALTH_CHECK_PATH, async () => ({ status: "ok" }));

  // Readiness: the managed identity must produce the token the sign-in exchanges (msal-node's cache answers most calls).
  app.get("/readyz", async (req, reply) => {
    reply.header("cache-control", "no-store");
    try {
      await assertion.getAssertion();
      return { status: "ready", managedIdentityClientId: config.managedIdentityClientId, audience: config.tokenExchangeUrl };
    } catch (error) {
      const reason = error instanceof ManagedIdentityError ? error.reason : "the managed identity token could not be obtained";
      req.log.warn({ reason }, "not ready");
      return reply.code(503).send({ status: "unavailable", reason: `Managed identity token for ${config.tokenExchangeUrl} unavailable: ${reason}` });
    }
  });

  app.get<{ Params: { file: string } }>("/public/:file", async (req, reply) => {
    const asset = assets.get(req.params.file);
    if (!asset) return notFound(req, reply);
    return reply.header("cache-control", "public, max-age=3600").type(asset.type).send(asset.body);
  });

  // Browsers ask for /favicon.ico on pages without HTML (such as /me).
  app.get("/favicon.ico", async (req, reply) => {
    const icon = assets.get("favicon.svg");
    if (!icon) return notFound(req, reply);
    return reply.header("cache-control", "public, max-age=86400").type(icon.type).send(icon.body);
  });

  const notFound = (req: FastifyRequest, reply: FastifyReply): FastifyReply => {
    if (wantsJson(req)) return reply.code(404).send({ error: "not_found" });
    return sendPage(reply, 404, messagePage("Page not found", `There is nothing at ${req.url.split("?")[0]}.`));
  };
  app.setNotFoundHandler(notFound);

  // One error handler: log everything, show a short message, never a stack trace.
  app.setErrorHandler((error: { statusCode?: number; message?: string }, req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) req.log.error({ err: safeError(error) }, "request failed");
    else req.log.info({ err: safeError(error) }, "bad request");
    const message = status >= 500 ? "Something went wrong on our side. Try again; the server log has the details." : "The request could not be processed.";
    if (wantsJson(req)) return reply.code(status).send({ error: status >= 500 ? "internal_error" : "bad_request", message });
    return sendPage(reply, status, messagePage(status >= 500 ? "Something went wrong" : "Bad request", message));
  });

  return app;
}

function wantsJson(req: FastifyRequest): boolean {
  const path = req.url.split("?")[0] ?? "";
  return JSON_ROUTES.includes(path) || (req.headers.accept ?? "").startsWith("application/json");
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** An error reduced to what may be logged: name, message, codes. Never payloads, tokens or response bodies. */
function safeError(error: unknown): Record<string, unknown> {
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
export function redactUrl(url: string): string {
  const q = url.indexOf("?");
  if (q < 0) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  for (const name of [...params.keys()]) {
    if (SECRET_PARAMS.includes(name.toLowerCase())) params.set(name, "[redacted]");
  }
  return `${url.slice(0, q)}?${params.toString()}`;
}

function defaultLogger(stream?: NodeJS.WritableStream): NonNullable<FastifyServerOptions["logger"]> {
  return {
    level: process.env.LOG_LEVEL ?? "info",
    ...(stream ? { stream } : {}),
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

function loadAssets(dir: string): Map<string, { type: string; body: Buffer }> {
  const assets = new Map<string, { type: string; body: Buffer }>();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return assets; // No assets: pages still work, unstyled.
  }
  for (const file of files) {
    const type = CONTENT_TYPES[extname(file)];
    if (type) assets.set(file, { type, body: readFileSync(join(dir, file)) });
  }
  return assets;
}
