/**
 * The migration off a client secret, end to end: the built app (dist/app/server.js) runs as the fake ARM's site with
 * a client secret, Chromium signs in, the command walks inspect → add → prove → remove-secret → delete-secret, and
 * Chromium signs in again with the managed identity only. Then the failure path: the proof fails after the secret
 * was taken off, the command puts it back, and sign-in keeps working with the secret. No output holds the secret.
 */
import { afterEach, describe, expect, it } from "vitest";
import { credentialEntries } from "../../contract/credential-list";
import { buildApp } from "../../deploy/build-app";
import { DeployStepError } from "../../deploy/cli";
import { runMigration } from "../../migrate/migration";
import { E2E_TIMEOUT, setupBrowser } from "../support/browser";
import { childRunner, type MigrationWorld, SECRET, startMigrationWorld } from "../support/migration-world";

const browser = setupBrowser();
let world: MigrationWorld | undefined;
const appOutput: string[] = [];

afterEach(async () => {
  await world?.close();
  world = undefined;
});

async function start(): Promise<MigrationWorld> {
  world = await startMigrationWorld(childRunner(await buildApp(), appOutput));
  return world;
}

async function phase(w: MigrationWorld, name: string, ...flags: string[]): Promise<DeployStepError | undefined> {
  try {
    await runMigration(w.options(name, ...flags), { credential: w.credential, log: (line) => w.output.push(line) });
    return undefined;
  } catch (error) {
    if (!(error instanceof DeployStepError)) throw error;
    w.output.push(error.message, error.fix);
    return error;
  }
}

/** Signs in from a fresh browser context's point of view (cookies cleared) and returns the signed-in name. */
async function signIn(w: MigrationWorld): Promise<string | null> {
  await browser.context.clearCookies();
  await browser.page.goto(`${w.appUrl}/`);
  await browser.page.click("#sign-in");
  await browser.page.waitForSelector("#user-name");
  return browser.page.textContent("#user-name");
}

const sourceTypes = (w: MigrationWorld) => credentialEntries(w.site.appSettings).map((e) => e.fields.SourceType);

describe("migrating the running sample app off its client secret, in Chromium", () => {
  it(
    "signs in with the secret, then after add, prove, remove-secret and delete-secret with the managed identity only",
    async () => {
      const w = await start();
      expect(await signIn(w)).toBe("Ada Lovelace");
      const readyz = `${w.appUrl}/readyz`;

      expect(await phase(w, "inspect")).toBeUndefined();
      expect(await phase(w, "add")).toBeUndefined();
      expect(await signIn(w)).toBe("Ada Lovelace");
      expect(await phase(w, "prove", "--readyz-url", readyz)).toBeUndefined();
      expect(await phase(w, "remove-secret", "--readyz-url", readyz)).toBeUndefined();
      expect(await phase(w, "delete-secret", "--readyz-url", readyz, "--confirm-delete")).toBeUndefined();

      expect(sourceTypes(w)).toEqual(["SignedAssertionFromManagedIdentity"]);
      expect(w.emu.registration.passwordCredentials).toEqual([]);
      expect(await signIn(w)).toBe("Ada Lovelace");
      expect(await browser.page.textContent("#trust-chain")).toContain(w.emu.registration.uami.clientId);

      const everything = [...w.output, ...appOutput].join("\n");
      expect(w.output.join("\n")).toContain("proof: /readyz: the trust chain works with credential 0");
      expect(everything).not.toContain(SECRET);
    },
    E2E_TIMEOUT * 6,
  );

  it(
    "keeps the secret and sign-in working, and prints the way back, when the proof fails",
    async () => {
      const w = await start();
      expect(await phase(w, "add")).toBeUndefined();
      w.emu.registration.federatedCredentials = []; // the managed identity stops working
      const error = await phase(w, "remove-secret", "--readyz-url", `${w.appUrl}/readyz`);
      expect(error?.message).toMatch(/did not prove it signs in with the managed identity/);
      expect(error?.fix).toContain("Way back: npm run migrate -- rollback");
      expect(sourceTypes(w)).toEqual(["SignedAssertionFromManagedIdentity", "ClientSecret"]);
      expect(w.emu.registration.passwordCredentials).toHaveLength(1);
      expect(await signIn(w)).toBe("Ada Lovelace");
      expect([...w.output, ...appOutput].join("\n")).not.toContain(SECRET);
    },
    E2E_TIMEOUT * 6,
  );
});
