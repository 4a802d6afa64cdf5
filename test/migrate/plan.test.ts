import { describe, expect, it } from "vitest";
import type { SettingsChange } from "../../contract/credential-list";
import { SiteAction } from "../../deploy/arm-site";
import type { FicInfo } from "../../migrate/graph-application";
import { parseMigrateArgs, targetFlags } from "../../migrate/options";
import {
  armActionsFor,
  describeCredentials,
  managedIdentityFirst,
  type Observed,
  planAdd,
  planRollback,
  undoChange,
} from "../../migrate/plan";

const SECRET = "s3cr3t-value-never-printed";
const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg";
const SITE = `${SUB}/providers/Microsoft.Web/sites/app`;
const UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`;
const MI = { clientId: "6d2e4f80-1a3b-4c5d-9e6f-7a8b9c0d1e2f", principalId: "9f1c3e5a-7b2d-4f6e-8a0c-1d3e5f7a9b0c" };
const TARGET = {
  identityId: UAMI,
  issuer: "https://login.microsoftonline.com/b5f1e2d3-7a4c-4e8b-9f01-2c3d4e5f6a7b/v2.0",
  audience: "api://AzureADTokenExchange",
  ficName: "app-trusts-managed-identity",
};
const withSecret = {
  AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
  AzureAd__ClientCredentials__0__ClientSecret: SECRET,
  OTHER: "kept",
};

function observed(over: Partial<Observed> = {}): Observed {
  return {
    app: { id: "obj", appId: "app", displayName: "App", passwordCredentials: [], keyCredentials: [] },
    fics: [],
    site: { kind: "app,linux", location: "westeurope", serverFarmId: "/plan" },
    siteIdentity: { type: "None", userAssignedIdentityIds: [] },
    settings: withSecret,
    identity: { ...MI, tenantId: "t" },
    ...over,
  };
}

function apply(settings: Record<string, string>, change: SettingsChange): Record<string, string> {
  const next = { ...settings };
  for (const name of change.remove) delete next[name];
  return { ...next, ...change.set };
}

describe("planAdd", () => {
  it("plans the identity, its attachment, the FIC and the managed identity first when none exists", () => {
    const plan = planAdd(observed({ identity: undefined }), TARGET);
    expect(plan).toMatchObject({ createIdentity: true, attachIdentity: true, createFic: true, settings: undefined });
    expect(armActionsFor(plan, SITE, UAMI)).toEqual([
      {
        scope: SITE,
        actions: [SiteAction.ReadSite, SiteAction.ListSettings, SiteAction.WriteSettings, SiteAction.WriteSite],
      },
      { scope: UAMI, actions: [SiteAction.WriteIdentity, SiteAction.AssignIdentity] },
    ]);
  });

  it("plans nothing but settings when the identity is on the site and the FIC trusts it", () => {
    const fic: FicInfo = {
      id: "f",
      name: "x",
      issuer: TARGET.issuer,
      subject: MI.principalId,
      audiences: [TARGET.audience],
    };
    const plan = planAdd(
      observed({ fics: [fic], siteIdentity: { type: "UserAssigned", userAssignedIdentityIds: [UAMI.toUpperCase()] } }),
      TARGET,
    );
    expect(plan).toMatchObject({ createIdentity: false, attachIdentity: false, createFic: false, problems: [] });
    expect(armActionsFor(plan, SITE, UAMI)).toEqual([
      { scope: SITE, actions: [SiteAction.ReadSite, SiteAction.ListSettings, SiteAction.WriteSettings] },
    ]);
    expect(managedIdentityFirst(apply(withSecret, plan.settings!), MI.clientId)).toBe(true);
  });

  it("does not count a FIC with the client id as subject, and refuses a Windows site or a name taken by it", () => {
    const wrong: FicInfo = {
      id: "f",
      name: TARGET.ficName,
      issuer: TARGET.issuer,
      subject: MI.clientId,
      audiences: [TARGET.audience],
    };
    const plan = planAdd(observed({ fics: [wrong], site: { kind: "app", location: "w", serverFarmId: "" } }), TARGET);
    expect(plan.createFic).toBe(true);
    expect(plan.problems.join("\n")).toMatch(/not a Linux web app/);
    expect(plan.problems.join("\n")).toMatch(/already has a federated credential named "app-trusts-managed-identity"/);
  });
});

describe("rollback and undo", () => {
  const migrated = apply(withSecret, planAdd(observed(), TARGET).settings!);

  it("takes the managed identity off the front and keeps the secret first again", () => {
    const { change, needsSecret } = planRollback(migrated, MI.clientId);
    expect(needsSecret).toBe(false);
    expect(apply(migrated, change)).toEqual(withSecret);
  });

  it("needs the secret from the operator once the site no longer holds it", () => {
    const miOnly = {
      AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
      AzureAd__ClientCredentials__0__ManagedIdentityClientId: MI.clientId,
      OTHER: "kept",
    };
    expect(planRollback(miOnly, MI.clientId).needsSecret).toBe(true);
    const { change } = planRollback(miOnly, MI.clientId, SECRET);
    expect(apply(miOnly, change)).toEqual(withSecret);
  });

  it("undoes a change from the settings held before it", () => {
    const change = { set: { OTHER: "changed", NEW: "x" }, remove: ["AzureAd__ClientCredentials__0__ClientSecret"] };
    expect(apply(apply(withSecret, change), undoChange(withSecret, change))).toEqual(withSecret);
  });
});

describe("what the phases print", () => {
  it("describes the credential list by position and source type, never by value", () => {
    const lines = describeCredentials(apply(withSecret, planAdd(observed(), TARGET).settings!));
    expect(lines).toEqual([
      `AzureAd__ClientCredentials[0]: SignedAssertionFromManagedIdentity (identity ${MI.clientId})`,
      "AzureAd__ClientCredentials[1]: ClientSecret [secret]",
    ]);
    expect(lines.join("\n")).not.toContain(SECRET);
  });

  it("repeats the same target in every next-phase and way-back line", () => {
    const options = parseMigrateArgs(["add", "--client-id", MI.clientId, "--site-id", SITE, "--identity-id", UAMI]);
    expect(targetFlags(options)).toBe(`--client-id ${MI.clientId} --site-id ${SITE} --identity-id ${UAMI}`);
    const rg = parseMigrateArgs([
      "--client-id",
      MI.clientId,
      "--subscription",
      "2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a",
      "--resource-group",
      "rg",
      "--site-name",
      "app",
      "--identity-id",
      UAMI,
    ]);
    expect(rg).toMatchObject({ phase: "inspect", siteId: SITE });
  });

  it.each([
    [["nope"], /unknown phase "nope"/],
    [["--client-id", "x"], /--client-id must be the app registration's application \(client\) id/],
    [
      ["--client-id", MI.clientId, "--site-id", "/x", "--identity-id", UAMI],
      /--site-id must be a web app's resource id/,
    ],
    [
      [
        "prove",
        "--client-id",
        MI.clientId,
        "--site-id",
        SITE,
        "--identity-id",
        UAMI,
        "--proof-url",
        "http://example.com",
      ],
      /--proof-url must use https/,
    ],
    [
      [
        "prove",
        "--client-id",
        MI.clientId,
        "--site-id",
        SITE,
        "--identity-id",
        UAMI,
        "--proof-url",
        "https://a.example",
        "--confirmed-by-operator",
      ],
      /are alternatives/,
    ],
  ])("refuses bad flags %j, naming the flag", (argv, message) => {
    expect(() => parseMigrateArgs(argv as string[])).toThrow(message as RegExp);
  });
});
