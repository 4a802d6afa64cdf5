import { join } from "node:path";
import { defineConfig } from "vitest/config";

// ESM (.mts) because package.json says CommonJS: Vite warns about an ESM config loaded as CommonJS otherwise.
// Node's compile cache for every process the tests start (each loads @pulumi/pulumi, whose TypeScript compiler is
// 9 MB of JavaScript, or the app): the same folder scripts/pulumi-loader.cjs uses, cleared by `npm ci`.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, "node_modules", ".cache", "node-compile-cache");

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
      { test: { name: "bench", include: ["test/bench/**/*.test.ts"] } },
      { test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
});
