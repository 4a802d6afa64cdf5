import { join } from "node:path";
import { defineConfig } from "vitest/config";

// ESM (.mts) because package.json says CommonJS: Vite warns about an ESM config loaded as CommonJS otherwise.
// Node's compile cache for every process the tests start (each loads @pulumi/pulumi, whose TypeScript compiler is
// 9 MB of JavaScript, or the app): the same folder scripts/pulumi-loader.cjs uses, cleared by `npm ci`.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, "node_modules", ".cache", "node-compile-cache");

// One project per test tier, named by the file name (`npm run test:unit`, `vitest run --project unit`):
//   *.test.ts              unit: no sockets, no child processes (test/support/tier-guard.ts fails the file otherwise)
//   *.integration.test.ts  in-process servers on 127.0.0.1 (the guard refuses child processes)
//   *.process.test.ts      starts node, tsx, the Pulumi language host or redis-server
//   *.e2e.test.ts          drives Chromium against the built app
// Every file runs in its own forked process (vitest's default): Pulumi's runtime state and msal-node's
// managed-identity source are process-wide, so isolation must stay on.
const TIERS = ["integration", "process", "e2e"] as const;
const GUARD = ["test/support/tier-guard.ts"];
const MOCKS = ["test/infra/**/*.test.ts", "test/policy/**/*.test.ts", "test/bootstrap/**/*.test.ts"];

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [...TIERS.map((tier) => `test/**/*.${tier}.test.ts`), ...MOCKS],
          setupFiles: GUARD,
          pool: "threads",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "unit-mocks",
          include: MOCKS,
          exclude: TIERS.map((tier) => `test/**/*.${tier}.test.ts`),
          setupFiles: GUARD,
          testTimeout: 30_000,
        },
      },
      { test: { name: "integration", include: ["test/**/*.integration.test.ts"], setupFiles: GUARD, testTimeout: 30_000 } },
      { test: { name: "process", include: ["test/**/*.process.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: "e2e", include: ["test/**/*.e2e.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
});
