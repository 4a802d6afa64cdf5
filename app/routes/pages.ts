/** The home page, /me and /me/graph: what the signed-in user (req.session) sees. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { APP_ROUTES } from "../../contract/routes";
import { type GraphClient, type GraphOutcome, graphProblemBody } from "../auth/graph";
import { takeSignedOut } from "../signed-out-notice";
import { accessOf } from "../auth/roles";
import { accessSection } from "../role-views";
import { sendPage, sendProblem, signedInPage, signedOutPage } from "../views";

interface PageOptions {
  readonly graph: GraphClient;
}

export async function pageRoutes(app: FastifyInstance, { graph }: PageOptions): Promise<void> {
  /** The session's Graph profile; a session whose tokens Entra refused for good is ended here. */
  const profile = async (req: FastifyRequest, reply: FastifyReply): Promise<GraphOutcome> => {
    const session = req.session!;
    const outcome = await graph.profile({
      sessionId: session.id,
      homeAccountId: session.homeAccountId,
      tokenCache: req.server.sessions.tokenCache(req, session),
      log: req.log,
    });
    if (!outcome.ok && outcome.problem.endSession) {
      await req.server.sessions.end(req, reply);
      req.log.info({ oid: session.claims.oid }, "session ended: Entra refused its tokens");
    }
    return outcome;
  };

  app.get(APP_ROUTES.home, async (req, reply) => {
    const { session } = req;
    if (!session) return sendPage(reply, 200, signedOutPage({ justSignedOut: takeSignedOut(req, reply) }));
    const outcome = await profile(req, reply);
    if (!outcome.ok && outcome.problem.endSession) {
      const { title, fix, code } = outcome.problem;
      return sendProblem(reply, { status: 401, kind: "user", title, fix, ...(code ? { code } : {}) });
    }
    const access = accessSection(accessOf(session.claims));
    return sendPage(
      reply,
      200,
      signedInPage({
        claims: session.claims,
        csrfToken: session.csrfToken,
        trust: session.trust,
        graph: outcome,
        access,
      }),
    );
  });

  app.get(APP_ROUTES.me, async (req, reply) => {
    reply.header("cache-control", "no-store");
    if (!req.session) return reply.code(401).send({ error: "not_signed_in", message: "Sign in at /signin first." });
    return req.session.claims;
  });

  app.get(APP_ROUTES.graphProfile, async (req, reply) => {
    reply.header("cache-control", "no-store");
    if (!req.session) return reply.code(401).send({ error: "not_signed_in", message: "Sign in at /signin first." });
    const outcome = await profile(req, reply);
    if (outcome.ok) return outcome.profile;
    return reply.code(outcome.problem.status).send(graphProblemBody(outcome.problem));
  });
}
