import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ExitCode } from "../../deploy/cli";
import { REPO } from "../support/repo";

const TSX = join(REPO, "node_modules", "tsx", "dist", "cli.mjs");
const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg";
const TARGET = [
  "--client-id",
  "3a8c9d1e-5b2f-4c6d-8e7f-9a0b1c2d3e4f",
  "--site-id",
  `${SUB}/providers/Microsoft.Web/sites/app`,
  "--identity-id",
  `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app`,
];

function migrate(...args: string[]) {
  return spawnSync(process.execPath, [TSX, "scripts/migrate.ts", ...args], {
    cwd: REPO,
    encoding: "utf8",
    // No signed-in developer tool here: DefaultAzureCredential's developer sources only, none of them logged in.
    env: { PATH: "/usr/bin:/bin", HOME: "/nonexistent", AZURE_TOKEN_CREDENTIALS: "dev" },
    timeout: 60_000,
  });
}

describe("npm run migrate", () => {
  it("refuses a bad flag with exit 2, an error line naming the flag and a fix line", () => {
    const result = migrate("add", "--client-id", "not-a-guid");
    expect(result.status).toBe(ExitCode.BadInput);
    expect(result.stderr).toContain("migrate: error: --client-id must be the app registration's application");
    expect(result.stderr).toContain("migrate: fix:");
  });

  it("refuses an unknown flag with the usage", () => {
    const result = migrate("--client-secret", "x");
    expect(result.status).toBe(ExitCode.BadInput);
    expect(result.stderr).toContain("migrate: usage: npm run migrate -- <phase>");
  });

  it("says to sign in, with exit 3, when no account is signed in", () => {
    const result = migrate("inspect", ...TARGET);
    expect(result.stderr).toContain("migrate: fix: Sign in first: az login");
    expect(result.status).toBe(ExitCode.NotLoggedIn);
  });
});
