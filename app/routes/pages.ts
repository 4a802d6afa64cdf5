/** The home page and /me: what the signed-in user (req.session) sees. */
import type { FastifyInstance } from "fastify";
import { APP_ROUTES } from "../../contract/routes";
import { sendPage, signedInPage, signedOutPage } from "../views";

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  app.get(APP_ROUTES.home, async (req, reply) => {
    const { session } = req;
    if (!session) return sendPage(reply, 200, signedOutPage());
    return sendPage(reply, 200, signedInPage({ claims: session.claims, csrfToken: session.csrfToken, trust: session.trust }));
  });

  app.get(APP_ROUTES.me, async (req, reply) => {
    reply.header("cache-control", "no-store");
    if (!req.session) return reply.code(401).send({ error: "not_signed_in", message: "Sign in at /signin first." });
    return req.session.claims;
  });
}
