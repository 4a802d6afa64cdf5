/** The administrator page: the example of a route guarded by an app role (one line: `preHandler: requireRole(...)`). */
import type { FastifyInstance } from "fastify";
import { APP_ROUTES } from "../../contract/routes";
import { requireRole } from "../auth/require-role";
import { ADMIN_ROLE, accessOf } from "../auth/roles";
import { adminPage } from "../role-views";
import { sendPage } from "../views";

export async function adminRoutes(app: FastifyInstance): Promise<void> {
  app.get(APP_ROUTES.admin, { preHandler: requireRole(ADMIN_ROLE) }, async (req, reply) => {
    const claims = req.session!.claims;
    return sendPage(reply, 200, adminPage({ access: accessOf(claims), claims }));
  });
}
