import { describe, expect, it } from "vitest";
import {
  AdoptConflictError,
  type AdoptedAzureAd,
  adoptSettings,
  presentsIdentityFirst,
  readRecord,
  recordLine,
  registrationProblems,
  siteProblems,
  unadoptSettings,
  withRedirectUri,
  withoutRedirectUri,
} from "../../contract/adopt";

/** The pure edits and checks behind adopting (contract/adopt.ts): names only, never a value in a message. */

const SECRET = "s3cr3t-never-in-a-message";
const want: AdoptedAzureAd = {
  instance: "https://login.microsoftonline.com/",
  tenantId: "00000000-0000-4000-8000-00000000feed",
  clientId: "ff41c3b3-23f1-483b-a008-e607bb895805",
  callbackPath: "/signin-oidc",
  managedIdentityClientId: "1ed71c04-20c2-4e91-ad48-d7aac0d88a23",
  tokenExchangeUrl: "api://AzureADTokenExchange",
};

const apply = (settings: Record<string, string>, change: { set: object; remove: readonly string[] }) => {
  const next = { ...settings };
  for (const name of change.remove) delete next[name];
  return { ...next, ...change.set };
};

describe("adoptSettings and unadoptSettings", () => {
  const owners = {
    AzureAd__ClientId: want.clientId,
    AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
    AzureAd__ClientCredentials__0__ClientSecret: SECRET,
    Other: "kept",
  };

  it("adds the absent identity settings and puts the managed identity before the secret", () => {
    const plan = adoptSettings(owners, want);
    expect(plan.added).toEqual(["AzureAd__Instance", "AzureAd__TenantId", "AzureAd__CallbackPath"]);
    const after = apply(owners, plan.change);
    expect(presentsIdentityFirst(after, want.managedIdentityClientId)).toBe(true);
    expect(after.AzureAd__ClientCredentials__1__ClientSecret).toBe(SECRET);
    expect(after.Other).toBe("kept");
  });

  it("undoes exactly what it did", () => {
    const plan = adoptSettings(owners, want);
    const after = apply(owners, plan.change);
    expect(apply(after, unadoptSettings(after, plan.added, want.managedIdentityClientId))).toEqual(owners);
  });

  it("refuses a different existing value by name, never showing either value", () => {
    const conflicting = { ...owners, AzureAd__TenantId: SECRET };
    expect(() => adoptSettings(conflicting, want)).toThrow(AdoptConflictError);
    try {
      adoptSettings(conflicting, want);
    } catch (e) {
      expect((e as Error).message).toMatch(/AzureAd__TenantId differs from the stack's/);
      expect((e as Error).message).not.toContain(SECRET);
    }
  });

  it("compares the instance without its trailing slash and setting names without case", () => {
    const plan = adoptSettings({ azuread__instance: "https://login.microsoftonline.com" }, want);
    expect(plan.added).not.toContain("AzureAd__Instance");
  });

  it("removes on undo only identity settings it could have added, whatever a record says", () => {
    const change = unadoptSettings(
      { Other: "kept", AzureAd__CallbackPath: "/x" },
      ["Other", "AzureAd__CallbackPath"],
      want.managedIdentityClientId,
    );
    expect(change.remove).toEqual(["AzureAd__CallbackPath"]);
  });
});

describe("the registration's redirect URIs", () => {
  it("adds the stack's URI after the others, or says it was already there", () => {
    expect(withRedirectUri(["https://a/x"], "https://b/signin-oidc")).toEqual(["https://a/x", "https://b/signin-oidc"]);
    expect(withRedirectUri(["https://b/signin-oidc"], "https://b/signin-oidc")).toBeUndefined();
  });

  it("removes only the stack's URI, keeping the others' order", () => {
    expect(withoutRedirectUri(["https://a/1", "https://b/s", "https://a/2"], "https://b/s")).toEqual([
      "https://a/1",
      "https://a/2",
    ]);
  });
});

describe("the record a create step leaves for its undo", () => {
  it("reads back what it wrote, behind the script's line prefix", () => {
    const record = recordLine({ addedSettings: ["AzureAd__TenantId"], addedIdentity: true });
    const stdout = `adopt-site: did things\nadopt-site: ${record}\n`;
    expect(readRecord(stdout)).toEqual({ addedSettings: ["AzureAd__TenantId"], addedIdentity: true });
  });

  it("ignores what is not a record or has the wrong shape", () => {
    expect(readRecord(undefined)).toBeUndefined();
    expect(readRecord("adopt-record: not json")).toBeUndefined();
    expect(readRecord('adopt-record: {"addedSettings":[1,"a b","Ok"],"addedRedirectUri":"yes"}')).toEqual({
      addedSettings: ["Ok"],
    });
  });
});

describe("what can be adopted", () => {
  const app = {
    clientId: want.clientId,
    objectId: want.tenantId,
    displayName: "Orders",
    signInAudience: "AzureADMyOrg",
  };
  const site = {
    id: "/x",
    name: "orders",
    kind: "app,linux,container",
    location: "West Europe",
    defaultHostName: "orders.azurewebsites.net",
    sku: "Free",
  };

  it("takes a registration whose audience is the stack's, in any case", () => {
    expect(registrationProblems(app, "azureadmyorg")).toEqual([]);
  });

  it("takes a Linux site of any tier, a container included, in the stack's region", () => {
    expect(siteProblems(site, "westeurope")).toEqual([]);
  });

  it("refuses a function app", () => {
    expect(siteProblems({ ...site, kind: "functionapp,linux" }, "westeurope")[0]?.message).toMatch(/a function app/);
  });
});
