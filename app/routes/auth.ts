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
import { TELEMETRY_OFF, type Telemetry } from "../telemetry/telemetry";
import { clockedRateLimitStore, rateLimitKey, type SignInRateLimit } from "../sign-in-rate-limit";
import { rememberSignedOut } from "../signed-out-notice";
import { randomId, safeEqual } from "../random-id";
import { frontChannelSignedOutPage, messagePage, sendPage, sendProblem, type TrustChain } from "../views";

interface AuthOptions {
  readonly config: AppConfig;
  readonly client: SignInClient;
  readonly assertion: AssertionProvider;
  /** Defaults to 60 a minute per client (IPv4 address or IPv6 /64): room for a whole office behind one NAT address. */
  readonly rateLimit?: SignInRateLimit;
  /** Where the sign-in's steps and outcome are recorded. Defaults to telemetry off. */
  readonly telemetry?: Telemetry;
}

type RateLimitCheck = ReturnType<FastifyInstance["createRateLimit"]>;

/**
 * The input of each route, as JSON schemas (Fastify validates them with Ajv before the handler runs). Only the fields
 * a route reads are described; anything else is ignored. A field given twice (`?state=a&state=b`) is an array and
 * fails its string schema. Each route sets `attachValidation` and answers a failure with its own page (below), the
 * page it gave before the schemas: the generic 400 would be less clear.
 */
const text = { type: "string" } as const;
const signInQuery = { type: "object", properties: { returnUrl: text } } as const;
const callbackFields = {
  type: "object",
  properties: { state: text, code: text, error: text, error_description: text },
} as const;
const signOutBody = { type: "object", properties: { csrf: text } } as const;
const frontChannelQuery = { type: "object", properties: { iss: text, sid: text } } as const;

interface SignInQuery {
  readonly returnUrl?: string;
}
interface CallbackFields {
  readonly state?: string;
  readonly code?: string;
  readonly error?: string;
  readonly error_description?: string;
}
interface SignOutBody {
  readonly csrf?: string;
}
interface FrontChannelQuery {
  readonly iss?: string;
  readonly sid?: string;
}

export async function authRoutes(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyFormbody);
  // Only /signin is limited (it allocates server-side state); the check runs in its handler so it can answer with a
  // page.
  await app.register(fastifyRateLimit, {
    global: false,
    store: clockedRateLimitStore(options.rateLimit?.now ?? Date.now),
  });
  const limit = app.createRateLimit({
    max: options.rateLimit?.max ?? 60,
    timeWindow: options.rateLimit?.timeWindowMs ?? 60_000,
    keyGenerator: (req) => rateLimitKey(req.ip),
  });
  app.get<{ Querystring: SignInQuery }>(
    APP_ROUTES.signIn,
    { schema: { querystring: signInQuery }, attachValidation: true },
    (req, reply) => signIn(req, reply, options, limit),
  );
  // The callback: POST for response_mode=form_post (what the app asks for), GET for response_mode=query.
  app.get<{ Querystring: CallbackFields }>(
    options.config.callbackPath,
    { schema: { querystring: callbackFields }, attachValidation: true },
    (req, reply) => callback(req, req.query, reply, options),
  );
  app.post<{ Body: CallbackFields }>(
    options.config.callbackPath,
    { schema: { body: callbackFields }, attachValidation: true },
    (req, reply) => callback(req, req.body, reply, options),
  );
  app.post<{ Body: SignOutBody }>(
    APP_ROUTES.signOut,
    { schema: { body: signOutBody }, attachValidation: true },
    (req, reply) => signOut(req, reply, options),
  );
  app.get<{ Querystring: FrontChannelQuery }>(
    APP_ROUTES.frontChannelLogout,
    { schema: { querystring: frontChannelQuery }, attachValidation: true },
    (req, reply) => frontChannelLogout(req, reply, options),
  );
}

/**
 * Whether the browser says this request is something other than a top-level navigation (an image, a script's fetch,
 * a frame): Fetch Metadata's `Sec-Fetch-Dest` and `Sec-Fetch-Mode`, which a page cannot set or remove on the requests
 * it makes a browser send (https://www.w3.org/TR/fetch-metadata/). Such a request must not start a sign-in: each one
 * replaces the browser's oldest pending attempt, so a cross-site page could push the user's own sign-in out.
 * Browsers that send Fetch Metadata send `Sec-Fetch-Dest` with it (Chromium 80+, Firefox 90+, Safari 16.4+), so its
 * presence is the test; a client without it (an older browser, curl, Node's fetch, which sends only
 * `Sec-Fetch-Mode: cors`) is not judged and behaves as before.
 */
