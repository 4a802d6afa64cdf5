import { describe, expect, it } from "vitest";
import { type RawStackConfig, StackConfigError, parseStackConfig } from "../../components/stack-config";

/** The adopt keys of the stack configuration, checked with every other key before anything registers. */

const CLIENT_ID = "ff41c3b3-23f1-483b-a008-e607bb895805";
const adoptBoth: RawStackConfig = {
  location: "westeurope",
  existingAppClientId: CLIENT_ID,
  existingWebAppResourceGroup: "contoso-orders-rg",
  existingWebAppName: "contoso-orders",
};

function problemsOf(raw: RawStackConfig): Record<string, string> {
  try {
    parseStackConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(StackConfigError);
    return Object.fromEntries((e as StackConfigError).problems.map((p) => [p.key, p.message]));
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}

describe("adopting in the stack configuration", () => {
  it("adopts both by client ID and by group and name, with webAppName taken from the site", () => {
    const config = parseStackConfig(adoptBoth);
    expect(config.existingApp).toEqual({ clientId: CLIENT_ID });
    expect(config.existingWebApp).toEqual({ resourceGroupName: "contoso-orders-rg", name: "contoso-orders" });
    expect(config.webAppName).toBe("contoso-orders");
  });

  it("declares no app role on an adopted registration, not even the default ones", () => {
    const config = parseStackConfig({ location: "westeurope", webAppName: "orders", existingAppClientId: CLIENT_ID });
    expect(config.appRoles).toEqual([]);
    expect(config.appRoleAssignments).toEqual([]);
    expect(config.deployApp).toBe(true);
  });

  it("never deploys onto an adopted site", () => {
    expect(parseStackConfig(adoptBoth).deployApp).toBe(false);
  });

  it("leaves a stack that adopts nothing as it was", () => {
    const config = parseStackConfig({ location: "westeurope", webAppName: "orders" });
    expect(config.existingApp).toBeUndefined();
    expect(config.existingWebApp).toBeUndefined();
    expect(config.appRoles.map((r) => r.value)).toEqual(["Admin", "Reader"]);
  });

  it("refuses a client ID that is not a GUID, with the command that finds it", () => {
    expect(problemsOf({ ...adoptBoth, existingAppClientId: "contoso-orders" }).existingAppClientId).toMatch(
      /is not an application \(client\) ID.*az ad app list/,
    );
  });

  it("refuses a site named by one of its two keys, naming the other", () => {
    const { existingWebAppResourceGroup: _, ...nameOnly } = adoptBoth;
    expect(problemsOf(nameOnly).existingWebAppResourceGroup).toMatch(
      /is unset but existingWebAppName is set.*pulumi config set existingWebAppResourceGroup/,
    );
  });

  it("refuses a webAppName other than the adopted site's", () => {
    expect(problemsOf({ ...adoptBoth, webAppName: "other" }).webAppName).toMatch(
      /is "other" but existingWebAppName is "contoso-orders".*pulumi config rm webAppName/,
    );
  });

  it.each<[string, string]>([
    ["appRoles", JSON.stringify([{ value: "Admin", displayName: "Admin", description: "Admin" }])],
    ["grantAdminConsent", "true"],
    ["appOwnerObjectIds", JSON.stringify(["5b0c7e6d-1a2f-4e3d-8c9b-7a6f5e4d3c2b"])],
    ["securityGroupClaims", "true"],
    ["appDisplayName", "Orders"],
  ])("refuses %s on an adopted registration, with the fix", (key, value) => {
    expect(problemsOf({ ...adoptBoth, [key]: value })[key]).toMatch(
      new RegExp(`existingAppClientId adopts a registration the stack does not own.*pulumi config rm ${key}`),
    );
  });

  it.each<[string, string]>([
    ["planSku", "P1v3"],
    ["stagingSlot", "true"],
    ["scaleOut", "true"],
    ["nodeVersion", "24"],
  ])("refuses %s on an adopted site, with the fix", (key, value) => {
    expect(problemsOf({ ...adoptBoth, [key]: value })[key]).toMatch(
      new RegExp(`existingWebAppName adopts a web app the stack does not own.*pulumi config rm ${key}`),
    );
  });

  it("accepts the keys Pulumi.yaml fills in with their defaults", () => {
    expect(() =>
      parseStackConfig({ ...adoptBoth, planSku: "B1", stagingSlot: "false", grantAdminConsent: "false" }),
    ).not.toThrow();
  });

  it("refuses Easy Auth with either adoption, which would change the adopted object", () => {
    expect(problemsOf({ ...adoptBoth, authMode: "easyAuth" }).authMode).toMatch(/Use authMode app/);
  });
});
