import { describe, expect, it } from "vitest";
import { accessOf, hasRole } from "../../app/auth/roles";

describe("the user's access from ID-token claims", () => {
  it("reads the roles claim, without duplicates, and nothing else as a role", () => {
    const wids = ["62e90394-69f5-4237-9190-012177145e10"];
    const access = accessOf({ roles: ["Admin", "Reader", "Admin", 7], role: "Owner", wids });
    expect(access.roles).toEqual(["Admin", "Reader"]);
    expect(hasRole(access, "Admin")).toBe(true);
    expect(hasRole(access, "Owner")).toBe(false);
  });

  it("compares role values exactly, as Entra emits them", () => {
    expect(hasRole(accessOf({ roles: ["admin"] }), "Admin")).toBe(false);
  });

  it("has no role without a roles claim", () => {
    expect(accessOf({}).roles).toEqual([]);
  });

  it("lists the groups claim, and says when group claims are absent", () => {
    expect(accessOf({ groups: ["a", "b"] }).groups).toEqual({ kind: "listed", ids: ["a", "b"] });
    expect(accessOf({}).groups).toEqual({ kind: "not-requested" });
  });

  it("treats the overage marker as groups unknown, even next to a groups claim", () => {
    const endpoint = "https://graph.windows.net/t/users/u/getMemberObjects";
    const marker = { _claim_names: { groups: "src1" }, _claim_sources: { src1: { endpoint } } };
    expect(accessOf(marker).groups).toEqual({ kind: "overage" });
    expect(accessOf({ ...marker, groups: ["a"] }).groups).toEqual({ kind: "overage" });
    expect(accessOf({ hasgroups: true }).groups).toEqual({ kind: "overage" });
  });
});
