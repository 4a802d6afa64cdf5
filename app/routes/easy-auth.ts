/**
 * The pages in Easy Auth mode (app/auth/easy-auth.ts says when that is): the same home page, /me and /me/graph as the
 * default mode, with the user from the platform's `X-MS-CLIENT-PRINCIPAL` and Microsoft Graph called with the token
 * store's access token. /signin and /signout hand over to Easy Auth's own `/.auth/login/aad` and `/.auth/logout`; the
 * app keeps no session. Registered only in Easy Auth mode, never beside the default mode's routes.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fastifyCookie from "@fastify/cookie";
import fastifyFormbody from "@fastify/formbody";
import { EASY_AUTH_PATHS } from "../../contract/easy-auth";
import { APP_ROUTES } from "../../contract/routes";
import { easyAuthUser, type EasyAuthUser } from "../auth/easy-auth";
import { callGraph, type GraphOutcome, graphProblemBody } from "../auth/graph";
import type { AssertionProvider } from "../auth/managed-identity";
import type { AppConfig } from "../app-config";
import { safeError } from "../logging";
import { randomId, safeEqual } from "../random-id";
import { messagePage, sendPage, signedInPage, signedOutPage, type TrustChain } from "../views";

interface EasyAuthRouteOptions {
  readonly config: AppConfig;
  /** The managed identity's token, as the platform presents it: read only to show the trust chain's identifiers. */
  readonly assertion: AssertionProvider;
  /** How long one Graph request may take. Defaults to 10 s. */
  readonly graphTimeoutMs?: number;
  /** The clock the token store's expiry is compared with. Defaults to Date.now. */
  readonly now?: () => number;
}

// The sign-out form's CSRF defence without a server-side session: a random value in a SameSite=Strict cookie and the
// same value in the form (double submit). Nothing is kept, so any instance can check it.
const CSRF_COOKIE = "easy_auth_csrf";

const loginUrl = (returnTo: string) =>
  `${EASY_AUTH_PATHS.login}?post_login_redirect_uri=${encodeURIComponent(returnTo)}`;
const LOGOUT_URL = `${EASY_AUTH_PATHS.logout}?post_logout_redirect_uri=${encodeURIComponent("/")}`;

export async function easyAuthRoutes(app: FastifyInstance, options: EasyAuthRouteOptions): Promise<void> {
  const { config, assertion } = options;
  const graphTimeoutMs = options.graphTimeoutMs ?? 10_000;
  const now = options.now ?? Date.now;
  await app.register(fastifyCookie);
  await app.register(fastifyFormbody);

  const userOf = (req: FastifyRequest): EasyAuthUser | undefined => easyAuthUser(req.headers);

  /** The user's Graph profile with the token store's access token, or why not. */
  const profile = async (req: FastifyRequest, user: EasyAuthUser): Promise<GraphOutcome> => {
    if (!user.accessToken) {
      return {
        ok: false,
        problem: {
          kind: "sign-in",
          status: 401,
          title: "App Service's token store passed no Microsoft Graph access token for this sign-in.",
          fix:
            "The token store must be on and the Microsoft provider must ask for response_type=code id_token and " +
            "Graph's User.Read scope (the stack's authMode easyAuth sets both); then sign in again.",
        },
      };
    }
    if (user.accessTokenExpiresOn && user.accessTokenExpiresOn.getTime() <= now()) {
      return {
        ok: false,
        problem: {
          kind: "sign-in",
          status: 401,
          title: "The token store's Microsoft Graph access token has expired.",
          fix:
            `Refresh it with ${EASY_AUTH_PATHS.refresh} (App Service redeems the refresh token ` +
            `with the managed identity's token) or sign in again.`,
        },
      };
    }
    return callGraph(config, user.accessToken, graphTimeoutMs, req.log);
  };

  /** The identifiers this sign-in was trusted through: the platform presented the same identity's token to Entra. */
  const trustChain = async (req: FastifyRequest, user: EasyAuthUser): Promise<TrustChain> => {
    await assertion
      .getAssertion()
      .catch((error: unknown) =>
        req.log.warn({ err: safeError(error) }, "managed identity unavailable for the trust chain"),
      );
    const info = assertion.lastAssertionInfo();
    return {
      appOrigin: req.publicOrigin,
      managedIdentityClientId: info?.clientId ?? config.managedIdentityClientId,
      managedIdentityPrincipalId: info?.principalId ?? "(unknown)",
      ficIssuer: info?.issuer ?? "(unknown)",
      ficSubject: info?.subject ?? "(unknown)",
      ficAudience: config.tokenExchangeUrl,
      idTokenIssuer: user.claims.iss ?? `${config.authority}/v2.0`,
      clientId: config.clientId,
    };
  };

  app.get(APP_ROUTES.home, async (req, reply) => {
    const user = userOf(req);
    if (!user) return sendPage(reply, 200, signedOutPage());
    const csrfToken = randomId();
    const secure = req.protocol === "https";
    reply.setCookie(CSRF_COOKIE, csrfToken, { path: APP_ROUTES.signOut, httpOnly: true, secure, sameSite: "strict" });
    const [graph, trust] = await Promise.all([profile(req, user), trustChain(req, user)]);
    return sendPage(reply, 200, signedInPage({ claims: user.claims, csrfToken, trust, graph }));
  });

  app.get(APP_ROUTES.signIn, async (_req, reply) =>
    reply.header("cache-control", "no-store").redirect(loginUrl("/"), 302),
  );

  // The form body as a JSON schema (as in routes/auth.ts); a malformed one (csrf given twice) fails the CSRF check.
  const signOutSchema = { body: { type: "object", properties: { csrf: { type: "string" } } } } as const;
  const signOutRoute = { schema: signOutSchema, attachValidation: true };
  app.post<{ Body: { csrf?: string } | undefined }>(APP_ROUTES.signOut, signOutRoute, async (req, reply) => {
    const csrf = (!req.validationError && req.body?.csrf) || "";
    const cookie = req.cookies[CSRF_COOKIE] ?? "";
    if (csrf === "" || !safeEqual(csrf, cookie)) {
      const why = "The sign-out form was not submitted from this app (CSRF check failed). Use the Sign out button.";
      return sendPage(reply, 403, messagePage("Sign-out refused", why));
    }
    reply.clearCookie(CSRF_COOKIE, { path: APP_ROUTES.signOut });
    req.log.info({ oid: userOf(req)?.claims.oid }, "signing out through Easy Auth");
    return reply.header("cache-control", "no-store").redirect(LOGOUT_URL, 303);
  });

  app.get(APP_ROUTES.me, async (req, reply) => {
    reply.header("cache-control", "no-store");
    const user = userOf(req);
    if (!user)
      return reply.code(401).send({ error: "not_signed_in", message: `Sign in at ${EASY_AUTH_PATHS.login} first.` });
    return user.claims;
  });

  app.get(APP_ROUTES.graphProfile, async (req, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const user = userOf(req);
    if (!user)
      return reply.code(401).send({ error: "not_signed_in", message: `Sign in at ${EASY_AUTH_PATHS.login} first.` });
    const outcome = await profile(req, user);
    if (outcome.ok) return outcome.profile;
    return reply.code(outcome.problem.status).send(graphProblemBody(outcome.problem));
  });
}
