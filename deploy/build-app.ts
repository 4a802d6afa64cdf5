// Bundles the sample app for App Service: dist/app/server.js (one file, all dependencies inside), its static
// assets in dist/app/public/, and a minimal package.json whose start script App Service runs.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build, type Plugin } from "esbuild";

const ROOT = resolve(__dirname, "..");

/** Where the bundle goes; the e2e tests and `npm run app:start` use it. */
const APP_DIST = join(ROOT, "dist", "app");

/** How to bundle. The defaults are the development build `npm run app:build` has always made. */
export interface BuildAppOptions {
  /** Minify (whitespace, syntax and local names; function and class names are kept for stack traces). Default false. */
  readonly minify?: boolean;
  /** Write server.js.map next to server.js. Default true. */
  readonly sourcemap?: boolean;
  /** Folder holding `app/` and `contract/` (the sources), for building a copy. Default: this repository. */
  readonly sourceRoot?: string;
}

/** What a build produced. */
export interface AppBundle {
  /** Absolute path of server.js. */
  readonly outfile: string;
  /** Every file esbuild read, relative to the source root with `/` separators (including node_modules files). */
  readonly inputs: readonly string[];
}

/** server.ts's `import("./telemetry/start-telemetry.js")` becomes a run-time require of the sibling telemetry.js. */
const telemetryApart: Plugin = {
  name: "telemetry-apart",
  setup(esbuild) {
    esbuild.onResolve({ filter: /^\.\/telemetry\/start-telemetry(\.js)?$/ }, (args) =>
      args.importer.endsWith(join("app", "server.ts")) ? { path: "./telemetry.js", external: true } : undefined,
    );
  },
};

/** Builds dist/app from app/server.ts. Returns the path of server.js. */
export async function buildApp(outDir: string = APP_DIST, options: BuildAppOptions = {}): Promise<string> {
  return (await buildAppBundle(outDir, options)).outfile;
}

/** Builds the bundle into `outDir` (emptied first) and reports what it read. */
export async function buildAppBundle(outDir: string = APP_DIST, options: BuildAppOptions = {}): Promise<AppBundle> {
  const root = options.sourceRoot ?? ROOT;
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, "server.js");
  const result = await build({
    absWorkingDir: root,
    // Telemetry's SDK is a file of its own (telemetry.js), which server.js requires only when a connection string
    // turns telemetry on: an app with telemetry off neither parses nor evaluates it (app/telemetry/start-telemetry.ts).
    entryPoints: {
      server: join(root, "app", "server.ts"),
      telemetry: join(root, "app", "telemetry", "start-telemetry.ts"),
    },
    outdir: outDir,
    plugins: [telemetryApart],
    bundle: true,
    platform: "node",
    target: "node22",
    // CommonJS, like the rest of this package; __dirname then points at dist/app, next to public/.
    format: "cjs",
    sourcemap: options.sourcemap ?? true,
    minify: options.minify ?? false,
    keepNames: options.minify ?? false,
    // Third-party licence comments go to server.js.LEGAL.txt, which ships with the bundle.
    legalComments: "linked",
    metafile: true,
    logLevel: "warning",
  });
  cpSync(join(root, "app", "public"), join(outDir, "public"), { recursive: true });
  const manifest = {
    name: "secretless-entra-webapp-app",
    private: true,
    type: "commonjs",
    scripts: { start: "node server.js" },
    engines: { node: ">=22" },
  };
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return { outfile, inputs: Object.keys(result.metafile.inputs).sort() };
}

if (require.main === module) {
  buildApp().then(
    (outfile) => console.log(`built ${outfile}`),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
