/**
 * The Easy Auth guardrails: the project's own stack in Easy Auth mode passes every rule, and each way of making App
 * Service authentication hold or use a secret fails with its message (at least one variant per Easy Auth rule).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { MI_FIC_ASSERTION_SETTING } from "../../contract/easy-auth";
import { evaluateRecorded } from "../../policy/offline";
import { EASY_AUTH_RULE_NAMES } from "../../policy/rules/easy-auth";
import { type RegisteredResource, T, guidFrom } from "../../offline/azure-mocks";
import { handMade, planMainStack } from "../support/policy";

const AUTH_V2 = "azure-native:web:WebAppAuthSettingsV2WithoutSecrets";

let easyAuthStack: RegisteredResource[];
beforeAll(async () => {
  easyAuthStack = await planMainStack({ authMode: "easyAuth" });
});

const compliant = (): RegisteredResource[] => structuredClone(easyAuthStack);
const one = (rs: RegisteredResource[], type: string) => {
  const found = rs.filter((r) => r.type === type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0]!;
};
const edit = (r: RegisteredResource, change: (props: Record<string, any>) => void) => {
  change(r.inputs);
  change(r.state);
};
const aad = (p: Record<string, any>) => p.identityProviders.azureActiveDirectory;

interface Variant {
  rule: string;
  broken: string;
  break(rs: RegisteredResource[]): void;
  message: RegExp;
  /** Other rules the same break also trips, by design (the allow-list, the generic secret scan). */
  alsoTrips?: string[];
}

const variants: Variant[] = [
  {
    rule: "easy-auth-secretless",
    broken: "the classic secret setting named instead of the managed identity's",
    break: (rs) =>
      edit(
        one(rs, AUTH_V2),
        (p) => (aad(p).registration.clientSecretSettingName = "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"),
      ),
    message: new RegExp(
      String.raw`clientSecretSettingName "MICROSOFT_PROVIDER_AUTHENTICATION_SECRET"\. Fix: set it to ` +
        '"OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID"',
    ),
  },
  {
    rule: "easy-auth-secretless",
    broken: "a certificate thumbprint as the provider's credential",
    break: (rs) => edit(one(rs, AUTH_V2), (p) => (aad(p).registration.clientSecretCertificateThumbprint = "AB12")),
    message: /clientSecretCertificateThumbprint: a certificate credential/,
    alsoTrips: ["no-secret-inputs"],
  },
  {
    rule: "easy-auth-secretless",
    broken: "a second provider that needs a secret",
    break: (rs) =>
      edit(
        one(rs, AUTH_V2),
        (p) =>
          (p.identityProviders.google = {
            enabled: true,
            registration: { clientId: "g", clientSecretSettingName: "GOOGLE_SECRET" },
          }),
      ),
    message: /configures the google identity provider/,
  },
  {
    rule: "easy-auth-secretless",
    broken: "a token store reached through a SAS URL",
    break: (rs) =>
      edit(one(rs, AUTH_V2), (p) => (p.login.tokenStore.azureBlobStorage = { sasUrlSettingName: "TOKENS_SAS_URL" })),
    message: /SAS URL setting/,
  },
  {
    rule: "easy-auth-secretless",
    broken: "HTTP allowed",
    break: (rs) => edit(one(rs, AUTH_V2), (p) => (p.httpSettings.requireHttps = false)),
    message: /httpSettings\.requireHttps false/,
  },
  {
    rule: "easy-auth-secretless",
    broken: "the auth settings pinned to a config file",
    break: (rs) => edit(one(rs, AUTH_V2), (p) => (p.platform.configFilePath = "auth.json")),
    message: /reads its auth settings from the file "auth\.json"/,
  },
  {
    rule: "no-easy-auth-v1",
    broken: "classic auth settings",
    break: (rs) =>
      rs.push(
        handMade("azure-native:web:WebAppAuthSettings", "classic", {
          name: "secretless-signin-dev",
          resourceGroupName: "rg",
          enabled: true,
          clientId: guidFrom("x"),
        }),
      ),
    message: /WebAppAuthSettings "classic" is the classic \(v1\) auth settings resource/,
    alsoTrips: ["resource-type-allowed"],
  },
  {
    rule: "easy-auth-identity-setting",
    broken: "the app registration's client ID in the managed identity's setting",
    break: (rs) =>
      edit(one(rs, T.site), (p) => {
        const s = (p.siteConfig.appSettings as { name: string; value: string }[]).find(
          (x) => x.name === MI_FIC_ASSERTION_SETTING,
        )!;
        s.value = one(rs, T.app).state.clientId;
      }),
    message: new RegExp(
      'has OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID ".*", which is not ' +
        "the client ID of a user-assigned identity " +
        "it wears",
    ),
  },
  {
    rule: "easy-auth-identity-setting",
    broken: "the setting left out",
    break: (rs) =>
      edit(
        one(rs, T.site),
        (p) =>
          (p.siteConfig.appSettings = (p.siteConfig.appSettings as { name: string }[]).filter(
            (x) => x.name !== MI_FIC_ASSERTION_SETTING,
          )),
      ),
    message: /has OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID unset/,
  },
];

describe("the Easy Auth guardrails", () => {
  it("pass on the project's own stack in Easy Auth mode", () => {
    expect(easyAuthStack.some((r) => r.type === AUTH_V2)).toBe(true);
    expect(evaluateRecorded(compliant())).toEqual([]);
  });

  it.each(variants.map((v) => [v.rule, v.broken, v] as const))("%s fails on %s", (_rule, _broken, v) => {
    const rs = compliant();
    v.break(rs);
    const violations = evaluateRecorded(rs);
    expect(violations.filter((x) => x.policy === v.rule).map((x) => x.message)).toContainEqual(
      expect.stringMatching(v.message),
    );
    expect([...new Set(violations.map((x) => x.policy))].sort()).toEqual([v.rule, ...(v.alsoTrips ?? [])].sort());
  });

  it("break every Easy Auth rule at least once", () => {
    expect(EASY_AUTH_RULE_NAMES.filter((name) => !variants.some((v) => v.rule === name))).toEqual([]);
  });
});
