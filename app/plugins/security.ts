/**
 * Security headers (@fastify/helmet) and the host allow-list, for every route. Registered before the routes, with
 * fastify-plugin, so its hooks apply to all of them.
 *
 * Every request gets `req.publicOrigin`: the configured public origin (app/app-config.ts) whose host the request named.
 * Routes build absolute URLs from it only; the scheme comes from configuration, never from X-Forwarded-Proto. A request
 * for a host that is not configured is refused with a 400 page naming the app's URL, except the health checks, which
 * App Service's probes send with an internal host, and the static files: neither builds a URL. Locally, another
 * loopback name for the app's own port (127.0.0.1 for localhost) is redirected to the configured origin.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import fastifyHelmet from "@fastify/helmet";
import fp from "fastify-plugin";
import { APP_ROUTES } from "../../contract/routes";
import { sendPage, unknownHostPage } from "../views";

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
/** Static files build no URL either: served for any host, so the "Unknown host" page has its stylesheet. */
const ASSET_PREFIX = "/public/";
const FAVICON = "/favicon.ico";

/** localhost, 127.0.0.0/8 or [::1]: names of this machine, which only a local run answers at. */
function isLoopbackHost(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Where to send a request that named another loopback name of a loopback origin (http://127.0.0.1:3000/x when the
 * app is configured as http://localhost:3000): the same path at the configured origin, or undefined. Only local runs
 * qualify; a deployed app's origins are never loopback, so this never redirects there.
 */
function loopbackAlias(req: FastifyRequest, primary: URL): string | undefined {
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  if (!isLoopbackHost(primary.hostname) || !req.url.startsWith("/")) return undefined;
  let requested: URL;
  try {
    requested = new URL(`${primary.protocol}//${req.host}`);
  } catch {
    return undefined;
  }
  if (!isLoopbackHost(requested.hostname) || requested.port !== primary.port) return undefined;
  // req.url starts with "/": appended to the configured origin, it stays a path on that origin.
  return `${primary.origin}${req.url}`;
}

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
    const path = req.url.split("?")[0] ?? "";
    if (HOST_EXEMPT_PATHS.includes(path) || path.startsWith(ASSET_PREFIX) || path === FAVICON) return;
    const alias = HOST_PATTERN.test(req.host) ? loopbackAlias(req, new URL(primary)) : undefined;
    if (alias) return reply.header("cache-control", "no-store").redirect(alias, 307);
    req.log.info(
      { host: req.host.slice(0, 100), allowed: [...byHost.values()] },
      "refused a request for a host that is not configured",
    );
    return sendPage(reply, 400, unknownHostPage(primary));
  });
}

export const security = fp(securityPlugin, { name: "security" });
