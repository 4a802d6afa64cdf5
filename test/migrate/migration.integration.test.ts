import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { credentialEntries } from "../../contract/credential-list";
import { DeployStepError, ExitCode } from "../../deploy/cli";
import { operatorCredential } from "../../local/operator-credential";
import { runMigration } from "../../migrate/migration";
import {
  IDENTITY_ID,
  inProcessRunner,
  type MigrationWorld,
  OPERATOR,
  SECRET,
  SECRET_KEY_ID,
  SITE_ID,
  startMigrationWorld,
} from "../support/migration-world";

let world: MigrationWorld;

// One world for the file (msal-node reads the managed-identity endpoint once per process), reset before each test.
beforeAll(async () => {
  world = await startMigrationWorld(inProcessRunner);
}, 30_000);
beforeEach(async () => {
  await world.reset();
}, 30_000);
afterAll(async () => {
  await world?.close();
});

/** Runs a phase as the operator; returns its lines, or the error it stopped with (its lines kept too). */
async function phase(name: string, ...flags: string[]): Promise<{ lines: string[]; error?: DeployStepError }> {
  const lines: string[] = [];
  try {
    await runMigration(world.options(name, ...flags), {
      credential: world.credential,
      log: (line) => lines.push(line),
      readSecret: async () => SECRET,
    });
  } catch (error) {
    if (!(error instanceof DeployStepError)) throw error;
    lines.push(error.message, error.fix);
    world.output.push(...lines);
    return { lines, error };
  }
  world.output.push(...lines);
  return { lines };
}

const sourceTypes = () => credentialEntries(world.site.appSettings).map((e) => e.fields.SourceType);
const writes = () => world.arm.requests.filter((r) => r.method !== "GET" && !r.path.endsWith("/list"));
const readyz = () => `${world.appUrl}/readyz`;

