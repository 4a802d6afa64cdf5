/**
 * Security headers (@fastify/helmet) and the Host check, for every route. Registered before the routes, with
 * fastify-plugin, so its hooks apply to all of them.
 */
import type { FastifyInstance } from "fastify";
import fastifyHelmet from "@fastify/helmet";
import fp from "fastify-plugin";
import { messagePage, sendPage } from "../views";

interface SecurityOptions {
  /** The Entra instance's origin: the sign-out form's redirect continues there. */
  readonly instanceOrigin: string;
}

const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;

async function securityPlugin(app: FastifyInstance, options: SecurityOptions): Promise<void> {
  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        formAction: ["'self'", options.instanceOrigin],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true },
    referrerPolicy: { policy: "no-referrer" },
    xFrameOptions: { action: "deny" },
  });

  // A redirect URI or origin built from a malformed Host header would be garbage; refuse such requests early.
  app.addHook("onRequest", async (req, reply) => {
    if (!HOST_PATTERN.test(req.host)) {
      return sendPage(reply, 400, messagePage("Bad request", "The Host header is not valid."));
    }
  });
}

export const security = fp(securityPlugin, { name: "security" });
