import { randomBytes, timingSafeEqual } from "node:crypto";

/** A random 256-bit identifier, base64url: session ids, sign-in attempt bindings, state, nonce, CSRF tokens. */
export function randomId(): string {
  return randomBytes(32).toString("base64url");
}

/** Compares two such identifiers in constant time. */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
