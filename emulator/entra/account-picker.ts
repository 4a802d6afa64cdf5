/**
 * Entra's account picker, for a directory with several users (`registration.otherUsers`): a sign-in without an IdP
 * session, or with `prompt=select_account` / `prompt=login`, lists the users; choosing one repeats the authorize
 * request with `emulator_user=<object id>` (read by the emulator only, never sent to the app). Without other users the
 * registration's one user is signed in silently, as before.
 */
import escapeHtml from "escape-html";
import { page } from "../http";
import type { EmulatorRegistration, EmulatorUser } from "../types";
import type { EntraState } from "./state";

/** The query parameter the picker's links add to the authorize request. */
export const PICKED_USER_PARAM = "emulator_user";

/** Every user of the directory, the registration's own first. */
export function directoryUsers(registration: EmulatorRegistration): EmulatorUser[] {
  return [registration.user, ...(registration.otherUsers ?? [])];
}

/** The user this authorize request signs in, or undefined when the picker must be shown. */
export function chosenUser(state: EntraState, q: URLSearchParams): EmulatorUser | undefined {
  const { registration } = state.ctx;
  if ((registration.otherUsers ?? []).length === 0) return registration.user;
  const picked = q.get(PICKED_USER_PARAM);
  if (picked) return directoryUsers(registration).find((u) => u.oid.toLowerCase() === picked.toLowerCase());
  const prompt = (q.get("prompt") ?? "").split(" ");
  if (state.session && !prompt.includes("select_account") && !prompt.includes("login")) return state.session.user;
  return undefined;
}

/** Whether Entra lets `user` in: always, unless the app requires assignment and the user has none. */
export function isAssigned(registration: EmulatorRegistration, user: EmulatorUser): boolean {
  return !registration.appRoleAssignmentRequired || (user.roles ?? []).length > 0 || user.assigned === true;
}

/** "Pick an account": one link per user, each repeating this authorize request (same path and query) for that user. */
export function accountPickerPage(registration: EmulatorRegistration, authorizeUrl: URL): string {
  const items = directoryUsers(registration)
    .map((user) => {
      const url = new URL(authorizeUrl);
      url.searchParams.delete("prompt");
      url.searchParams.set(PICKED_USER_PARAM, user.oid);
      const roles = (user.roles ?? []).join(", ") || "no role";
      const href = escapeHtml(`${url.pathname}${url.search}`);
      return `<li><a class="account" data-upn="${escapeHtml(user.preferredUsername)}" href="${href}">
<strong>${escapeHtml(user.name)}</strong> ${escapeHtml(user.preferredUsername)}
<small>(${escapeHtml(roles)})</small></a></li>`;
    })
    .join("\n");
  return page("Pick an account", `<h1 id="pick-an-account">Pick an account</h1>\n<ul id="accounts">\n${items}\n</ul>`);
}
