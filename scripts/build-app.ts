// Bundles the sample app for App Service: dist/app/server.js (one file, all dependencies inside), its static
// assets in dist/app/public/, and a minimal package.json whose start script App Service runs.
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { build } from "esbuild";

const ROOT = resolve(__dirname, "..");

/** Where the bundle goes; the e2e tests and `npm run app:start` use it. */
const APP_DIST = join(ROOT, "dist", "app");

/** Builds dist/app from app/server.ts. Returns the path of server.js. */
export async function buildApp(outDir: string = APP_DIST): Promise<string> {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, "server.js");
  await build({
    entryPoints: [join(ROOT, "app", "server.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node22",
    // CommonJS, like the rest of this package; __dirname then points at dist/app, next to public/.
    format: "cjs",
    sourcemap: true,
    legalComments: "linked",
    logLevel: "warning",
  });
  cpSync(join(ROOT, "app", "public"), join(outDir, "public"), { recursive: true });
  const manifest = {
    name: "secretless-entra-webapp-app",
    private: true,
    type: "commonjs",
    scripts: { start: "node server.js" },
    engines: { node: ">=22" },
  };
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return outfile;
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
