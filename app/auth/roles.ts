/**
 * Who may do what, from the signed-in user's ID token: its `roles` claim (the values of the app roles the user is
 * assigned, directly or through a group) and its `groups` claim or group overage marker.
 *
 * Trust: only `req.session.claims` is read, and a session only ever holds the claims of an ID token that passed
 * validateIdToken (app/auth/id-token.ts: signature, issuer, audience, tenant, nonce, lifetime) at sign-in; the
 * session record stays server-side and the cookie carries only its random id. No cookie, header or query parameter
 * is ever read here, so none can add a role. A role assigned (or removed) after sign-in takes effect at the next one.
 *
 * The route guard built on it is requireRole (app/auth/require-role.ts).
 *
 * Sources: Microsoft Graph "appRoleAssignment resource type" (a role's `value` is "included in the roles claim of
 * tokens where the subject is the assigned principal", group assignments reach the group's direct members); groups
 * overage: "For JSON web tokens (JWT), Azure limits the number of groups that can be present in the token to 200 ...
 * you'll get a group overage claim instead" (learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/
 * get-signed-in-users-groups-in-access-token), shaped `_claim_names: { groups: "src1" }` with `_claim_sources`.
 */

/** The sample app's administrator role (the stack's default `Admin` app role). */
export const ADMIN_ROLE = "Admin";

/** What the token says about the user's groups. */
export type GroupMembership =
  /** No `groups` claim: the registration does not ask for group claims (securityGroupClaims off). */
  | { readonly kind: "not-requested" }
  /** The group object IDs, at most 200. */
  | { readonly kind: "listed"; readonly ids: readonly string[] }
  /** Over 200 groups: Entra sent the overage marker instead of the list, so the app does not know them. */
  | { readonly kind: "overage" };

export interface UserAccess {
  /** The `roles` claim's values; empty when the user has no role (or only the default access). */
  readonly roles: readonly string[];
  readonly groups: GroupMembership;
}

/** The strings of a claim that is a list (or a single string); nothing else counts. */
function strings(value: unknown): string[] {
  if (typeof value === "string") return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === "string") : [];
}

/** The user's roles and groups, read from validated ID-token claims. */
export function accessOf(claims: Readonly<Record<string, unknown>>): UserAccess {
  const roles = [...new Set(strings(claims.roles))];
  const claimNames = claims._claim_names;
  const overage =
    claimNames !== null && typeof claimNames === "object" && Object.hasOwn(claimNames, "groups")
      ? true
      : claims.hasgroups === true || claims.hasgroups === "true";
  if (overage) return { roles, groups: { kind: "overage" } };
  if (claims.groups === undefined) return { roles, groups: { kind: "not-requested" } };
  return { roles, groups: { kind: "listed", ids: strings(claims.groups) } };
}

/** Whether the access holds `role`; role values compare exactly, as Entra emits them. */
export function hasRole(access: UserAccess, role: string): boolean {
  return access.roles.includes(role);
}
