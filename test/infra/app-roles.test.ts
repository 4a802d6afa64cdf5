import { describe, expect, it } from "vitest";
import { DEFAULT_APP_ROLES, stableRoleId, uuidV5 } from "../../components/app-roles";
import { type RawStackConfig, StackConfigError, parseStackConfig } from "../../components/stack-config";
import { SecretlessWebApp } from "../../components/secretless-web-app";
import { T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";

/** App roles, their assignments and group claims: from stack configuration to the azuread resources, under mocks. */

const ADA = "e4d3c2b1-a0f9-4e8d-b7c6-5a4b3c2d1e0f";
const READERS_GROUP = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
const valid: RawStackConfig = { location: "westeurope", webAppName: "contoso-signin" };

async function build(raw: Partial<RawStackConfig>) {
  const { deployApp: _, ...settings } = parseStackConfig({ ...valid, ...raw });
  const mocks = await attachMocks({});
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...settings, tenantId: TENANT_ID });
    await promiseOf(component.redirectUri);
    return component;
  });
  return { mocks, app };
}

function problemsOf(raw: Partial<RawStackConfig>): string[] {
  try {
    parseStackConfig({ ...valid, ...raw });
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return (e as StackConfigError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe("stable app role IDs", () => {
  it("computes RFC 9562 UUIDv5 (the RFC's own DNS example)", () => {
    const dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
    expect(uuidV5(dns, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2");
  });

  it("gives a role the same ID on every run and a different one in another app or for another value", () => {
    expect(stableRoleId("contoso-signin", "Admin")).toBe(stableRoleId("contoso-signin", "Admin"));
    expect(stableRoleId("contoso-signin", "Admin")).not.toBe(stableRoleId("fabrikam-signin", "Admin"));
    expect(stableRoleId("contoso-signin", "Admin")).not.toBe(stableRoleId("contoso-signin", "Reader"));
  });
});

describe("app roles under mocks", () => {
  it("declares the Admin and Reader roles by default, for users and groups, on the registration", async () => {
    const { mocks } = await build({});
    const app = mocks.one(T.app);
    const roles = mocks.ofType(T.appRole);
    expect(roles.map((r) => r.inputs.value)).toEqual(DEFAULT_APP_ROLES.map((r) => r.value));
    for (const role of roles) {
      expect(role.inputs.applicationId).toBe(app.id);
      expect(role.inputs.allowedMemberTypes).toEqual(["User"]);
      expect(role.inputs.roleId).toBe(stableRoleId("contoso-signin", role.inputs.value));
      expect(role.inputs.displayName).toBeTruthy();
      expect(role.inputs.description).toBeTruthy();
    }
    expect(mocks.ofType(T.roleAssignment)).toHaveLength(0);
  });

  it("registers the same role names and IDs on a second run, so nothing is replaced", async () => {
    const rolesOf = async (raw: Partial<RawStackConfig>) =>
      (await build(raw)).mocks.ofType(T.appRole).map((r) => [r.name, r.inputs.roleId]);
    const first = await rolesOf({});
    const second = await rolesOf({ appDisplayName: "Renamed" });
    expect(second).toEqual(first);
  });

  it("keeps an explicit role ID from configuration", async () => {
    const id = "11111111-2222-4333-8444-555555555555";
    const role = { value: "Auditor", displayName: "Auditor", description: "Reads logs.", id };
    const { mocks } = await build({ appRoles: JSON.stringify([role]) });
    expect(mocks.one(T.appRole).inputs).toMatchObject({ roleId: id, value: "Auditor", description: "Reads logs." });
  });

  it("assigns users and groups to roles on the app's service principal", async () => {
    const assigned = { [ADA]: ["Admin", "Reader"], [READERS_GROUP]: "Reader" };
    const { mocks } = await build({ appRoleAssignments: JSON.stringify(assigned) });
    const sp = mocks.one(T.sp);
    const assignments = mocks.ofType(T.roleAssignment).map((a) => a.inputs);
    expect(assignments).toHaveLength(3);
    for (const a of assignments) expect(a.resourceObjectId).toBe(sp.state.objectId);
    const pair = (principalObjectId: string, value: string) =>
      expect.objectContaining({ principalObjectId, appRoleId: stableRoleId("contoso-signin", value) });
    expect(assignments).toContainEqual(pair(ADA, "Admin"));
    expect(assignments).toContainEqual(pair(ADA, "Reader"));
    expect(assignments).toContainEqual(pair(READERS_GROUP, "Reader"));
  });

  it("passes assignment-required to the service principal, off by default", async () => {
    const required = async (raw: Partial<RawStackConfig>) =>
      (await build(raw)).mocks.one(T.sp).inputs.appRoleAssignmentRequired;
    expect(await required({})).toBe(false);
    expect(await required({ appRoleAssignmentRequired: "true" })).toBe(true);
  });

  it("asks for security-group claims only when configured", async () => {
    const claims = async (raw: Partial<RawStackConfig>) =>
      (await build(raw)).mocks.one(T.app).inputs.groupMembershipClaims;
    expect(await claims({})).toEqual(["None"]);
    expect(await claims({ securityGroupClaims: "true" })).toEqual(["SecurityGroup"]);
  });

  it("declares no role at all with an empty list", async () => {
    const { mocks } = await build({ appRoles: "[]" });
    expect(mocks.ofType(T.appRole)).toHaveLength(0);
  });
});

describe("app role configuration problems", () => {
  it("names an assignment to an undeclared role and lists the declared ones", () => {
    expect(problemsOf({ appRoleAssignments: JSON.stringify({ [ADA]: ["Owner"] }) })).toEqual([
      expect.stringMatching(/^appRoleAssignments: .*role "Owner", which appRoles does not declare; use one of "Admin"/),
    ]);
  });

  it("names a malformed object ID and says how to find a real one", () => {
    expect(problemsOf({ appRoleAssignments: JSON.stringify({ "ada@contoso.example": ["Admin"] }) })).toEqual([
      expect.stringMatching(/^appRoleAssignments: "ada@contoso.example" is not an object ID; .*az ad user show/),
    ]);
  });

  it("refuses duplicate role values, ignoring case, and duplicate IDs", () => {
    const id = "11111111-2222-4333-8444-555555555555";
    const problems = problemsOf({
      appRoles: JSON.stringify([
        { value: "Admin", id },
        { value: "admin", id },
      ]),
    });
    const repeated = /^appRoles: appRoles\[1\]\.value "admin" repeats appRoles\[0\]/;
    expect(problems).toContainEqual(expect.stringMatching(repeated));
    expect(problems).toContainEqual(expect.stringMatching(/^appRoles: appRoles\[1\]\.id .* repeats appRoles\[0\]/));
  });

  it("refuses a role value Entra refuses, a non-GUID id and a role without a value", () => {
    const roles = [{ value: "Power User" }, { value: "Ops", id: "ops" }, { displayName: "x" }];
    const problems = problemsOf({ appRoles: JSON.stringify(roles) });
    expect(problems).toEqual([
      expect.stringMatching(/appRoles\[0\]\.value "Power User" may hold only .*\(no spaces\)/),
      expect.stringMatching(/appRoles\[1\]\.id "ops" is not a GUID; remove it to derive a stable one/),
      expect.stringMatching(/appRoles\[2\]\.value is missing; set it \(pulumi config set --path 'appRoles\[2\]/),
    ]);
  });

  it("refuses assignments that are not a map and a principal listed twice", () => {
    const notMap = problemsOf({ appRoleAssignments: "[]" });
    expect(notMap).toEqual([expect.stringMatching(/^appRoleAssignments: "\[\]" is not a map of object IDs/)]);
    const twiceOver = { [ADA]: ["Admin"], [ADA.toUpperCase()]: ["Reader"] };
    const twice = problemsOf({ appRoleAssignments: JSON.stringify(twiceOver) });
    expect(twice).toEqual([expect.stringMatching(/is listed twice/)]);
  });
});
