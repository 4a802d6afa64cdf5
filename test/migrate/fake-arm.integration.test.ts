import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../../emulator";
import { ArmRequestError, ArmSite } from "../../deploy/arm-site";
import { type FakeArm, type FakeSite, startFakeArm } from "../../local/fake-arm";
import { operatorCredential } from "../../local/operator-credential";

const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg";
const SITE = `${SUB}/providers/Microsoft.Web/sites/app`;
const UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`;
const ALICE = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9";

let emu: RunningEmulator;
let arm: FakeArm;
let site: FakeSite;
const restarts: Record<string, string>[] = [];

beforeAll(async () => {
  emu = await startEmulator();
  arm = await startFakeArm({
    verify: (token, audience) => emu.verifyAccessToken(token, audience),
    tenantId: emu.tenantId,
    onSettingsChanged: (s) => {
      restarts.push({ ...s.appSettings });
    },
  });
  site = arm.addSite({
    id: SITE,
    kind: "app,linux",
    location: "westeurope",
    linuxFxVersion: "NODE|22-lts",
    serverFarmId: "/plan",
    appSettings: { A: "1" },
  });
  arm.addIdentity({ id: UAMI, location: "westeurope", clientId: "c", principalId: "p" });
});
afterAll(async () => {
  await arm.close();
  await emu.close();
});

const asAlice = () =>
  new ArmSite({ resourceManagerUrl: arm.url, siteId: SITE, credential: operatorCredential(emu, { oid: ALICE }) });

describe("the fake ARM", () => {
  it("answers 401 without a token and with a token for another audience", async () => {
    expect((await fetch(`${arm.url}${SITE}?api-version=2025-05-01`)).status).toBe(401);
    const graphToken = await emu.mintOperatorToken({ resource: "https://graph.microsoft.com", oid: ALICE });
    const res = await fetch(`${arm.url}${SITE}?api-version=2025-05-01`, {
      headers: { authorization: `Bearer ${graphToken}` },
    });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("InvalidAuthenticationToken");
  });

  it("answers 403 AuthorizationFailed naming the action and the scope when the operator lacks the role", async () => {
    const error = await asAlice()
      .settings()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArmRequestError);
    expect((error as ArmRequestError).code).toBe("AuthorizationFailed");
    expect((error as Error).message).toContain(`'Microsoft.Web/sites/config/list/action' over scope '${SITE}'`);
  });

  it("lets a Website Contributor write the settings as one collection, restarting the app with them", async () => {
    arm.assign(ALICE, "Website Contributor", SITE);
    await asAlice().applySettings({ set: { B: "2" }, remove: ["A"] });
    expect(site.appSettings).toEqual({ B: "2" });
    expect(restarts.at(-1)).toEqual({ B: "2" });
    expect(
      await asAlice().missingActions([
        "Microsoft.Web/sites/config/Write",
        "Microsoft.Authorization/roleAssignments/write",
      ]),
    ).toEqual(["Microsoft.Authorization/roleAssignments/write"]);
  });

  it("refuses to put an identity on the site without assign (LinkedAuthorizationFailed), then allows it", async () => {
    const error = await asAlice()
      .addUserAssignedIdentity(UAMI)
      .catch((e: unknown) => e);
    expect((error as ArmRequestError).code).toBe("LinkedAuthorizationFailed");
    expect((error as Error).message).toContain("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action");
    expect(site.identity.userAssignedIdentityIds).toEqual([]);
    arm.assign(ALICE, "Managed Identity Operator", UAMI);
    await asAlice().addUserAssignedIdentity(UAMI);
    expect(await asAlice().identity()).toEqual({ type: "UserAssigned", userAssignedIdentityIds: [UAMI] });
  });
});
