import { createHash } from "node:crypto";

/** sha256, base64url: key names hold no secret (session ids and sign-in bindings are bearer secrets). */
export const hash = (value: string): string => createHash("sha256").update(value).digest("base64url");

/** `<ms>|<json>`: a timestamp the scripts can read without decoding JSON, then the record. */
export const stamped = (ms: number, value: unknown): string => `${ms}|${JSON.stringify(value)}`;

/** The record after its `|`-separated head fields (`fields` of them), and the first field as a number. */
export function unstamp<T>(raw: string, fields = 1): { ms: number; value: T } {
  let end = -1;
  for (let i = 0; i < fields; i++) end = raw.indexOf("|", end + 1);
  return { ms: Number(raw.slice(0, raw.indexOf("|"))), value: JSON.parse(raw.slice(end + 1)) as T };
}
