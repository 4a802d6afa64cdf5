/**
 * The sign-in and sign-out routes, in openid-client's vocabulary: /signin starts a sign-in attempt (state, nonce,
 * PKCE, kept server-side), the callback redeems it, /signout ends the session at the app and at Entra, and the
 * front-channel logout URL ends it when the user signs out elsewhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyFormbody from "@fastify/formbody";
import fastifyRateLimit from "@fastify/rate-limit";
import { APP_ROUTES } from "../../contract/routes";
import { explainAadsts, type SignInProblem } from "../auth/aadsts";
import { adminConsentUrl } from "../auth/graph";
import type { AssertionProvider } from "../auth/managed-identity";
import { explainSignInFailure, newSignInAttempt, type RedeemedSignIn, type SignInClient } from "../auth/oidc";
import type { AppConfig } from "../app-config";
import { safeError } from "../logging";
import { sanitiseReturnUrl } from "../return-url";
import { randomId, safeEqual } from "../random-id";
import { rememberSignedOut } from "./pages";
import { frontChannelSignedOutPage, messagePage, sendPage, sendProblem, type TrustChain } from "../views";

/** How many /signin requests one client address may make in a time window. */
export interface SignInRateLimit {
  readonly max: number;
  readonly timeWindowMs: number;
}

interface AuthOptions {
  readonly config: AppConfig;
  readonly client: SignInClient;
  readonly assertion: AssertionProvider;
  /** Defaults to 60 a minute per client address: room for a whole office behind one NAT address. */
  readonly rateLimit?: SignInRateLimit;
}

type RateLimitCheck = ReturnType<FastifyInstance["createRateLimit"]>;

/**
 * The client's address without a port (App Service's front end writes X-Forwarded-For entries as ip:port), so every
 * connection from one address shares one rate-limit budget. req.ip is the socket's address, or on App Service the
 * last X-Forwarded-For entry, which the front end wrote (app.ts trusts one hop).
 */
export function clientAddress(req: FastifyRequest): string {
  const ip = req.ip;
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(ip);
  if (v4) return v4[1]!;
  const v6 = /^\[([0-9a-f:.]+)\](?::\d+)?$/i.exec(ip);
  return v6 ? v6[1]! : ip;
}

export async function authRoutes(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyFormbody);
  // Only /signin is limited (it allocates server-side state); the check runs in its handler so it can answer with a page.
  await app.register(fastifyRateLimit, { global: false });
  const limit = app.createRateLimit({
    max: options.rateLimit?.max ?? 60,
    timeWindow: options.rateLimit?.timeWindowMs ?? 60_000,
    keyGenerator: clientAddress,
  });
  app.get(APP_ROUTES.signIn, (req, reply) => signIn(req, reply, options, limit));
  // The callback: POST for response_mode=form_post (what the app asks for), GET for response_mode=query.
  app.get(options.config.callbackPath, (req, reply) => callback(req, reply, options));
  app.post(options.config.callbackPath, (req, reply) => callback(req, reply, options));
  app.post(APP_ROUTES.signOut, (req, reply) => signOut(req, reply, options));
  app.get(APP_ROUTES.frontChannelLogout, (req, reply) => frontChannelLogout(req, reply, options));
}

async function signIn(req: FastifyRequest, reply: FastifyReply, { config, client }: AuthOptions, limit: RateLimitCheck): Promise<FastifyReply> {
  const allowed = await limit(req);
  if (!allowed.isAllowed && allowed.isExceeded) {
    req.log.warn({ client: allowed.key }, "sign-in rate limit reached");
    reply.header("retry-after", String(allowed.ttlInSeconds));
    return sendPage(reply, 429, messagePage("Too many sign-in attempts", `Too many sign-ins were started from your network address. Wait ${allowed.ttlInSeconds} seconds, then sign in again.`));
  }
  const query = req.query as { returnUrl?: unknown };
  const returnUrl = sanitiseReturnUrl(typeof query.returnUrl === "string" ? query.returnUrl : undefined);
  if (returnUrl === undefined) {
    return sendPage(
      reply,
      400,
      messagePage("Return URL refused", "returnUrl must be a path on this site starting with a single \"/\" (for example /me); other sites, \"//\" and backslashes are not allowed."),
    );
  }
  if (!(await req.server.signInAttempts.hasRoom(req))) return tooManyInProgress(req, reply);
  const attempt = await newSignInAttempt(`${req.publicOrigin}${config.callbackPath}`);
  let url: string;
  try {
    url = await client.authorizationUrl(attempt);
  } catch (error) {
    req.log.warn({ err: safeError(error) }, "could not build the authorization URL");
    return sendProblem(reply, explainSignInFailure(error, config));
  }
  if (!(await req.server.signInAttempts.keep(req, reply, attempt, returnUrl))) return tooManyInProgress(req, reply);
  return reply.header("cache-control", "no-store").redirect(url, 302);
}

/** The app holds its bound of browsers with a sign-in in progress: refuse this one rather than evict another's. */
function tooManyInProgress(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  req.log.warn("sign-in refused: the bound of sign-ins in progress is reached");
  reply.header("retry-after", "60");
  return sendPage(reply, 503, messagePage("Too many sign-ins in progress", "The app is holding as many unfinished sign-ins as it can. Wait a minute, then sign in again."));
}

