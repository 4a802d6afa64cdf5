/**
 * The sign-in and sign-out routes, in openid-client's vocabulary: /signin starts a sign-in attempt (state, nonce,
 * PKCE, kept server-side), the callback redeems it, /signout ends the session at the app and at Entra, and the
 * front-channel logout URL ends it when the user signs out elsewhere.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyFormbody from "@fastify/formbody";
import type { JWTPayload } from "jose";
import { APP_ROUTES } from "../../contract/routes";
import { explainAadsts } from "../auth/aadsts";
import type { AssertionProvider } from "../auth/managed-identity";
import { explainSignInFailure, newSignInAttempt, type SignInClient } from "../auth/oidc";
import type { AppConfig } from "../config";
import { safeError } from "../logging";
import { sanitiseReturnUrl } from "../return-url";
import { randomId, safeEqual } from "../store";
import { rememberSignedOut } from "./pages";
import { frontChannelSignedOutPage, messagePage, sendPage, sendProblem, type TrustChain } from "../views";

interface AuthOptions {
  readonly config: AppConfig;
  readonly client: SignInClient;
  readonly assertion: AssertionProvider;
}

const origin = (req: FastifyRequest): string => `${req.protocol}://${req.host}`;

export async function authRoutes(app: FastifyInstance, options: AuthOptions): Promise<void> {
  await app.register(fastifyFormbody);
  app.get(APP_ROUTES.signIn, (req, reply) => signIn(req, reply, options));
  // The callback: POST for response_mode=form_post (what the app asks for), GET for response_mode=query.
  app.get(options.config.callbackPath, (req, reply) => callback(req, reply, options));
  app.post(options.config.callbackPath, (req, reply) => callback(req, reply, options));
  app.post(APP_ROUTES.signOut, (req, reply) => signOut(req, reply, options));
  app.get(APP_ROUTES.frontChannelLogout, (req, reply) => frontChannelLogout(req, reply, options));
}

async function signIn(req: FastifyRequest, reply: FastifyReply, { config, client }: AuthOptions): Promise<FastifyReply> {
  const query = req.query as { returnUrl?: unknown };
  const returnUrl = sanitiseReturnUrl(typeof query.returnUrl === "string" ? query.returnUrl : undefined);
  if (returnUrl === undefined) {
    return sendPage(
      reply,
      400,
      messagePage("Return URL refused", "returnUrl must be a path on this site starting with a single \"/\" (for example /me); other sites, \"//\" and backslashes are not allowed."),
    );
  }
  const attempt = await newSignInAttempt(`${origin(req)}${config.callbackPath}`);
  let url: string;
  try {
    url = await client.authorizationUrl(attempt);
  } catch (error) {
    req.log.warn({ err: safeError(error) }, "could not build the authorization URL");
    return sendProblem(reply, explainSignInFailure(error, config));
  }
  req.server.signInAttempts.keep(req, reply, attempt, returnUrl);
  return reply.header("cache-control", "no-store").redirect(url, 302);
}

async function callback(req: FastifyRequest, reply: FastifyReply, options: AuthOptions): Promise<FastifyReply> {
  const { config, client } = options;
  const params = ((req.method === "POST" ? req.body : req.query) ?? {}) as Record<string, unknown>;
  const field = (name: string): string | undefined => (typeof params[name] === "string" ? (params[name] as string) : undefined);
  const state = field("state");
  if (!state) {
    return sendPage(reply, 400, messagePage("Sign-in response without state", "This request did not come from a sign-in this app started. Sign in again from the home page."));
  }
  const taken = req.server.signInAttempts.take(req, state);
  if (!taken.ok && taken.reason === "unknown") {
    return sendPage(reply, 400, messagePage("Sign-in attempt unknown or already used", "This sign-in response is unknown, expired (15 minutes) or was already used. Sign in again."));
  }
  if (!taken.ok) {
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
    claims = await client.redeem(taken.attempt, { code, state });
  } catch (failure) {
    const problem = explainSignInFailure(failure, config);
    req.log.warn({ err: safeError(failure), problem: problem.title, aadsts: problem.code }, "sign-in failed");
    return sendProblem(reply, problem);
  }
  req.server.sessions.start(req, reply, {
    claims,
    csrfToken: randomId(),
    ...(typeof claims.sid === "string" ? { sid: claims.sid } : {}),
    ...(typeof claims.login_hint === "string" ? { loginHint: claims.login_hint } : {}),
    trust: await trustChain(req, options),
  });
  req.log.info({ oid: claims.oid }, "signed in");
  return reply.header("cache-control", "no-store").redirect(taken.returnUrl, 303);
}

/** The identifiers this sign-in was trusted through, for the home page. */
async function trustChain(req: FastifyRequest, { config, client, assertion }: AuthOptions): Promise<TrustChain> {
  const info = assertion.lastAssertionInfo();
  const metadata = await client.metadata();
  return {
    appOrigin: origin(req),
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
  req.server.sessions.end(req, reply);
  rememberSignedOut(req, reply);
  let target = "/";
  try {
    target = (await client.endSessionUrl(`${origin(req)}/`, session.loginHint)) ?? "/";
  } catch (error) {
    req.log.warn({ err: safeError(error) }, "no end-session endpoint; signed out locally only");
  }
  req.log.info({ oid: session.claims.oid }, "signed out");
  return reply.header("cache-control", "no-store").redirect(target, 303);
}

// Front-channel logout: Entra loads this in a hidden iframe when the user signs out elsewhere.
async function frontChannelLogout(req: FastifyRequest, reply: FastifyReply, { config }: AuthOptions): Promise<FastifyReply> {
  // The one page the IdP may frame: replace helmet's frame-ancestors 'none' and X-Frame-Options for it.
  const instanceOrigin = new URL(config.instance).origin;
  reply.header("content-security-policy", `default-src 'none'; style-src 'self'; img-src 'self'; frame-ancestors ${instanceOrigin}`);
  reply.removeHeader("x-frame-options");
  let cleared = req.server.sessions.end(req, reply);
  const { sid, iss } = req.query as { sid?: unknown; iss?: unknown };
  const fromOurAuthority = typeof iss !== "string" || iss.startsWith(config.instance);
  if (typeof sid === "string" && sid && fromOurAuthority) cleared += req.server.sessions.endBySid(sid);
  req.log.info({ cleared }, "front-channel logout");
  return sendPage(reply, 200, frontChannelSignedOutPage());
}
