/** Longest return URL accepted; longer ones are refused rather than cut. */
const MAX_LENGTH = 2048;
const BASE = "https://app.invalid";

/**
 * Checks a `returnUrl` for /signin and returns it as a same-origin relative URL, or undefined when it is not one.
 *
 * Only a path starting with a single "/" is accepted. Refused: absolute URLs ("https://evil"), scheme-relative
 * ("//evil"), backslashes ("/\evil", which browsers read as "//evil"), and any whitespace or control character
 * (the URL parser drops tabs and newlines, so "/\t/evil" would become "//evil").
 */
export function sanitiseReturnUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return "/";
  if (value.length > MAX_LENGTH) return undefined;
  if (!value.startsWith("/") || value.startsWith("//")) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\\\s\u0000-\u001f\u007f]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value, BASE);
  } catch {
    return undefined;
  }
  if (url.origin !== BASE) return undefined;
  const relative = `${url.pathname}${url.search}${url.hash}`;
  // Normalisation must not have produced a scheme-relative URL (e.g. from "/./" tricks).
  return relative.startsWith("//") ? undefined : relative;
}
