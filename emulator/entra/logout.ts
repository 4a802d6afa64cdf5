/**
 * The end-session endpoint: `GET|POST /{tid}/oauth2/v2.0/logout`. Ends the IdP's sign-in session, loads the app's
 * front-channel logout URL in an iframe (as Entra's signed-out page does) with the `iss` and `sid` of the ended session
 * (OpenID Connect Front-Channel Logout 1.0 §2-§3, frontchannel_logout_session_required), then continues to an allowed
 * `post_logout_redirect_uri`.
 */
import escapeHtml from "escape-html";
import { errorPage, tenantNotFound } from "../errors";
import { page, readForm, redirect, sendHtml } from "../http";
import type { EmulatorRegistration } from "../types";
import { tenantMatches, type EntraHandler } from "./state";

export const logout: EntraHandler = async (state, req, res) => {
  if (!tenantMatches(state, req.params[0])) return sendHtml(res, 400, errorPage(tenantNotFound(req.params[0])));
  const params = new URLSearchParams(req.url.searchParams);
  if (req.method === "POST") for (const [k, v] of await readForm(req.raw)) params.set(k, v);
  const ended = state.session;
  state.session = null;

  const { registration, issuer } = state.ctx;
  const destination = postLogoutDestination(registration, params);
  const frontChannel = registration.frontChannelLogoutUrl;
  if (destination && !frontChannel) return redirect(res, destination);
  const frontChannelRequest = frontChannel && frontChannelLogoutRequest(frontChannel, issuer, ended?.sid);
  sendHtml(res, 200, signedOutPage(frontChannelRequest, destination));
};

/** The front-channel logout URL with `iss` and, when a session ended, its `sid` added to its own query. */
function frontChannelLogoutRequest(frontChannelUrl: string, issuer: string, sid: string | undefined): string {
  const url = new URL(frontChannelUrl);
  url.searchParams.set("iss", issuer);
  if (sid !== undefined) url.searchParams.set("sid", sid);
  return url.toString();
}

/** Default post-logout allow-list: each redirect URI and its origin + "/". */
function defaultPostLogoutRedirectUris(redirectUris: string[]): string[] {
  return [...new Set(redirectUris.flatMap((uri) => [uri, `${new URL(uri).origin}/`]))];
}

/** The requested `post_logout_redirect_uri` with `state` added, if the registration allows it. */
function postLogoutDestination(registration: EmulatorRegistration, params: URLSearchParams): string | undefined {
  const requested = params.get("post_logout_redirect_uri");
  const allowed = registration.postLogoutRedirectUris ?? defaultPostLogoutRedirectUris(registration.redirectUris);
  if (!requested || !allowed.includes(requested)) return undefined;
  const url = new URL(requested);
  if (params.has("state")) url.searchParams.set("state", params.get("state")!);
  return url.toString();
}

/** Entra's signed-out page: the front-channel iframe (if any), then on to the destination (if any). */
function signedOutPage(frontChannelUrl: string | undefined, destination: string | undefined): string {
  const iframe = frontChannelUrl
    ? `<iframe id="front-channel-logout" src="${escapeHtml(frontChannelUrl)}" ` +
      `title="Front-channel logout" hidden></iframe>`
    : "";
  const onward = destination
    ? `<p><a id="continue" href="${escapeHtml(destination)}">Continue</a></p>
<script>
  const go = () => location.replace(${JSON.stringify(destination).replace(/</g, "\\u003c")});
  const frame = document.getElementById("front-channel-logout");
  if (frame) { frame.addEventListener("load", go); setTimeout(go, 3000); } else { go(); }
</script>`
    : "<p>It's a good idea to close all browser windows.</p>";
  return page("Sign out", `<h1 id="signed-out">You signed out of your account</h1>\n${iframe}\n${onward}`);
}
