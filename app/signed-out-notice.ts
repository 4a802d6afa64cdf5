/**
 * After /signout the browser comes back to / (from Entra's end-session page): a one-time flag cookie, holding no id or
 * state, lets the home page say "You are signed out" once. Lax, so it rides the top-level navigation back from Entra.
 * Set by the sign-out route (routes/auth.ts), read by the home page (routes/pages.ts).
 */
import type { FastifyReply, FastifyRequest } from "fastify";

const SIGNED_OUT_COOKIE = "signed_out";

const cookieOptions = (req: FastifyRequest) =>
  ({ path: "/", httpOnly: true, secure: req.protocol === "https", sameSite: "lax" }) as const;

/** Marks the browser as just signed out (called by /signout). */
export function rememberSignedOut(req: FastifyRequest, reply: FastifyReply): void {
  reply.setCookie(SIGNED_OUT_COOKIE, "1", { ...cookieOptions(req), maxAge: 300 });
}

/** Whether the browser has just signed out; clears the flag, so the notice shows once. */
export function takeSignedOut(req: FastifyRequest, reply: FastifyReply): boolean {
  if (req.cookies[SIGNED_OUT_COOKIE] === undefined) return false;
  reply.clearCookie(SIGNED_OUT_COOKIE, cookieOptions(req));
  return req.cookies[SIGNED_OUT_COOKIE] === "1";
}
