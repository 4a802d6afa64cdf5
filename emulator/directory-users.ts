/**
 * A small demo directory for the account picker (`registration.otherUsers`): users with different app roles and
 * groups, to see the app's role checks with `npm run dev` and in tests. Ada, the registration's default user, keeps
 * no role, so tests that sign her in see the same token as before.
 */
import type { EmulatorUser, RegistrationOverrides } from "./types";

/** An administrator (roles Admin and Reader) in two security groups. */
export const GRACE: EmulatorUser = {
  oid: "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
  name: "Grace Hopper",
  preferredUsername: "grace@contoso.example",
  jobTitle: "Rear Admiral",
  roles: ["Admin", "Reader"],
  groups: ["7a1e4c2b-3d5f-4a6b-9c8d-0e1f2a3b4c5d", "8b2f5d3c-4e6a-4b7c-8d9e-1f2a3b4c5d6e"],
};

/** A reader (role Reader only) in one security group. */
export const ALAN: EmulatorUser = {
  oid: "2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a",
  name: "Alan Turing",
  preferredUsername: "alan@contoso.example",
  jobTitle: "Cryptanalyst",
  roles: ["Reader"],
  groups: ["8b2f5d3c-4e6a-4b7c-8d9e-1f2a3b4c5d6e"],
};

/** A reader in 201 groups: one more than a JWT carries, so tokens hold the overage marker instead of `groups`. */
export const MARGARET: EmulatorUser = {
  oid: "3e4f5a6b-7c8d-4e9f-8a1b-2c3d4e5f6a7b",
  name: "Margaret Hamilton",
  preferredUsername: "margaret@contoso.example",
  jobTitle: "Director of Software Engineering",
  roles: ["Reader"],
  groups: Array.from({ length: 201 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`),
};

/** Assigned to nothing: refused with AADSTS50105 when the app requires assignment. */
export const MALLORY: EmulatorUser = {
  oid: "4f5a6b7c-8d9e-4f0a-9b1c-3d4e5f6a7b8c",
  name: "Mallory Unassigned",
  preferredUsername: "mallory@contoso.example",
  jobTitle: null,
};

/** Registration overrides that add the demo users (and security-group claims) to the emulator's directory. */
export function demoDirectory(overrides: RegistrationOverrides = {}): RegistrationOverrides {
  return { otherUsers: [GRACE, ALAN, MARGARET, MALLORY], securityGroupClaims: true, ...overrides };
}
