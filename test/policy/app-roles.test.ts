/**
 * The main stack's app roles and their assignments pass the pack; the same resources bent into an application
 * permission (a role applications may hold, an assignment on another service principal such as Microsoft Graph's, a
 * role the stack does not declare) are refused by role-assignment-allowed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { type RegisteredResource, T, guidFrom } from "../../offline/azure-mocks";
import { planMainStack } from "../support/policy";

const USER = guidFrom("roles:user");
const GROUP = guidFrom("roles:group");
let planned: RegisteredResource[] = [];

beforeAll(async () => {
  planned = await planMainStack({
    deployApp: "false",
    appRoleAssignments: JSON.stringify({ [USER]: ["Admin"], [GROUP]: ["Reader"] }),
  });
});

/** The plan with `change` applied to a deep copy of the first resource of `type`. */
function bent(type: string, change: (r: RegisteredResource) => void): RegisteredResource[] {
  const copy = structuredClone(planned);
  change(copy.find((r) => r.type === type)!);
  return copy;
}

const policiesOf = (resources: RegisteredResource[]) =>
  evaluateRecorded(resources).map((v) => `${v.policy}: ${v.message}`);

describe("app roles under the policy pack", () => {
  it("passes the stack's own user roles and their assignments", () => {
    expect(planned.filter((r) => r.type === T.appRole)).toHaveLength(2);
    expect(planned.filter((r) => r.type === T.roleAssignment)).toHaveLength(2);
    expect(evaluateRecorded(planned)).toEqual([]);
  });

  it("refuses a role applications may hold", () => {
    const resources = bent(T.appRole, (r) => {
      r.inputs.allowedMemberTypes = ["User", "Application"];
      r.state.allowedMemberTypes = ["User", "Application"];
    });
    const refused = /^role-assignment-allowed: .*allowedMemberTypes are \["User","Application"\]/;
    expect(policiesOf(resources)).toContainEqual(expect.stringMatching(refused));
  });

  it("refuses an assignment of the stack's role ID on another service principal (Microsoft Graph's)", () => {
    const graphSp = guidFrom("graph:sp-object");
    const resources = bent(T.roleAssignment, (r) => {
      r.inputs.resourceObjectId = graphSp;
      r.state.resourceObjectId = graphSp;
    });
    expect(policiesOf(resources)).toContainEqual(
      expect.stringMatching(/^role-assignment-allowed: .*is made on service principal .* not the service principal/),
    );
  });

  it("refuses an assignment of a role the stack does not declare", () => {
    const resources = bent(T.roleAssignment, (r) => {
      r.inputs.appRoleId = guidFrom("graph:role:User.Read.All");
      r.state.appRoleId = guidFrom("graph:role:User.Read.All");
    });
    const refused = /^role-assignment-allowed: .*nor assigned one of this stack's own app roles/;
    expect(policiesOf(resources)).toContainEqual(expect.stringMatching(refused));
  });
});
