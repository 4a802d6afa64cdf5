/**
 * Who may do what: the app roles declared on the registration, who is assigned to them, and whether ID tokens carry
 * the user's security groups. Read from stack configuration (validated with the rest, before anything registers) and
 * built as `azuread.ApplicationAppRole` and `azuread.AppRoleAssignment` resources by {@link AppRoles}.
 *
 * Sources:
 * - @pulumi/azuread v6 `ApplicationAppRole` (applicationId, roleId, value, displayName, description,
 *   allowedMemberTypes; "Changing [roleId] forces a new resource to be created") and `AppRoleAssignment` (appRoleId,
 *   principalObjectId, resourceObjectId = the resource's service principal), node_modules/@pulumi/azuread/*.d.ts.
 * - Microsoft Graph "appRole resource type" (learn.microsoft.com/graph/api/resources/approle): `value` is what the
 *   `roles` claim of ID and access tokens carries; at most 120 characters of : ! # $ % & ' ( ) * + , - . / ; < = > ? @
 *   [ ] ^ _ ` { | } ~ 0-9 A-Z a-z, no spaces, not starting with "."; `allowedMemberTypes` ["User"] assigns to users
 *   and groups.
 * - Microsoft Graph "appRoleAssignment resource type" (learn.microsoft.com/graph/api/resources/approleassignment): a
 *   role assigned to a group is assigned to the group's direct members, and lands in their tokens' `roles` claim.
 * - `groupMembershipClaims` on `ApplicationRegistration` ("None", "SecurityGroup", …) puts the user's group object
 *   IDs in a `groups` claim; beyond 200 groups in a JWT Entra leaves `groups` out and sends the overage marker
 *   `_claim_names: { groups: "src1" }` + `_claim_sources` instead (Microsoft identity platform "Access tokens" / "ID
 *   token claims reference", groups overage claim; learn.microsoft.com/troubleshoot/entra/entra-id/app-integration/
 *   get-signed-in-users-groups-in-access-token: "Azure limits the number of groups ... to 200").
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import { isGuid } from "../contract/settings";
import type { Reader } from "./stack-config-keys";

/** One app role on the registration. */
export interface AppRoleDefinition {
  /** The role's ID: stable across runs (derived from the app name and value unless given), so it is never replaced. */
  readonly id: string;
  /** What the `roles` claim carries, e.g. `Admin`. */
  readonly value: string;
  readonly displayName: string;
  readonly description: string;
}

/** One user, group or service principal (object ID) and the role values it is assigned. */
export interface AppRoleAssignmentSpec {
  readonly principalObjectId: string;
  readonly roles: readonly string[];
}

/** The roles a stack declares when `appRoles` is unset: the sample app's administrator and reader. */
export const DEFAULT_APP_ROLES: readonly Omit<AppRoleDefinition, "id">[] = [
  { value: "Admin", displayName: "Administrator", description: "Administers the app: opens its /admin page." },
  { value: "Reader", displayName: "Reader", description: "Signs in and reads the app's pages." },
];

/** The UUIDv5 namespace of derived role IDs (fixed forever: changing it would replace every role). */
const ROLE_ID_NAMESPACE = "5d0c7a4e-2b1f-4c8e-9a63-1f0e7b2d4c59";

/** RFC 9562 UUIDv5 (SHA-1, name-based) of `name` in `namespace`: the same inputs give the same ID on every run. */
export function uuidV5(namespace: string, name: string): string {
  const hash = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** The stable ID of role `value` of app `appName`: renaming the display name or description keeps it. */
export function stableRoleId(appName: string, value: string): string {
  return uuidV5(ROLE_ID_NAMESPACE, `${appName.toLowerCase()}/${value}`);
}

/** Graph's rule for `appRole.value` (see the sources above); undefined when `value` is acceptable. */
export function roleValueProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > 120) return "must be 1-120 characters";
  if (value.startsWith(".")) return 'may not start with "."';
  if (!/^[A-Za-z0-9:!#$%&'()*+,\-./;<=>?@[\]^_`{|}~]+$/.test(value)) {
    return "may hold only letters, digits and : ! # $ % & ' ( ) * + , - . / ; < = > ? @ [ ] ^ _ ` { | } ~ (no spaces)";
  }
  return undefined;
}