async function callback(req: FastifyRequest, reply: FastifyReply, options: AuthOptions): Promise<FastifyReply> {
  const { config, client } = options;
  const params = ((req.method === "POST" ? req.body : req.query) ?? {}) as Record<string, unknown>;
  const field = (name: string): string | undefined => (typeof params[name] === "string" ? (params[name] as string) : undefined);
  const state = field("state");
  if (!state) {
    return sendPage(reply, 400, messagePage("Sign-in response without state", "This request did not come from a sign-in this app started. Sign in again from the home page."));
  }
  const taken = await req.server.signInAttempts.take(req, state);
  if (!taken.ok && taken.reason === "unknown") {
    return sendPage(reply, 400, messagePage("Sign-in attempt unknown or already used", "This sign-in response is unknown, expired (15 minutes) or was already used. Sign in again."));
  }
  if (!taken.ok) {
    return sendPage(reply, 400, messagePage("Sign-in started in another browser", "This sign-in response belongs to a sign-in started elsewhere (or cookies are blocked). Sign in again."));
  }
  const error = field("error");
  if (error) {
    const description = field("error_description");
    const problem = withConsentLink(explainAadsts({ error, ...(description ? { description } : {}) }), config);
    req.log.warn({ error, aadsts: problem.code }, "Entra returned an error to the callback");
    return sendProblem(reply, problem);
  }
  const code = field("code");
  if (!code) {
    return sendPage(reply, 400, messagePage("Sign-in response without code", "Entra's response carried neither a code nor an error. Sign in again."));
  }

  let redeemed: RedeemedSignIn;
  try {
    redeemed = await client.redeem(taken.attempt, { code, state });
  } catch (failure) {
    const problem = withConsentLink(explainSignInFailure(failure, config), config);
    req.log.warn({ err: safeError(failure), problem: problem.title, aadsts: problem.code }, "sign-in failed");
    return sendProblem(reply, problem);
  }
  const { claims } = redeemed;
  await req.server.sessions.start(req, reply, {
    claims,
    // The user's tokens stay in the session record, server-side; the browser gets only the session id.
    tokenCache: redeemed.tokenCache,
    ...(redeemed.homeAccountId ? { homeAccountId: redeemed.homeAccountId } : {}),
    csrfToken: randomId(),
    ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}),
    ...(typeof claims.login_hint === "string" ? { loginHint: claims.login_hint } : {}),
    trust: await trustChain(req, options),
  });
  req.log.info({ oid: claims.oid }, "signed in");
  return reply.header("cache-control", "no-store").redirect(taken.returnUrl, 303);
}

/** A missing consent (AADSTS65001, `consent_required`) comes with the link an administrator grants it with. */
function withConsentLink(problem: SignInProblem, config: AppConfig): SignInProblem {
  const consentMissing = problem.code === "AADSTS65001" || problem.error === "consent_required";
  return consentMissing ? { ...problem, adminConsentUrl: adminConsentUrl(config) } : problem;
}

/** The identifiers this sign-in was trusted through, for the home page. */
async function trustChain(req: FastifyRequest, { config, client, assertion }: AuthOptions): Promise<TrustChain> {
  const info = assertion.lastAssertionInfo();
  const metadata = await client.metadata();
  return {
    appOrigin: req.publicOrigin,
    managedIdentityClientId: info?.clientId ?? config.managedIdentityClientId,
    managedIdentityPrincipalId: info?.principalId ?? "(unknown)",
    ficIssuer: info?.issuer ?? "(unknown)",
    ficSubject: info?.subject ?? "(unknown)",
    ficAudience: config.tokenExchangeUrl,
    idTokenIssuer: metadata.issuer,
    clientId: config.clientId,
  };
}

async function signOut(req: FastifyRequest, reply: FastifyReply, { client }: AuthOptions): Promise<FastifyReply> {
  const { session } = req;
  if (!session) return reply.redirect("/", 303);
  const body = req.body as { csrf?: unknown } | undefined;
  const csrf = typeof body?.csrf === "string" ? body.csrf : "";
  if (!safeEqual(csrf, session.csrfToken)) {
    return sendPage(reply, 403, messagePage("Sign-out refused", "The sign-out form was not submitted from this app (CSRF check failed). Use the Sign out button."));
  }
  await req.server.sessions.end(req, reply);
  rememberSignedOut(req, reply);
  let target = "/";
  try {
    target = (await client.endSessionUrl(`${req.publicOrigin}/`, session.loginHint)) ?? "/";
  } catch (error) {
    req.log.warn({ err: safeError(error) }, "no end-session endpoint; signed out locally only");
  }
  req.log.info({ oid: session.claims.oid }, "signed out");
  return reply.header("cache-control", "no-store").redirect(target, 303);
}

/**
 * Front-channel logout (OpenID Connect Front-Channel Logout 1.0): Entra loads this in a hidden iframe when the user
 * signs out elsewhere, with `iss` and `sid`. Only the sessions whose ID token had exactly that issuer and session id end
 * (the ID token's issuer was checked against the configured authority at sign-in). Without both, or with no match,
 * nothing ends: the URL is a plain cross-site GET anyone can make a browser send. The answer is the same harmless 200
 * page either way, so it neither breaks the IdP's iframe nor tells a prober whether a sid matched.
 */
async function frontChannelLogout(req: FastifyRequest, reply: FastifyReply, { config }: AuthOptions): Promise<FastifyReply> {
  // The one page the IdP may frame: replace helmet's frame-ancestors 'none' and X-Frame-Options for it.
  const instanceOrigin = new URL(config.instance).origin;
  reply.header("content-security-policy", `default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors ${instanceOrigin}`);
  reply.removeHeader("x-frame-options");
  const { sid, iss } = req.query as { sid?: unknown; iss?: unknown };
  if (typeof iss === "string" && iss && typeof sid === "string" && sid) {
    const ended = await req.server.sessions.endBySid(req, reply, iss, sid);
    req.log.info({ ended }, "front-channel logout");
  } else {
    req.log.info("front-channel logout without iss and sid: ignored");
  }
  return sendPage(reply, 200, frontChannelSignedOutPage());
}