describe("the migration against the emulator, the Graph stand-in and the fake ARM", () => {
  it("walks the app from its secret to the managed identity, phase by phase, never printing the secret", async () => {
    const inspect = await phase("inspect");
    expect(inspect.error).toBeUndefined();
    const text = inspect.lines.join("\n");
    expect(text).toContain(`client secret "web app secret": hint ${SECRET.slice(0, 3)}…, key id ${SECRET_KEY_ID}`);
    expect(text).toContain("AzureAd__ClientCredentials[0]: ClientSecret [secret]");
    expect(text).toContain(
      "settings holding secrets or Key Vault references: AzureAd__ClientCredentials__0__ClientSecret",
    );
    expect(text).toContain("does not exist yet");
    expect(text).toContain("permissions: you have every permission add needs");
    expect(text).toContain("nothing was changed (inspect is read-only)");
    expect(writes()).toEqual([]);

    const add = await phase("add");
    expect(add.error).toBeUndefined();
    expect(sourceTypes()).toEqual(["SignedAssertionFromManagedIdentity", "ClientSecret"]);
    expect(world.site.appSettings.AzureAd__ClientCredentials__0__ManagedIdentityClientId).toBe(
      world.emu.registration.uami.clientId,
    );
    expect(world.site.identity.userAssignedIdentityIds).toEqual([IDENTITY_ID]);
    expect(world.emu.registration.federatedCredentials).toEqual([
      expect.objectContaining({
        name: "app-trusts-managed-identity",
        issuer: world.emu.issuer,
        subject: world.emu.registration.uami.principalId,
        audiences: ["api://AzureADTokenExchange"],
      }),
    ]);
    expect(add.lines.join("\n")).toContain(`way back: npm run migrate -- rollback --client-id`);

    // Re-running a phase that is done changes nothing.
    const before = writes().length;
    expect((await phase("add")).error).toBeUndefined();
    expect(writes().length).toBe(before);
    // Inspect after add points on to the proof (add has nothing left to do) and back.
    const again = (await phase("inspect")).lines.join("\n");
    expect(again).toContain("change no setting: the credential list already starts with the identity");
    expect(again).toContain("next phase: npm run migrate -- prove --client-id");
    expect(again).toContain("way back: npm run migrate -- rollback --client-id");
    expect(writes().length).toBe(before);

    const prove = await phase("prove", "--readyz-url", readyz());
    expect(prove.error).toBeUndefined();
    expect(prove.lines.join("\n")).toContain("credential 0 (SignedAssertionFromManagedIdentity)");

    const remove = await phase("remove-secret", "--readyz-url", readyz());
    expect(remove.error).toBeUndefined();
    expect(sourceTypes()).toEqual(["SignedAssertionFromManagedIdentity"]);
    expect(Object.values(world.site.appSettings)).not.toContain(SECRET);

    const unconfirmed = await phase("delete-secret", "--readyz-url", readyz());
    expect(unconfirmed.error?.message).toMatch(/nothing was deleted/);
    expect(world.emu.registration.passwordCredentials).toHaveLength(1);

    const deleted = await phase("delete-secret", "--readyz-url", readyz(), "--confirm-delete");
    expect(deleted.error).toBeUndefined();
    expect(world.emu.registration.passwordCredentials).toEqual([]);
    expect(deleted.lines.join("\n")).toContain(`deleted client secret "web app secret" (key id ${SECRET_KEY_ID})`);

    // The app still proves its chain, with its managed identity only.
    expect(await (await fetch(readyz())).json()).toEqual({ status: "ready", reason: "ok" });
    expect(world.output.join("\n")).not.toContain(SECRET);
  }, 60_000);

  it("puts the secret back and prints the way back when the proof fails after removing it", async () => {
    expect((await phase("add")).error).toBeUndefined();
    // The federated credential disappears: only the secret works now.
    world.emu.registration.federatedCredentials = [];
    const remove = await phase("remove-secret", "--readyz-url", readyz());
    expect(remove.error?.exitCode).toBe(ExitCode.Failed);
    expect(remove.lines.join("\n")).toContain("put the secret credentials back on the site as they were");
    expect(remove.error?.fix).toContain("Way back: npm run migrate -- rollback");
    expect(sourceTypes()).toEqual(["SignedAssertionFromManagedIdentity", "ClientSecret"]);
    expect(world.site.appSettings.AzureAd__ClientCredentials__1__ClientSecret).toBe(SECRET);
    expect(world.emu.registration.passwordCredentials).toHaveLength(1);
    // The app signs in with its secret again, and says so.
    const body = (await (await fetch(readyz())).json()) as { credential?: { sourceType: string } };
    expect(body.credential?.sourceType).toBe("ClientSecret");
    expect(world.output.join("\n")).not.toContain(SECRET);
  }, 60_000);

  it("treats an app that still signs in with its secret as no proof, and times out as a failure", async () => {
    expect((await phase("add")).error).toBeUndefined();
    world.emu.registration.federatedCredentials = [];
    const prove = await phase("prove", "--readyz-url", readyz(), "--proof-timeout-seconds", "1");
    expect(prove.error?.message).toMatch(/signs in with credential 1 \(ClientSecret\), not the managed identity/);
    expect((await phase("prove")).error?.message).toMatch(/silence is not proof/);
  }, 60_000);

  it("stops before any change when the operator may not assign the identity, naming the role", async () => {
    world.arm.unassign(OPERATOR);
    world.arm.assign(OPERATOR, "Website Contributor", SITE_ID);
    world.arm.assign(OPERATOR, "Managed Identity Contributor", IDENTITY_ID.replace(/\/providers\/.*$/, ""));
    const inspect = await phase("inspect");
    expect(inspect.lines.join("\n")).toMatch(
      /permission missing for add: Azure: .*userAssignedIdentities\/assign\/action/,
    );
    const add = await phase("add");
    expect(add.error?.exitCode).toBe(ExitCode.Unauthorized);
    expect(add.error?.message).toContain("missing permission, nothing was changed");
    expect(add.error?.message).toContain("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action");
    expect(add.error?.message).toContain("Managed Identity Operator");
    expect(writes()).toEqual([]);
    expect(world.arm.identities.size).toBe(0);
    expect(world.emu.registration.federatedCredentials).toEqual([]);
    expect(sourceTypes()).toEqual(["ClientSecret"]);
  }, 60_000);

  it("stops before any change when the operator neither owns the registration nor holds an admin role", async () => {
    world.credential = operatorCredential(world.emu, { oid: "11111111-2222-4333-8444-555555555555" });
    world.arm.assign(
      "11111111-2222-4333-8444-555555555555",
      "Owner",
      "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a",
    );
    const add = await phase("add");
    expect(add.error?.message).toMatch(/Microsoft Graph: you are neither an owner of the app registration/);
    expect(writes()).toEqual([]);
    expect(world.emu.registration.federatedCredentials).toEqual([]);
  }, 60_000);

  it("rolls back to the secret alone after add, and after remove-secret with the secret on stdin", async () => {
    expect((await phase("add")).error).toBeUndefined();
    expect((await phase("rollback")).error).toBeUndefined();
    expect(sourceTypes()).toEqual(["ClientSecret"]);
    expect(world.site.appSettings.AzureAd__ClientCredentials__0__ClientSecret).toBe(SECRET);

    expect((await phase("add")).error).toBeUndefined();
    expect((await phase("remove-secret", "--readyz-url", readyz())).error).toBeUndefined();
    expect((await phase("rollback")).error?.message).toMatch(/cannot be read back from Entra/);
    expect((await phase("rollback", "--secret-stdin")).error).toBeUndefined();
    expect(sourceTypes()).toEqual(["ClientSecret"]);
    expect(world.output.join("\n")).not.toContain(SECRET);
  }, 60_000);

  it("takes a proof URL's 200 as proof, and its other answers until the bound as failure", async () => {
    let status = 500;
    const server = createServer((_req, res) => res.writeHead(status).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/health/token`;
    try {
      expect((await phase("add")).error).toBeUndefined();
      const failed = await phase("prove", "--proof-url", url, "--proof-timeout-seconds", "1");
      expect(failed.error?.message).toContain(`${url} answered 500, not 200`);
      status = 200;
      const proved = await phase("prove", "--proof-url", url);
      expect(proved.error).toBeUndefined();
      expect(proved.lines).toContain(`proof: ${url} answered 200`);
    } finally {
      server.close();
    }
  }, 60_000);

  it("deletes no secret when the operator's Graph token cannot change the registration", async () => {
    expect((await phase("add")).error).toBeUndefined();
    expect((await phase("remove-secret", "--readyz-url", readyz())).error).toBeUndefined();
    world.credential = operatorCredential(world.emu, { oid: OPERATOR, graphScp: "Application.Read.All" });
    const deleted = await phase("delete-secret", "--readyz-url", readyz(), "--confirm-delete");
    expect(deleted.error?.exitCode).toBe(ExitCode.Unauthorized);
    expect(deleted.error?.message).toContain("no Application.ReadWrite.All delegated permission");
    expect(world.emu.registration.passwordCredentials).toHaveLength(1);
  }, 60_000);
});
