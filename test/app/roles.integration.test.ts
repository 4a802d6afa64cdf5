/**
 * App roles over real HTTP: the app against the emulator's demo directory (Grace: Admin and Reader; Alan: Reader;
 * Margaret: Reader in 201 groups; Mallory: no assignment; Ada: the default user, no role). The ID token's `roles`
 * claim alone decides; nothing a client sends adds a role.
 */
import { describe, expect, it } from "vitest";
import { ALAN, GRACE, MALLORY, MARGARET, demoDirectory, type EmulatorUser } from "../../emulator";
import { problemCode, problemTitle, useStack, type Stack } from "../support/app-stack";
import { UserAgent, type Page } from "../../local/user-agent";

const stack = useStack({ emulator: { registration: demoDirectory() } });
const url = (path: string): string => `${stack.baseUrl}${path}`;

/** Signs a fresh browser in as `user`, choosing them on the emulator's account picker. */
async function signInAs(s: Stack, user: EmulatorUser): Promise<{ ua: UserAgent; page: Page }> {
  s.emu.revokeRefreshTokens(); // ends the emulator's one IdP session, so the picker shows
  const ua = new UserAgent();
  const picker = await ua.navigate(`${s.baseUrl}/signin`);
  expect(picker.body).toContain('id="pick-an-account"');
  const href = new RegExp(`data-upn="${user.preferredUsername}" href="([^"]+)"`).exec(picker.body)?.[1];
  expect(href, `${user.preferredUsername} on the picker`).toBeDefined();
  const page = await ua.navigate(new URL(href!.replace(/&amp;/g, "&"), picker.url).href);
  return { ua, page };
}

/** The roles a page lists (its #user-roles list). */
function rolesOn(page: Page): string[] {
  const list = /<ul id="user-roles">([\s\S]*?)<\/ul>/.exec(page.body)?.[1] ?? "";
  return [...list.matchAll(/<code>([^<]+)<\/code>/g)].map((m) => m[1]!);
}

describe("roles from the ID token", () => {
  it("shows an administrator their roles and groups and lets them into /admin", async () => {
    const { ua, page } = await signInAs(stack, GRACE);
    expect(page.body).toContain('<span id="user-name">Grace Hopper</span>');
    expect(rolesOn(page)).toEqual(["Admin", "Reader"]);
    for (const group of GRACE.groups!) expect(page.body).toContain(`<code>${group}</code>`);
    expect(page.body).toContain('id="admin-link"');
    const admin = await ua.request(url("/admin"));
    expect(admin.status).toBe(200);
    expect(admin.body).toContain('<strong id="admin-name">Grace Hopper</strong>');
    expect(admin.headers.get("cache-control")).toBe("no-store");
  });

  it("answers 403 to a reader at /admin, naming the missing role, their object ID and how to assign it", async () => {
    const { ua, page } = await signInAs(stack, ALAN);
    expect(rolesOn(page)).toEqual(["Reader"]);
    expect(page.body).not.toContain('id="admin-link"');
    const admin = await ua.request(url("/admin"));
    expect(admin.status).toBe(403);
    expect(problemTitle(admin)).toBe("You need the Admin role");
    expect(admin.body).toContain('<code id="missing-role">Admin</code>');
    expect(admin.body).toContain(`<code id="user-oid">${ALAN.oid}</code>`);
    expect(admin.body).toContain("Enterprise applications");
    expect(admin.body).toContain(`pulumi config set --path 'appRoleAssignments.${ALAN.oid}[0]' Admin`);
    expect(rolesOn(admin)).toEqual(["Reader"]);
  });

  it("shows the default user, who has no role, that they have none, and refuses them /admin", async () => {
    const { ua, page } = await signInAs(stack, { ...stack.emu.registration.user });
    expect(page.body).toContain('<p id="user-roles-none">You have no app role.</p>');
    expect(page.body).toContain('id="user-groups-off"');
    expect((await ua.request(url("/admin"))).status).toBe(403);
  });

  it("says the groups are unknown when the token carries the overage marker instead of the list", async () => {
    const { ua, page } = await signInAs(stack, MARGARET);
    expect(page.body).toContain('id="user-groups-overage"');
    expect(page.body).not.toContain('<ul id="user-groups">');
    const claims = JSON.parse((await ua.request(url("/me"))).body) as Record<string, unknown>;
    expect(claims.groups).toBeUndefined();
    expect(claims._claim_names).toEqual({ groups: "src1" });
    expect(claims.roles).toEqual(["Reader"]);
  });

  it("sends a signed-out visitor of /admin to sign in and back", async () => {
    const anonymous = await new UserAgent().request(url("/admin"));
    expect(anonymous.status).toBe(302);
    expect(anonymous.headers.get("location")).toBe("/signin?returnUrl=%2Fadmin");
  });
});

describe("tampering with roles", () => {
  it("ignores a role claimed in a cookie, a header or the query", async () => {
    const { ua } = await signInAs(stack, ALAN);
    const session = ua.cookie(stack.baseUrl, "session")!;
    const forgedPrincipal = Buffer.from(
      JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: "Admin" }], role_typ: "roles" }),
    ).toString("base64");
    const attempts: { path: string; headers: Record<string, string> }[] = [
      { path: "/admin", headers: { cookie: `session=${session}; roles=Admin; role=Admin` } },
      { path: "/admin?roles=Admin&role=Admin", headers: { cookie: `session=${session}` } },
      {
        path: "/admin",
        headers: {
          cookie: `session=${session}`,
          "x-ms-client-principal": forgedPrincipal,
          "x-ms-client-principal-name": "grace@contoso.example",
          "x-roles": "Admin",
          roles: "Admin",
        },
      },
    ];
    for (const { path, headers } of attempts) {
      const response = await fetch(url(path), { headers, redirect: "manual" });
      expect(response.status, JSON.stringify(headers)).toBe(403);
    }
  });

  it("does not let a forged session cookie in", async () => {
    const headers = { cookie: "session=Admin; roles=Admin" };
    const response = await fetch(url("/admin"), { headers, redirect: "manual" });
    expect(response.status).toBe(302);
  });
});

describe("assignment required", () => {
  it("refuses an unassigned user with AADSTS50105 and still lets an assigned one in", async () => {
    stack.emu.registration.appRoleAssignmentRequired = true;
    try {
      const refused = await signInAs(stack, MALLORY);
      expect(problemCode(refused.page)).toBe("AADSTS50105");
      expect(refused.ua.cookie(stack.baseUrl, "session")).toBeUndefined();
      const { page } = await signInAs(stack, ALAN);
      expect(rolesOn(page)).toEqual(["Reader"]);
    } finally {
      stack.emu.registration.appRoleAssignmentRequired = false;
    }
  });

  it("lets the unassigned user in while assignment is not required, with no role", async () => {
    const { ua, page } = await signInAs(stack, MALLORY);
    expect(page.body).toContain('<p id="user-roles-none">You have no app role.</p>');
    expect((await ua.request(url("/admin"))).status).toBe(403);
  });
});
