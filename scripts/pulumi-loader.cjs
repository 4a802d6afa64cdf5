/**
 * How `pulumi up` loads this TypeScript program: Pulumi.yaml sets `typescript: false` (no ts-node) and
 * `nodeargs: --require ./scripts/pulumi-loader.cjs`, so the Node language host starts node with this file first.
 *
 * - Each `.ts` file of the program is compiled as it is required, by esbuild (already a dependency), with this
 *   project's tsconfig and without type-checking: `npm test` type-checks. Registering the `.ts` extension is also
 *   what lets CommonJS resolve the program's extension-less imports (`./components`).
 * - Node's compile cache keeps V8's compiled code of every module between runs (@pulumi/pulumi loads TypeScript's
 *   9 MB compiler), in node_modules/.cache, so `npm ci` starts it afresh.
 * - Nothing else is hooked: the packages in node_modules load as node loads them, and source maps stay off unless
 *   you ask for them (`NODE_OPTIONS=--enable-source-maps pulumi up`): the maps are inline.
 *
 * tsx and esbuild-register do the same and more, and cost 2-3x as much per run; ts-node type-checks the whole
 * program on every cold run (figures in bench/RESULTS.md).
 */
"use strict";
const { readFileSync } = require("node:fs");
const Module = require("node:module");
const { join } = require("node:path");
const { transformSync } = require("esbuild");

const ROOT = join(__dirname, "..");
Module.enableCompileCache?.(join(ROOT, "node_modules", ".cache", "node-compile-cache"));
const tsconfigRaw = readFileSync(join(ROOT, "tsconfig.json"), "utf8");

Module._extensions[".ts"] = function compileTypeScript(module, filename) {
  const { code } = transformSync(readFileSync(filename, "utf8"), {
    loader: "ts",
    format: "cjs",
    target: "node22",
    platform: "node",
    sourcefile: filename,
    sourcemap: "inline",
    tsconfigRaw,
  });
  module._compile(code, filename);
};
