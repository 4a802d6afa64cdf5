import { describe, expect, it } from "vitest";
import {
  credentialEntries,
  type SettingsChange,
  secretCredentialSummary,
  secretSettingNames,
  withManagedIdentityFirst,
  withoutSecretCredentials,
} from "../../contract/credential-list";

const MI = {
  managedIdentityClientId: "6d2e4f80-1a3b-4c5d-9e6f-7a8b9c0d1e2f",
  tokenExchangeUrl: "api://AzureADTokenExchange",
};
const SECRET = "s3cr3t-value-never-printed";

/** What the site's settings are after a change, as ArmSite.applySettings writes them. */
function apply(settings: Record<string, string>, change: SettingsChange): Record<string, string> {
  const next = { ...settings };
  for (const name of change.remove) delete next[name];
  return { ...next, ...change.set };
}

const withSecret = {
  AzureAd__Instance: "https://login.microsoftonline.com/",
  AzureAd__ClientId: "3a8c9d1e-5b2f-4c6d-8e7f-9a0b1c2d3e4f",
  AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
  AzureAd__ClientCredentials__0__ClientSecret: SECRET,
  WEBSITE_RUN_FROM_PACKAGE: "1",
};

describe("withManagedIdentityFirst", () => {
  it("puts the managed identity at index 0 and the existing secret second, touching nothing else", () => {
    const change = withManagedIdentityFirst(withSecret, MI);
    const after = apply(withSecret, change);
    expect(after).toEqual({
      AzureAd__Instance: "https://login.microsoftonline.com/",
      AzureAd__ClientId: "3a8c9d1e-5b2f-4c6d-8e7f-9a0b1c2d3e4f",
      AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
      AzureAd__ClientCredentials__0__ManagedIdentityClientId: MI.managedIdentityClientId,
      AzureAd__ClientCredentials__0__TokenExchangeUrl: MI.tokenExchangeUrl,
      AzureAd__ClientCredentials__1__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__1__ClientSecret: SECRET,
      WEBSITE_RUN_FROM_PACKAGE: "1",
    });
    expect(change.remove).toEqual(["AzureAd__ClientCredentials__0__ClientSecret"]);
  });

  it("is idempotent: applied to its own result it changes nothing", () => {
    const once = apply(withSecret, withManagedIdentityFirst(withSecret, MI));
    expect(withManagedIdentityFirst(once, MI)).toEqual({ set: {}, remove: [] });
  });

  it("moves an existing entry for the same identity to the front instead of doubling it", () => {
    const settings = {
      AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__0__ClientSecret: SECRET,
      AzureAd__ClientCredentials__1__SourceType: "SignedAssertionFromManagedIdentity",
      AzureAd__ClientCredentials__1__ManagedIdentityClientId: MI.managedIdentityClientId.toUpperCase(),
    };
    const entries = credentialEntries(apply(settings, withManagedIdentityFirst(settings, MI)));
    expect(entries.map((e) => e.fields.SourceType)).toEqual(["SignedAssertionFromManagedIdentity", "ClientSecret"]);
  });

  it("turns the legacy single AzureAd__ClientSecret and certificate array into list entries after the identity", () => {
    const settings = {
      AzureAd__ClientSecret: SECRET,
      AzureAd__ClientCertificates__0__SourceType: "KeyVault",
      AzureAd__ClientCertificates__0__KeyVaultUrl: "https://kv.vault.azure.net",
      AzureAd__ClientCertificates__0__KeyVaultCertificateName: "cert",
    };
    const after = apply(settings, withManagedIdentityFirst(settings, MI));
    expect(after.AzureAd__ClientSecret).toBeUndefined();
    expect(Object.keys(after).some((n) => n.startsWith("AzureAd__ClientCertificates__"))).toBe(false);
    expect(credentialEntries(after).map((e) => e.fields.SourceType)).toEqual([
      "SignedAssertionFromManagedIdentity",
      "KeyVault",
      "ClientSecret",
    ]);
    expect(after.AzureAd__ClientCredentials__2__ClientSecret).toBe(SECRET);
  });

  it("keeps the list's numeric order, gaps and case differences included", () => {
    const settings = {
      azuread__clientcredentials__10__sourcetype: "ClientSecret",
      azuread__clientcredentials__10__clientsecret: "ten",
      AzureAd__ClientCredentials__2__SourceType: "StoreWithThumbprint",
      AzureAd__ClientCredentials__2__CertificateThumbprint: "ABC",
    };
    const after = apply(settings, withManagedIdentityFirst(settings, MI));
    expect(Object.keys(after).filter((n) => n.startsWith("azuread__"))).toEqual([]);
    expect(credentialEntries(after).map((e) => [e.fields.SourceType, e.fields.ClientSecret])).toEqual([
      ["SignedAssertionFromManagedIdentity", undefined],
      ["StoreWithThumbprint", undefined],
      ["ClientSecret", "ten"],
    ]);
  });
});

