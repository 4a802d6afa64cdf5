/**
 * One error handler and one not-found handler: log everything, show a short page (or JSON to JSON clients), never a
 * stack trace. An unreachable session store is a 503 "sign-in is temporarily unavailable", not a 500, and a sign-in
 * refused at the session bound a 503 "too many people are signed in". Registered first, with fastify-plugin, so every
 * route plugin after it inherits both.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { APP_ROUTES } from "../../contract/routes";
import { safeError } from "../logging";
import { SessionsFullError, StoreUnavailableError } from "../stores/types";
import { messagePage, sendPage } from "../views";

const JSON_ROUTES: readonly string[] = [APP_ROUTES.me, APP_ROUTES.graphProfile, APP_ROUTES.ready, APP_ROUTES.health];

function wantsJson(req: FastifyRequest): boolean {
  const path = req.url.split("?")[0] ?? "";
  return JSON_ROUTES.includes(path) || (req.headers.accept ?? "").startsWith("application/json");
}

function notFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (wantsJson(req)) return reply.code(404).send({ error: "not_found" });
  return sendPage(reply, 404, messagePage("Page not found", `There is nothing at ${req.url.split("?")[0]}.`));
}

async function errorsPlugin(app: FastifyInstance): Promise<void> {
  app.setNotFoundHandler(notFound);
  app.setErrorHandler((error: { statusCode?: number; message?: string }, req, reply) => {
    if (error instanceof StoreUnavailableError) {
      // The shared session store is down: the process keeps serving and the store reconnects by itself.
      req.log.warn({ err: safeError(error) }, "session store unavailable");
      reply.header("retry-after", "10");
      const message =
        "Sign-in is temporarily unavailable: the app cannot reach its session store. Try again in a minute.";
      if (wantsJson(req)) return reply.code(503).send({ error: "store_unavailable", message });
      return sendPage(reply, 503, messagePage("Sign-in is temporarily unavailable", message));
    }
    if (error instanceof SessionsFullError) {
      // The store holds its bound of sessions: refuse this sign-in rather than sign another user out.
      req.log.warn("sign-in refused: the bound of live sessions is reached");
      reply.header("retry-after", "300");
      const message = "The app already has as many people signed in as it can hold. Try again later.";
      if (wantsJson(req)) return reply.code(503).send({ error: "sessions_full", message });
      return sendPage(reply, 503, messagePage("Too many people are signed in", message));
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status >= 500) req.log.error({ err: safeError(error) }, "request failed");
    else req.log.info({ err: safeError(error) }, "bad request");
    const message =
      status >= 500
        ? "Something went wrong on our side. Try again; the server log has the details."
        : "The request could not be processed.";
    const code = status >= 500 ? "internal_error" : "bad_request";
    if (wantsJson(req)) return reply.code(status).send({ error: code, message });
    return sendPage(reply, status, messagePage(status >= 500 ? "Something went wrong" : "Bad request", message));
  });
}

export const errorPages = fp(errorsPlugin, { name: "error-pages" });
