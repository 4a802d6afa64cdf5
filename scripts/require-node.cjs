// Preflight for every npm script: stops at once, on any Node version, when this Node is too old for the project,
// saying which version was found, which is needed and how to get it. Without it, Node 20 fails deep inside vitest
// ("Map.groupBy is not a function") and hides the real cause: the emulator's tests call
// tls.setDefaultCACertificates, which Node added in 22.19.0 and 24.5.0.
//
//   node scripts/require-node.cjs                   checks the Node running it (exit 1 when too old)
//   node scripts/require-node.cjs --built <file>    also requires a built file, e.g. dist/app/server.js
//
// Run by an npm script, it also stops when `npm ci` has not run (naming it), and for `npm run dev` / `npm run
// app:start` when PORT is not a TCP port (naming PORT).
//
// Plain CommonJS with no dependencies and no syntax newer than Node 8, so it runs (and explains) where the rest of
// the project cannot, including before `npm ci`. package.json's `engines.node` is SUPPORTED written as a range; a
// test keeps the two in step.
"use strict";

/** The supported release lines and the first release of each with every API the project uses. */
var SUPPORTED = [
  { major: 22, minor: 19, patch: 0 },
  { major: 24, minor: 5, patch: 0 },
  // Node 25 is not supported by vitest; 26 and later are.
  { major: 26, minor: 0, patch: 0, later: true },
];

/** SUPPORTED as an npm semver range: "^22.19.0 || ^24.5.0 || >=26.0.0". */
var RANGE = SUPPORTED.map((s) => (s.later ? ">=" : "^") + s.major + "." + s.minor + "." + s.patch).join(" || ");

/** Whether a version string such as "22.19.0" or "v20.19.2" is supported. */
function isSupported(version) {
  var parts = String(version).replace(/^v/, "").split(".").map(Number);
  var major = parts[0],
    minor = parts[1] || 0,
    patch = parts[2] || 0;
  return SUPPORTED.some((s) => {
    if (s.later ? major < s.major : major !== s.major) return false;
    if (major > s.major) return true;
    return minor > s.minor || (minor === s.minor && patch >= s.patch);
  });
}

/** The message for an unsupported version: found, needed, how to get it. */
function tooOldMessage(version) {
  return [
    "This project needs Node.js " + RANGE + " (Node 22 LTS from 22.19, or 24 from 24.5); this is Node " + version + ".",
    "Get Node 22 LTS from https://nodejs.org/en/download, or with a version manager:",
    "  nvm install 22 && nvm use 22        (nvm reads .nvmrc: `nvm use` in this folder)",
    "  fnm install 22 && fnm use 22",
    "then run `node --version` to check, and `npm ci` again if you installed the dependencies with another Node.",
  ].join("\n");
}

/**
 * What `npm ci` installs that the npm scripts run, missing from `root`: the message naming the fix, or undefined.
 * Without it, a script fails with "Cannot find module 'esbuild'" or "tsx: not found".
 */
function missingDependencies(root) {
  var fs = require("node:fs");
  var path = require("node:path");
  var needed = [
    "node_modules/esbuild/package.json",
    "node_modules/.bin/tsx",
    "node_modules/.bin/vitest",
    "node_modules/.bin/tsc",
  ];
  var missing = needed.filter((file) => !fs.existsSync(path.join(root, file)));
  if (missing.length === 0) return undefined;
  return (
    "The project's dependencies are not installed (missing " +
    missing.join(", ") +
    ").\n" +
    "Run `npm ci` in " +
    root +
    " (it installs exactly what package-lock.json lists), then run the command again."
  );
}

/** A PORT the app cannot listen on, named with the fix, or undefined (PORT unset is fine: the default is used). */
function portProblem(env) {
  if (env.PORT === undefined || env.PORT === "") return undefined;
  var port = env.PORT;
  if (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535) return undefined;
  return (
    "PORT=" +
    JSON.stringify(String(port).slice(0, 40)) +
    " is not a TCP port: set PORT to a " +
    "whole number from 1 to 65535 " +
    "(e.g. PORT=3000 npm run dev), or unset it for the default."
  );
}

module.exports = {
  SUPPORTED: SUPPORTED,
  RANGE: RANGE,
  isSupported: isSupported,
  tooOldMessage: tooOldMessage,
  missingDependencies: missingDependencies,
  portProblem: portProblem,
};

if (require.main === module) {
  if (!isSupported(process.versions.node)) {
    console.error(tooOldMessage("v" + process.versions.node));
    process.exit(1);
  }
  // Run by an npm script (not by .ci/run before `npm ci`): the dependencies must be there.
  if (process.env.npm_lifecycle_event) {
    var missing = missingDependencies(require("node:path").resolve(__dirname, ".."));
    if (missing) {
      console.error(missing);
      process.exit(1);
    }
  }
  // The scripts that start the app read PORT.
  if (process.env.npm_lifecycle_event === "dev" || process.env.npm_lifecycle_event === "app:start") {
    var bad = portProblem(process.env);
    if (bad) {
      console.error(bad);
      process.exit(1);
    }
  }
  var built = process.argv.indexOf("--built");
  if (built !== -1) {
    var file = process.argv[built + 1];
    if (!require("node:fs").existsSync(require("node:path").resolve(__dirname, "..", file))) {
      console.error(file + " does not exist yet: run `npm run app:build` first (it bundles the app into dist/app/).");
      process.exit(1);
    }
  }
}
