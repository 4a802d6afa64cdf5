import { defineConfig } from "vitest/config";

// ESM (.mts) because package.json says CommonJS: Vite warns about an ESM config loaded as CommonJS otherwise.
// One project per test folder, so each can be run alone (`vitest run --project infra`).
// Every file runs in its own forked process (vitest's default): Pulumi's runtime state and msal-node's
// managed-identity source are process-wide, so isolation must stay on.
export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      { test: { name: "infra", include: ["test/infra/**/*.test.ts"], testTimeout: 30_000 } },
      { test: { name: "emulator", include: ["test/emulator/**/*.test.ts"], testTimeout: 30_000 } },
      { test: { name: "app", include: ["test/app/**/*.test.ts"], testTimeout: 30_000 } },
      { test: { name: "policy", include: ["test/policy/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: "deploy", include: ["test/deploy/**/*.test.ts"], testTimeout: 60_000 } },
      { test: { name: "bootstrap", include: ["test/bootstrap/**/*.test.ts"], testTimeout: 30_000 } },
      { test: { name: "scripts", include: ["test/scripts/**/*.test.ts"], testTimeout: 60_000 } },
      { test: { name: "workflows", include: ["test/workflows/**/*.test.ts"], testTimeout: 30_000 } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
});
