import { join } from "node:path";
import { defineConfig } from "vitest/config";

// ESM (.mts) because package.json says CommonJS: Vite warns about an ESM config loaded as CommonJS otherwise.
// Node's compile cache for every process the tests start (each loads @pulumi/pulumi, whose TypeScript compiler is
// 9 MB of JavaScript, or the app): the same folder scripts/pulumi-loader.cjs uses, cleared by `npm ci`.
process.env.NODE_COMPILE_CACHE ??= join(import.meta.dirname, "node_modules", ".cache", "node-compile-cache");

// One project per test tier, named by the file name (`npm run test:unit`, `vitest run --project integration`):
//   *.test.ts              unit: no sockets, no child processes (test/support/tier-guard.ts fails the file otherwise)
//   *.integration.test.ts  in-process servers on 127.0.0.1 (the guard refuses child processes)
//   *.process.test.ts      starts node, tsx, esbuild, the Pulumi policy server or redis-server
//   *.e2e.test.ts          drives Chromium against the built app
// The unit tier is three projects (`--project 'unit*'` runs them all), by how much of a process a file may share:
//   unit           plain modules: worker threads, no isolation (a worker keeps what it loaded for its next file).
//   unit-pulumi    Pulumi programs on mocks (test/infra, test/policy, test/bootstrap): @pulumi/pulumi and the provider
//                  SDKs load once per worker; each file gets fresh project modules (test/support/shared-worker.ts) and
//                  fresh mocks (attachMocks resets Pulumi's runtime state).
//   unit-isolated  a program run through Pulumi's own `cmd/run` (offline/language-host.ts): it requires the program
//                  through Node and sets process-wide handlers, so each file gets its own forked process.
// The integration, process and e2e tiers keep vitest's default, a forked process per file: msal-node's caches, the
// app's process.env (IDENTITY_ENDPOINT) and the trusted CAs are process-wide.
const TIERS = ["integration", "process", "e2e"] as const;
const OTHER_TIERS = TIERS.map((tier) => `test/**/*.${tier}.test.ts`);
const GUARD = ["test/support/tier-guard.ts"];
const PULUMI = ["test/infra/**/*.test.ts", "test/policy/**/*.test.ts", "test/bootstrap/**/*.test.ts"];
const LANGUAGE_HOST = ["test/**/language-host*.test.ts"];
// The program packages the app (esbuild, a child process) unless its zip is up to date: built once before these run.
const PACKAGE_ONCE = ["test/support/package-once.ts"];

export default defineConfig({
  test: {
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: [...OTHER_TIERS, ...PULUMI, ...LANGUAGE_HOST],
          setupFiles: GUARD,
          pool: "threads",
          isolate: false,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "unit-pulumi",
          include: PULUMI,
          exclude: [...OTHER_TIERS, ...LANGUAGE_HOST],
          setupFiles: [...GUARD, "test/support/shared-worker.ts"],
          globalSetup: PACKAGE_ONCE,
          isolate: false,
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "unit-isolated",
          include: LANGUAGE_HOST,
          exclude: OTHER_TIERS,
          setupFiles: GUARD,
          globalSetup: PACKAGE_ONCE,
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.integration.test.ts"],
          setupFiles: GUARD,
          testTimeout: 30_000,
        },
      },
      { test: { name: "process", include: ["test/**/*.process.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
      { test: { name: "e2e", include: ["test/**/*.e2e.test.ts"], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
});
