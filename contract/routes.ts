/**
 * The sample app's own routes. The app's route plugins register exactly these paths, and the callback-path rule
 * refuses them ({@link isReservedAppPath}), so the two cannot drift: test/app/routes.test.ts proves that every route
 * the app registers, but the configured callback, is reserved.
 */
export const APP_ROUTES = {
  /** The home page: sign-in button, or the signed-in user and trust chain. */
  home: "/",
  signIn: "/signin",
  signOut: "/signout",
  /** Front-channel logout ({@link DEFAULT_FRONT_CHANNEL_LOGOUT_PATH}). */
  frontChannelLogout: "/signout-oidc",
  /** The ID-token claims as JSON. */
  me: "/me",
  /** The signed-in user's Microsoft Graph profile (`GET /me` on Graph, as the user) as JSON. */
  graphProfile: "/me/graph",
  /** The administrator page, for users with the `Admin` app role (403 for the others). */
  admin: "/admin",
  /** Liveness ({@link HEALTH_CHECK_PATH}). */
  health: "/healthz",
  ready: "/readyz",
  /** Browsers ask for it on pages without HTML (such as /me). */
  favicon: "/favicon.ico",
} as const;

/** Static assets are served below this prefix, e.g. /public/app.css. */
const PUBLIC_PREFIX = "/public/";

/** The route pattern that serves them. */
export const ASSET_ROUTE = `${PUBLIC_PREFIX}:file`;

/** The liveness path App Service's health check probes. */
export const HEALTH_CHECK_PATH = APP_ROUTES.health;

/** ASP.NET's default front-channel (remote) sign-out path; Entra sends a GET here when the user signs out elsewhere. */
export const DEFAULT_FRONT_CHANNEL_LOGOUT_PATH = APP_ROUTES.frontChannelLogout;

/** The routes the sample app serves itself, as the router spells them; a callback path may not take one of them. */
export const RESERVED_APP_PATHS: readonly string[] = [...Object.values(APP_ROUTES), ASSET_ROUTE];

/**
 * The reserved route that would serve `path`, if any. Routes may hold `:param` segments and a final `*`, as the router
 * spells them; paths are compared ignoring case, like ASP.NET compares them (so `/ME` is the app's `/me`).
 */
export function reservedRouteFor(path: string, routes: readonly string[] = RESERVED_APP_PATHS): string | undefined {
  return routes.find((route) => routeMatches(route, path));
}

/** True when `path` is one the app serves itself ({@link reservedRouteFor}), so it cannot be the callback path. */
export function isReservedAppPath(path: string): boolean {
  return reservedRouteFor(path) !== undefined;
}

/** True when `route` (e.g. `/public/:file`) would serve `path`, ignoring letter case. */
function routeMatches(route: string, path: string): boolean {
  const want = route.toLowerCase().split("/");
  const have = path.toLowerCase().split("/");
  for (const [i, segment] of want.entries()) {
    if (segment === "*") return true;
    const actual = have[i];
    if (actual === undefined || (segment !== actual && !(segment.startsWith(":") && actual !== ""))) return false;
  }
  return want.length === have.length;
}
