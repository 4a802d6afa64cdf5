/** The route guard on app roles: one line on any route, `{ preHandler: requireRole("Admin") }`. */
import type { preHandlerAsyncHookHandler } from "fastify";
import { forbiddenPage } from "../role-views";
import { sendPage } from "../views";
import { accessOf, hasRole } from "./roles";

/**
 * The route guard: `{ preHandler: requireRole("Admin") }` on any route. Signed out, the browser is sent to sign in and
 * brought back; signed in without the role, the answer is 403 naming the missing role.
 */
export function requireRole(role: string): preHandlerAsyncHookHandler {
  return async function roleGuard(req, reply) {
    const { session } = req;
    if (!session) {
      // Back to the route's own path (its pattern, not the request's text, which the client chose); a route with
      // parameters returns home. /signin sanitises it again.
      const route = req.routeOptions.url ?? "/";
      const returnUrl = encodeURIComponent(route.includes(":") || route.includes("*") ? "/" : route);
      return reply.header("cache-control", "no-store").redirect(`/signin?returnUrl=${returnUrl}`, 302);
    }
    const access = accessOf(session.claims);
    if (hasRole(access, role)) return;
    req.log.info({ oid: session.claims.oid, missingRole: role }, "forbidden: role missing");
    return sendPage(reply, 403, forbiddenPage({ missingRole: role, access, claims: session.claims }));
  };
}
