import { describe, expect, it } from "vitest";
import { creationChain } from "../../bench/dag";

const urn = (type: string, name: string, parentType = "secretless:index:SecretlessWebApp") =>
  `urn:pulumi:dev::secretless-entra-webapp::pulumi:pulumi:Stack$${parentType}$${type}::${name}`;

/** A registration: custom unless said otherwise, with the URNs of what it depends on. */
function mocks(entries: [type: string, name: string, deps: string[], custom?: boolean][]) {
  return {
    resources: entries.map(([type, name, , custom]) => ({ type, name, custom: custom ?? true, inputs: {}, state: {} })),
    dependencies: new Map(entries.map(([type, name, deps]) => [`${type}::${name}`, deps])),
  };
}

describe("the creation chain of a fresh pulumi up", () => {
  it("follows dependencies to the longest chain, first creation first", () => {
    const chain = creationChain(
      mocks([
        ["azure-native:resources:ResourceGroup", "rg", []],
        [
          "azure-native:managedidentity:UserAssignedIdentity",
          "uami",
          [urn("azure-native:resources:ResourceGroup", "rg")],
        ],
        ["azure-native:web:AppServicePlan", "plan", [urn("azure-native:resources:ResourceGroup", "rg")]],
        [
          "azure-native:web:WebApp",
          "site",
          [
            urn("azure-native:web:AppServicePlan", "plan"),
            urn("azure-native:managedidentity:UserAssignedIdentity", "uami"),
          ],
        ],
        ["azuread:index/applicationRegistration:ApplicationRegistration", "app", []],
      ]),
    );
    // rg → (plan or uami) → site: three creations in a row; the app registration waits for nothing.
    expect(chain).toHaveLength(3);
    expect(chain[0]).toBe("azure-native:resources:ResourceGroup::rg");
    expect(chain[2]).toBe("azure-native:web:WebApp::site");
  });

  it("counts no component: a dependency on one is not a creation to wait for", () => {
    const chain = creationChain(
      mocks([
        ["secretless:index:ManagedIdentity", "identity", [], false],
        [
          "azure-native:web:WebApp",
          "site",
          [urn("secretless:index:ManagedIdentity", "identity", "pulumi:pulumi:Stack")],
        ],
      ]),
    );
    expect(chain).toEqual(["azure-native:web:WebApp::site"]);
  });

  it("refuses a cycle rather than report a depth", () => {
    expect(() =>
      creationChain(
        mocks([
          ["t:m:A", "a", [urn("t:m:B", "b")]],
          ["t:m:B", "b", [urn("t:m:A", "a")]],
        ]),
      ),
    ).toThrow(/dependency cycle/);
  });
});
