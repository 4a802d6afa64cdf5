/** The home page and /me: what the signed-in user (req.session) sees. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { APP_ROUTES } from "../../contract/routes";
import { sendPage, signedInPage, signedOutPage } from "../views";

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  app.get(APP_ROUTES.home, async (req, reply) => {
    const { session } = req;
    if (!session) return sendPage(reply, 200, signedOutPage({ justSignedOut: takeSignedOut(req, reply) }));
    return sendPage(reply, 200, signedInPage({ claims: session.claims, csrfToken: session.csrfToken, trust: session.trust }));
  });

  app.get(APP_ROUTES.me, async (req, reply) => {
    reply.header("cache-control", "no-store");
    if (!req.session) return reply.code(401).send({ error: "not_signed_in", message: "Sign in at /signin first." });
    return req.session.claims;
  });
}

// After /signout the browser comes back to / (from Entra's end-session page): a one-time flag cookie, holding no id or
// state, lets the home page say "You are signed out" once. Lax, so it rides the top-level navigation back from Entra.
const SIGNED_OUT_COOKIE = "signed_out";
const signedOutCookieOptions = (req: FastifyRequest) => ({ path: "/", httpOnly: true, secure: req.protocol === "https", sameSite: "lax" as const });

/** Marks the browser as just signed out (called by /signout). */
export function rememberSignedOut(req: FastifyRequest, reply: FastifyReply): void {
  reply.setCookie(SIGNED_OUT_COOKIE, "1", { ...signedOutCookieOptions(req), maxAge: 300 });
}

/** Whether the browser has just signed out; clears the flag, so the notice shows once. */
function takeSignedOut(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.cookies[SIGNED_OUT_COOKIE] === undefined) return false;
  reply.clearCookie(SIGNED_OUT_COOKIE, signedOutCookieOptions(req));
  return req.cookies[SIGNED_OUT_COOKIE] === "1";
}
