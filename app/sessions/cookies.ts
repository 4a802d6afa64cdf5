/**
 * The cookie policy: the session and sign-in cookies' names and attributes, and reading the ids they carry.
 *
 * The session cookie is Lax (it need not follow cross-site requests); the sign-in attempt cookie must survive Entra's
 * cross-site form_post to the callback, so it is SameSite=None, which browsers accept only with Secure (Chromium and
 * Firefox treat http://localhost as secure, so local runs work too). Over https both take the __Host- prefix. The
 * scheme is the configured public origin's (security.ts), never a request header's.
 */
import type { CookieSerializeOptions } from "@fastify/cookie";
import type { FastifyRequest } from "fastify";
import { SIGN_IN_ATTEMPT_TTL_MS } from "./limits";

/** A random id as randomId() makes them: 256 bits, base64url. Anything else in a cookie is ignored. */
const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const isHttps = (req: FastifyRequest): boolean => req.publicOrigin.startsWith("https:");
export const sessionCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-session" : "session");
export const signInCookie = (req: FastifyRequest): string => (isHttps(req) ? "__Host-signin" : "signin");

export const sessionCookieOptions = (req: FastifyRequest): CookieSerializeOptions => ({
  path: "/",
  httpOnly: true,
  secure: isHttps(req),
  sameSite: "lax",
});
export const signInCookieOptions = (): CookieSerializeOptions => ({
  path: "/",
  httpOnly: true,
  secure: true,
  sameSite: "none",
  maxAge: SIGN_IN_ATTEMPT_TTL_MS / 1000,
});

/** The id in cookie `name` when it has the shape of one, else undefined. */
export const cookieId = (req: FastifyRequest, name: string): string | undefined => {
  const value = req.cookies[name];
  return value && ID_PATTERN.test(value) ? value : undefined;
};