function notTopLevelNavigation(req: FastifyRequest): boolean {
  const dest = req.headers["sec-fetch-dest"];
  if (dest === undefined) return false;
  return dest !== "document" || req.headers["sec-fetch-mode"] !== "navigate";
}

async function signIn(
  req: FastifyRequest<{ Querystring: SignInQuery }>,
  reply: FastifyReply,
  options: AuthOptions,
  limit: RateLimitCheck,
): Promise<FastifyReply> {
  if (notTopLevelNavigation(req)) {
    // Nothing is created, no cookie is set and no rate-limit budget is spent.
    const fetchMetadata = { mode: req.headers["sec-fetch-mode"], dest: req.headers["sec-fetch-dest"] };
    req.log.info(fetchMetadata, "sign-in refused: not a navigation");
    return sendPage(
      reply,
      403,
      messagePage(
        "Sign-in not started",
        "A sign-in starts only when this browser opens /signin itself (the Sign in button or a link), not from an " +
          "image, script or frame of another page. Select Sign in to start one.",
        { href: APP_ROUTES.signIn, label: "Sign in" },
      ),
    );
  }
  const allowed = await limit(req);
  if (!allowed.isAllowed && allowed.isExceeded) {
    req.log.warn({ client: allowed.key }, "sign-in rate limit reached");
    reply.header("retry-after", String(allowed.ttlInSeconds));
    return sendPage(
      reply,
      429,
      messagePage(
        "Too many sign-in attempts",
        `Too many sign-ins were started from your network address. Wait ` +
          `${allowed.ttlInSeconds} seconds, then sign in again.`,
      ),
    );
  }
  const { config, client } = options;
  const returnUrl = req.validationError ? undefined : sanitiseReturnUrl(req.query.returnUrl);
  if (returnUrl === undefined) {
    return sendPage(
      reply,
      400,
      messagePage(
        "Return URL refused",
        'returnUrl must be a path on this site starting with a single "/" (for example ' +
          '/me); other sites, "//" and backslashes are not allowed.',
      ),
    );
  }
  if (!(await req.server.signInAttempts.hasRoom(req))) return tooManyInProgress(req, reply);
  const attempt = await newSignInAttempt(`${req.publicOrigin}${config.callbackPath}`);
  let url: string;
  try {
    url = await (options.telemetry ?? TELEMETRY_OFF).step("signin.authorize", { kind: "internal" }, () =>
      client.authorizationUrl(attempt),
    );
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
  return sendPage(
    reply,
    503,
    messagePage(
      "Too many sign-ins in progress",
      "The app is holding as many unfinished sign-ins as it can. Wait a minute, then sign in again.",
    ),
  );
}

async function callback(
  req: FastifyRequest,
  fields: CallbackFields | undefined,
  reply: FastifyReply,
  options: AuthOptions,
): Promise<FastifyReply> {
  const { config, client } = options;
  const telemetry = options.telemetry ?? TELEMETRY_OFF;
  if (req.validationError) {
    req.log.info({ problem: req.validationError.message }, "malformed sign-in response");
    return sendPage(
      reply,
      400,
      messagePage(
        "Sign-in response malformed",
        "This sign-in response repeats or garbles a field (state, code or error), so it did not come from Entra as " +
          "sent. Sign in again from the home page.",
        { href: APP_ROUTES.signIn, label: "Sign in again" },
      ),
    );
  }
  const { state, code, error, error_description: description } = fields ?? {};
  if (!state) {
    return sendPage(
      reply,
      400,
      messagePage(
        "Sign-in response without state",
        "This request did not come from a sign-in this app started. Sign in again from the home page.",
      ),
    );
  }
  const taken = await req.server.signInAttempts.take(req, state);
  if (!taken.ok && error === "access_denied") {
    // The user declined (or an administrator blocked) a sign-in whose attempt is gone: say that, not "unknown".
    req.log.info({ error }, "Entra returned access_denied for an unknown or used sign-in");
    return sendPage(
      reply,
      403,
      messagePage(
        "Sign-in was not completed",
        "Entra answered that access was denied: you cancelled the sign-in or declined the permissions it asked " +
          "for, or your administrator does not allow this app. Sign in again to retry; if it keeps happening, ask " +
          "your administrator to check that you are assigned to the app and that it has consent.",
        { href: APP_ROUTES.signIn, label: "Sign in again" },
      ),
    );
  }
  if (!taken.ok && taken.reason === "unknown") {
    return sendPage(
      reply,
      400,
      messagePage(
        "Sign-in attempt unknown or already used",
        "This sign-in response is unknown, expired (15 minutes) or was already used. Sign in again.",
      ),
    );
  }
  if (!taken.ok) {
    return sendPage(
      reply,
      400,
      messagePage(
        "Sign-in started in another browser",
        "This sign-in response belongs to a sign-in started elsewhere (or cookies are blocked). Sign in again.",
      ),
    );
  }
  if (error) {
    const problem = withConsentLink(explainAadsts({ error, ...(description ? { description } : {}) }), config);
    req.log.warn({ error, aadsts: problem.code }, "Entra returned an error to the callback");
    signInFailed(telemetry, problem);
    return sendProblem(reply, problem);
  }
  if (!code) {
    return sendPage(
      reply,
      400,
      messagePage(
        "Sign-in response without code",
        "Entra's response carried neither a code nor an error. Sign in again.",
      ),
    );
  }

  let redeemed: RedeemedSignIn;
  try {
    redeemed = await telemetry.step(
      "signin.redeem",
      {
        kind: "client",
        peer: "entra",
        // The token endpoint the code is redeemed at (msal-node also checks the ID token against the keys).
        method: "POST",
        target: `${config.authority}/oauth2/v2.0/token`,
        failure: (error) => {
          const { code: aadsts, error: oauthError } = explainSignInFailure(error, config);
          return { "signin.aadsts": aadsts, "signin.error": oauthError };
        },
      },
      () => client.redeem(taken.attempt, { code, state }),
    );
  } catch (failure) {
    const problem = withConsentLink(explainSignInFailure(failure, config), config);
    req.log.warn({ err: safeError(failure), problem: problem.title, aadsts: problem.code }, "sign-in failed");
    signInFailed(telemetry, problem);
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
  telemetry.annotate({ "signin.outcome": "succeeded" });
  telemetry.signInCompleted({ ok: true });
  return reply.header("cache-control", "no-store").redirect(taken.returnUrl, 303);
}

/** Records a sign-in that Entra refused: on the callback's request span and in the sign-in metric. */
function signInFailed(telemetry: Telemetry, problem: SignInProblem): void {
  telemetry.annotate({ "signin.outcome": "failed", "signin.aadsts": problem.code, "signin.error": problem.error });
  telemetry.signInCompleted({ ok: false, aadsts: problem.code, error: problem.error });
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

async function signOut(
  req: FastifyRequest<{ Body: SignOutBody }>,
  reply: FastifyReply,
  { client }: AuthOptions,
): Promise<FastifyReply> {
  const { session } = req;
  if (!session) return reply.redirect("/", 303);
  const csrf = (!req.validationError && req.body?.csrf) || "";
  if (!safeEqual(csrf, session.csrfToken)) {
    return sendPage(
      reply,
      403,
      messagePage(
        "Sign-out refused",
        "The sign-out form was not submitted from this app (CSRF check failed). Use the Sign out button.",
      ),
    );
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
 * signs out elsewhere, with `iss` and `sid`. Only the sessions whose ID token had exactly that issuer and session id
 * end
 * (the ID token's issuer was checked against the configured authority at sign-in). Without both, or with no match,
 * nothing ends: the URL is a plain cross-site GET anyone can make a browser send. The answer is the same harmless 200
 * page either way, so it neither breaks the IdP's iframe nor tells a prober whether a sid matched.
 */
async function frontChannelLogout(
  req: FastifyRequest<{ Querystring: FrontChannelQuery }>,
  reply: FastifyReply,
  { config }: AuthOptions,
): Promise<FastifyReply> {
  // The one page the IdP may frame: replace helmet's frame-ancestors 'none' and X-Frame-Options for it.
  const instanceOrigin = new URL(config.instance).origin;
  reply.header(
    "content-security-policy",
    `default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors ${instanceOrigin}`,
  );
  reply.removeHeader("x-frame-options");
  // A malformed query (a field given twice) ends nothing and gets the same page, like a query without the fields.
  const { sid, iss } = req.validationError ? {} : req.query;
  if (iss && sid) {
    const ended = await req.server.sessions.endBySid(req, reply, iss, sid);
    req.log.info({ ended }, "front-channel logout");
  } else {
    req.log.info("front-channel logout without iss and sid: ignored");
  }
  return sendPage(reply, 200, frontChannelSignedOutPage());
}