/** The access configuration: roles, assignments, group claims. */
export interface AppAccessConfig {
  appRoles: AppRoleDefinition[];
  appRoleAssignments: AppRoleAssignmentSpec[];
  /** Put the user's security groups (object IDs) in ID tokens: `groupMembershipClaims: ["SecurityGroup"]`. */
  securityGroupClaims: boolean;
}

const ROLES_FIX =
  "a list of roles; set each with pulumi config set --path 'appRoles[0].value' Admin (and .displayName, " +
  ".description, optionally .id, a GUID)";
const ASSIGNMENTS_FIX =
  "a map of object IDs to role values; set each with " +
  "pulumi config set --path 'appRoleAssignments.<object id>[0]' Admin";

/** Reads `appRoles`, `appRoleAssignments` and `securityGroupClaims`, reporting every problem under its key. */
export function readAppAccess(r: Reader, appName: string | undefined): AppAccessConfig {
  const appRoles = readRoles(r, appName ?? "app");
  const appRoleAssignments = readAssignments(r, appRoles);
  const securityGroupClaims = r.bool("securityGroupClaims", false);
  return { appRoles, appRoleAssignments, securityGroupClaims };
}

function readRoles(r: Reader, appName: string): AppRoleDefinition[] {
  const raw = r.json("appRoles", `${ROLES_FIX}.`);
  if (raw === undefined) return DEFAULT_APP_ROLES.map((role) => ({ ...role, id: stableRoleId(appName, role.value) }));
  if (!Array.isArray(raw)) {
    r.report("appRoles", `"${r.value("appRoles")}" is not ${ROLES_FIX}.`);
    return [];
  }
  const roles: AppRoleDefinition[] = [];
  const seenValues = new Map<string, number>();
  const seenIds = new Map<string, number>();
  raw.forEach((item: unknown, i) => {
    const at = `appRoles[${i}]`;
    if (item === null || typeof item !== "object" || Array.isArray(item)) {
      r.report("appRoles", `${at} is not an object with value, displayName and description; ${ROLES_FIX}.`);
      return;
    }
    const { value, displayName, description, id } = item as Record<string, unknown>;
    if (typeof value !== "string") {
      r.report("appRoles", `${at}.value is missing; set it (pulumi config set --path '${at}.value' Admin).`);
      return;
    }
    const valueProblem = roleValueProblem(value);
    if (valueProblem) r.report("appRoles", `${at}.value "${value}" ${valueProblem}; Entra refuses it.`);
    // Graph compares values without regard to case (a token's roles claim would not tell them apart for most apps).
    const dup = seenValues.get(value.toLowerCase());
    if (dup !== undefined) {
      const fix = "each role needs its own value: rename or remove one.";
      r.report("appRoles", `${at}.value "${value}" repeats appRoles[${dup}].value; ${fix}`);
    }
    seenValues.set(value.toLowerCase(), i);
    if (id !== undefined && (typeof id !== "string" || !isGuid(id))) {
      const fix = "remove it to derive a stable one, or set a GUID (uuidgen).";
      r.report("appRoles", `${at}.id "${String(id)}" is not a GUID; ${fix}`);
      return;
    }
    const roleId = typeof id === "string" ? id.toLowerCase() : stableRoleId(appName, value);
    const dupId = seenIds.get(roleId);
    if (dupId !== undefined) {
      r.report("appRoles", `${at}.id ${roleId} repeats appRoles[${dupId}]'s; every role needs its own ID.`);
    }
    seenIds.set(roleId, i);
    const text = (v: unknown, fallback: string) => (typeof v === "string" && v.trim() !== "" ? v.trim() : fallback);
    const shown = text(displayName, value);
    roles.push({ id: roleId, value, displayName: shown, description: text(description, shown) });
  });
  return roles;
}

