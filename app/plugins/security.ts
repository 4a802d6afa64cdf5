/**
 * Security headers (@fastify/helmet) and the host allow-list, for every route. Registered before the routes, with
 * fastify-plugin, so its hooks apply to all of them.
 *
 * Every request gets `req.publicOrigin`: the configured public origin (app/app-config.ts) whose host the request named.
 * Routes build absolute URLs from it only; the scheme comes from configuration, never from X-Forwarded-Proto. A request
 * for a host that is not configured is refused with a 400 page, except the health checks, which App Service's probes
 * send with an internal host and which build no URL.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifyHelmet from "@fastify/helmet";
import fp from "fastify-plugin";
import { APP_ROUTES } from "../../contract/routes";
import { messagePage, sendPage } from "../views";

interface SecurityOptions {
  /** The Entra instance's origin: the sign-out form's redirect continues there. */
  readonly instanceOrigin: string;
  /** The app's public origins, primary first (AppConfig.publicOrigins). */
  readonly publicOrigins: readonly string[];
}

declare module "fastify" {
  interface FastifyRequest {
    /** The configured origin this request was addressed to, e.g. https://app.azurewebsites.net. */
    publicOrigin: string;
  }
}

const HOST_PATTERN = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/;
const HOST_EXEMPT_PATHS: readonly string[] = [APP_ROUTES.health, APP_ROUTES.ready];

/** The configured origin whose host (with port) the request's host is, compared as URLs compare them; or undefined. */
function matchOrigin(req: FastifyRequest, origins: ReadonlyMap<string, string>, scheme: string): string | undefined {
  // req.host is the Host header, or X-Forwarded-Host when the peer is the trusted front end (app.ts): either way
  // attacker-chosen, so it only selects among configured origins and never becomes part of a URL itself.
  if (!HOST_PATTERN.test(req.host)) return undefined;
  try {
    return origins.get(new URL(`${scheme}//${req.host}`).host);
  } catch {
    return undefined;
  }
}

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

  const primary = options.publicOrigins[0];
  if (primary === undefined) throw new Error("security: no public origin configured");
  const scheme = new URL(primary).protocol;
  const byHost = new Map(options.publicOrigins.map((origin) => [new URL(origin).host, origin]));
  app.decorateRequest("publicOrigin", "");
  app.addHook("onRequest", async (req, reply) => {
    const origin = matchOrigin(req, byHost, scheme);
    if (origin) {
      req.publicOrigin = origin;
      return;
    }
    req.publicOrigin = primary;
    if (HOST_EXEMPT_PATHS.includes(req.url.split("?")[0] ?? "")) return;
    req.log.info({ host: req.host.slice(0, 100), allowed: [...byHost.values()] }, "refused a request for a host that is not configured");
    return sendPage(
      reply,
      400,
      messagePage("Unknown host", "This app does not answer at this host name. Open it at its own address (operators: custom domains go in the AllowedHosts setting)."),
    );
  });
}

export const security = fp(securityPlugin, { name: "security" });
