/** The pages and fragments about roles: the signed-in page's "Your access" section, the 403 page, the admin page. */
import escapeHtml from "escape-html";
import { ADMIN_ROLE, type UserAccess } from "./auth/roles";
import { page } from "./views";

const list = (id: string, items: readonly string[], empty: string): string =>
  items.length === 0
    ? `<p id="${id}-none">${escapeHtml(empty)}</p>`
    : `<ul id="${id}">${items.map((i) => `<li><code>${escapeHtml(i)}</code></li>`).join("")}</ul>`;

/** The user's groups as the token states them, or why they are not known. */
function groupsText(access: UserAccess): string {
  switch (access.groups.kind) {
    case "not-requested":
      return `<p id="user-groups-off">Your token has no groups claim: the app does not ask for group claims (stack
setting <code>securityGroupClaims</code>), or you are in no security group.</p>`;
    case "overage":
      return `<p class="fix" id="user-groups-overage" role="status">Your groups are unknown: you belong to more
groups than fit in a token (over 200), so Microsoft Entra sent a pointer to Microsoft Graph instead of the list.
This app does not
look them up (that needs the <code>GroupMember.Read.All</code> permission) and grants nothing by group: use app roles,
which groups can be assigned to.</p>`;
    case "listed":
      return list("user-groups", access.groups.ids, "You are in no security group.");
  }
}

/** "Your access" on the signed-in page: the roles from the ID token, and the groups. */
export function accessSection(access: UserAccess): string {
  return `<section id="access">
<h2>Your access</h2>
<p>Your app roles, from the <code>roles</code> claim of the ID token you signed in with:</p>
${list("user-roles", access.roles, "You have no app role.")}
<p>Your security groups, from its <code>groups</code> claim:</p>
${groupsText(access)}
${access.roles.includes(ADMIN_ROLE) ? '<p><a class="button" id="admin-link" href="/admin">Administration</a></p>' : ""}
</section>`;
}

/** How an administrator assigns `role` to this user: in the portal, or in the stack configuration. */
function howToAssign(role: string, oid: string): string {
  const id = oid || "<object id>";
  return `<ol id="how-to-assign">
<li>In the Microsoft Entra admin center: <strong>Enterprise applications</strong> → this app →
<strong>Users and groups</strong> → <strong>Add user/group</strong> → pick the user (or a group they are a direct
member of) and the role <code>${escapeHtml(role)}</code>.</li>
<li>Or in this app's Pulumi stack:
<code>pulumi config set --path 'appRoleAssignments.${escapeHtml(id)}[0]' ${escapeHtml(role)}</code>, then
<code>pulumi up</code>.</li>
<li>Then sign out and sign in again: roles arrive in the ID token at sign-in.</li>
</ol>`;
}

/** The 403 page: which role is missing, what the user has, and how an administrator assigns it. */
export function forbiddenPage(view: {
  missingRole: string;
  access: UserAccess;
  claims: Readonly<Record<string, unknown>>;
}): string {
  const oid = typeof view.claims.oid === "string" ? view.claims.oid : "";
  const name = typeof view.claims.preferred_username === "string" ? view.claims.preferred_username : "you";
  return page(
    "Access denied",
    `<h1 id="problem-title">You need the ${escapeHtml(view.missingRole)} role</h1>
<p id="problem-fix">This page is for users with the app role
<code id="missing-role">${escapeHtml(view.missingRole)}</code>. You are signed in as
<strong>${escapeHtml(name)}</strong> (object ID <code id="user-oid">${escapeHtml(oid)}</code>) and your roles are:</p>
${list("user-roles", view.access.roles, "none.")}
<h2>How an administrator gives you the role</h2>
${howToAssign(view.missingRole, oid)}
<p class="actions"><a class="button" href="/">Home</a></p>`,
  );
}

/** The administrator page: proof the guard let an administrator through, and what it checked. */
export function adminPage(view: { access: UserAccess; claims: Readonly<Record<string, unknown>> }): string {
  const name = typeof view.claims.name === "string" ? view.claims.name : "administrator";
  return page(
    "Administration",
    `<h1 id="admin-title">Administration</h1>
<p>Welcome, <strong id="admin-name">${escapeHtml(name)}</strong>. You see this page because the ID token you signed in
with carries the app role <code>${ADMIN_ROLE}</code>; everyone else gets 403.</p>
${list("user-roles", view.access.roles, "none.")}
<p>To give this page to someone else, assign them the role:</p>
${howToAssign(ADMIN_ROLE, "<their object id>")}
<p class="actions"><a class="button" href="/">Home</a></p>`,
  );
}