describe("withoutSecretCredentials", () => {
  it("drops the secret and certificate entries and renumbers the managed identity to 0", () => {
    const settings = {
      WEBSITE_RUN_FROM_PACKAGE: "1",
      AzureAd__ClientCredentials__0__SourceType: "StoreWithThumbprint",
      AzureAd__ClientCredentials__0__CertificateThumbprint: "ABC",
      AzureAd__ClientCredentials__1__SourceType: "SignedAssertionFromManagedIdentity",
      AzureAd__ClientCredentials__1__ManagedIdentityClientId: MI.managedIdentityClientId,
      AzureAd__ClientCredentials__2__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__2__ClientSecret: SECRET,
      AzureAd__ClientSecret: SECRET,
    };
    const change = withoutSecretCredentials(settings);
    expect(JSON.stringify(change.set)).not.toContain(SECRET);
    const after = apply(settings, change);
    expect(Object.values(after)).not.toContain(SECRET);
    expect(credentialEntries(after).map((e) => e.fields)).toEqual([
      { SourceType: "SignedAssertionFromManagedIdentity", ManagedIdentityClientId: MI.managedIdentityClientId },
    ]);
    expect(after.WEBSITE_RUN_FROM_PACKAGE).toBe("1");
  });

  it("treats an entry without a source type, or with a secret field, as secret-based", () => {
    const settings = {
      AzureAd__ClientCredentials__0__ClientSecret: SECRET,
      AzureAd__ClientCredentials__1__SourceType: "SignedAssertionFilePath",
      AzureAd__ClientCredentials__1__CertificatePassword: SECRET,
    };
    expect(apply(settings, withoutSecretCredentials(settings))).toEqual({});
  });

  it("changes nothing when no secret entry is left", () => {
    const settings = apply(withSecret, withManagedIdentityFirst(withSecret, MI));
    const once = apply(settings, withoutSecretCredentials(settings));
    expect(withoutSecretCredentials(once)).toEqual({ set: {}, remove: [] });
  });
});

describe("secretSettingNames", () => {
  it("names credential secrets, Key Vault references and secret-looking names, never values", () => {
    const settings = {
      ...withSecret,
      AzureAd__ClientSecret: SECRET,
      Db__ConnectionString: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/)",
      SOME_REFERENCE: "@microsoft.keyvault(VaultName=kv;SecretName=x)",
      Stripe__ApiKey: SECRET,
      FEATURE_FLAG: "on",
    };
    const names = secretSettingNames(settings);
    expect(names).toEqual([
      "AzureAd__ClientCredentials__0__ClientSecret",
      "AzureAd__ClientSecret",
      "Db__ConnectionString",
      "SOME_REFERENCE",
      "Stripe__ApiKey",
    ]);
    expect(JSON.stringify(names)).not.toContain(SECRET);
  });

  it("summarises secret entries by position and source type only", () => {
    expect(secretCredentialSummary({ ...withSecret, AzureAd__ClientSecret: SECRET })).toEqual([
      "AzureAd__ClientCredentials[0]: ClientSecret",
      "AzureAd__ClientSecret: ClientSecret",
    ]);
  });
});