function readAssignments(r: Reader, roles: AppRoleDefinition[]): AppRoleAssignmentSpec[] {
  const raw = r.json("appRoleAssignments", `${ASSIGNMENTS_FIX}.`);
  if (raw === undefined) return [];
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    r.report("appRoleAssignments", `"${r.value("appRoleAssignments")}" is not ${ASSIGNMENTS_FIX}.`);
    return [];
  }
  const declared = roles.map((role) => role.value);
  const specs: AppRoleAssignmentSpec[] = [];
  const seen = new Set<string>();
  for (const [principal, value] of Object.entries(raw)) {
    if (!isGuid(principal)) {
      r.report(
        "appRoleAssignments",
        `"${principal}" is not an object ID; each key must be a user's or group's object ID GUID ` +
          "(az ad user show --id <upn> --query id -o tsv, az ad group show -g <name> --query id -o tsv).",
      );
      continue;
    }
    if (seen.has(principal.toLowerCase())) {
      const fix = "merge its roles into one entry.";
      r.report("appRoleAssignments", `${principal} is listed twice (IDs compare without case); ${fix}`);
      continue;
    }
    seen.add(principal.toLowerCase());
    const wanted = typeof value === "string" ? [value] : value;
    if (!Array.isArray(wanted) || wanted.length === 0 || wanted.some((v) => typeof v !== "string")) {
      const example = declared[0] ?? "Admin";
      r.report("appRoleAssignments", `${principal} must map to a list of role values, e.g. ["${example}"].`);
      continue;
    }
    const unknown = (wanted as string[]).filter((v) => !declared.includes(v));
    for (const v of unknown) {
      r.report(
        "appRoleAssignments",
        `${principal} is assigned role "${v}", which appRoles does not declare; use one of ` +
          `${declared.map((d) => `"${d}"`).join(", ") || "(none)"} ` +
          "(values compare with case) or declare it in appRoles.",
      );
    }
    const unique = [...new Set(wanted as string[])];
    if (unique.length !== wanted.length) {
      r.report("appRoleAssignments", `${principal} lists a role twice; list each role once.`);
    }
    if (unknown.length === 0) specs.push({ principalObjectId: principal.toLowerCase(), roles: unique });
  }
  return specs;
}

/** Arguments of {@link AppRoles}. */
export interface AppRolesArgs {
  /** `/applications/{objectId}` of the registration (EntraApplication.applicationId). */
  readonly applicationId: pulumi.Input<string>;
  /** Object ID of the registration's service principal: the resource every assignment is on. */
  readonly servicePrincipalObjectId: pulumi.Input<string>;
  readonly roles: readonly AppRoleDefinition[];
  readonly assignments?: readonly AppRoleAssignmentSpec[];
}

/**
 * The app roles on the registration and their assignments on its service principal. Each role's Pulumi name and
 * `roleId` come from its stable ID, so re-running never replaces a role (nor, through it, an assignment).
 */
export class AppRoles extends pulumi.ComponentResource {
  /** Role value → role ID, as declared. */
  public readonly roleIds: Record<string, string>;

  constructor(name: string, args: AppRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:AppRoles", name, {}, opts);
    const created = new Map<string, azuread.ApplicationAppRole>();
    for (const role of args.roles) {
      created.set(
        role.value,
        new azuread.ApplicationAppRole(
          `${name}-${role.id}`,
          {
            applicationId: args.applicationId,
            roleId: role.id,
            value: role.value,
            displayName: role.displayName,
            description: role.description,
            // Users and groups only: this is a sign-in app's authorization, not an application permission.
            allowedMemberTypes: ["User"],
          },
          { parent: this },
        ),
      );
    }
    for (const { principalObjectId, roles } of args.assignments ?? []) {
      for (const value of roles) {
        const role = created.get(value);
        if (!role) throw new Error(`AppRoles: assignment of ${principalObjectId} names undeclared role "${value}".`);
        const roleId = args.roles.find((r) => r.value === value)!.id;
        // The role ID as a literal (known at preview, so the policy pack can check it is this app's own role), after
        // the role exists.
        new azuread.AppRoleAssignment(
          `${name}-${principalObjectId}-${roleId}`,
          { appRoleId: roleId, principalObjectId, resourceObjectId: args.servicePrincipalObjectId },
          { parent: this, dependsOn: [role] },
        );
      }
    }
    this.roleIds = Object.fromEntries(args.roles.map((role) => [role.value, role.id]));
    this.registerOutputs({});
  }
}
