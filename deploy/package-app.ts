/**
 * `npm run app:package`: builds the sample app (minified, as `npm run app:build` does) and writes `dist/app.zip` and
 * `dist/app.zip.sha256`, the package the deploy step pushes with OneDeploy.
 *
 * The zip is reproducible: entries sorted by name, every entry dated 2000-01-01 00:00 (DOS time, no extended
 * timestamp, so the machine's time zone does not leak in), mode 0644, relative `/` paths only. Two builds of the same
 * sources give the same bytes; a source change that changes the bundle gives a different hash. It holds `server.js`,
 * `server.js.LEGAL.txt` (the bundled packages' licence notices), `package.json` and `public/…`, and nothing from
 * node_modules: esbuild has already inlined every dependency. No source map: the start command is `node server.js`
 * without `--enable-source-maps`, so a map would only add size; names are kept in the minified code, so stack traces
 * in the App Service log still name functions.
 *
 * `packageApp()` is what the Pulumi program calls on every preview, so it skips the build when nothing it depends on
 * has changed. What it depends on is derived from the sources on every call, never read from the cache: every file
 * under `app/` and `contract/` (the only source folders the bundle may read; a build that reads anything else outside
 * node_modules is not cached), the lockfile and npm's record of what is installed (`node_modules/.package-lock.json`),
 * the build options, esbuild's version and this packager's own code. The cache record next to the zip holds only that
 * key and the zip's sha256, so a planted `dist/app.zip.inputs.json` cannot tell the packager which files matter: any
 * edit under `app/` or `contract/` rebuilds. (A hand edit inside node_modules is not noticed: `--force`.) Deploying a
 * package from a `dist/` that git tracks is refused by `one-deploy.ts`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { version as esbuildVersion } from "esbuild";
import { ZipFile } from "yazl";
import { type BuildAppOptions, buildAppBundle } from "./build-app";
import { sha256 } from "./cli";

const ROOT = resolve(__dirname, "..");

/** The package, as the deploy step needs it. */
export interface AppPackage {
  /** Path of the zip relative to the source root, with `/` separators: `dist/app.zip`. */
  readonly zipPath: string;
  /** Lower-case hex sha256 of the zip's bytes. */
  readonly sha256: string;
  /** Size of the zip in bytes. */
  readonly bytes: number;
  /** The zip's entry names, in the order they are stored (sorted). */
  readonly entries: readonly string[];
}

/** Where the package goes, relative to the source root. */
export const APP_ZIP_PATH = "dist/app.zip";

/** The build options of the deployed bundle; part of the cache key. */
export const PACKAGE_BUILD_OPTIONS: Required<Omit<BuildAppOptions, "sourceRoot">> = { minify: true, sourcemap: false };

/**
 * Every entry's timestamp, 2000-01-01 00:00. yazl stores DOS time from the Date's *local* fields, so the Date is built
 * from local fields at each call: the stored date is then the same in any time zone. (Not the DOS epoch 1980-01-01:
 * yazl clamps earlier instants to its own 1980 Date, which would shift the fields in zones east of the one it loaded
 * in.)
 */
const entryMtime = (): Date => new Date(2000, 0, 1, 0, 0, 0);
/** A regular file, rw-r--r--. */
const ENTRY_MODE = 0o100644;
/** An executable regular file, rwxr-xr-x (a package of your own may start a program or script of its own). */
const EXECUTABLE_MODE = 0o100755;
/** The code that makes the package; a change to it invalidates the cache. */
const PACKAGER_FILES = ["deploy/package-app.ts", "deploy/build-app.ts"];
/** Bump when the zip layout or the cache record changes in a way the inputs below do not capture. */
const FORMAT = 3;

export interface PackageAppOptions {
  /** Folder holding `app/`, `contract/`, `package-lock.json` and `dist/`. Default: this repository. */
  readonly sourceRoot?: string;
  /** Rebuild even when the inputs are unchanged. Default false. */
  readonly force?: boolean;
}

/** The result of {@link packageApp}: the package and whether this call built it. */
export interface PackageResult extends AppPackage {
  /** False when the zip from an earlier call was reused because none of its inputs changed. */
  readonly rebuilt: boolean;
}

/** What is remembered between calls, next to the zip. It never says which files matter: that is derived each call. */
interface CacheRecord {
  readonly format: number;
  readonly inputsHash: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly entries: readonly string[];
}

/** Builds and zips the app, or returns the existing zip when nothing it is made from has changed. */
export async function packageApp(options: PackageAppOptions = {}): Promise<PackageResult> {
  const root = options.sourceRoot ?? ROOT;
  const zipFile = join(root, APP_ZIP_PATH);
  const cacheFile = `${zipFile}.inputs.json`;
  if (!options.force) {
    const cached = readCache(cacheFile);
    if (cached && existsSync(zipFile) && cached.inputsHash === cacheKey(root)) {
      const zip = readFileSync(zipFile);
      if (sha256(zip) === cached.sha256) {
        return {
          zipPath: APP_ZIP_PATH,
          sha256: cached.sha256,
          bytes: zip.length,
          entries: cached.entries,
          rebuilt: false,
        };
      }
    }
  }

  // One staging folder per process: the program packages on every preview, so two runs (two terminals, parallel
  // tests) may build at once; each stages alone, and the renames below leave the same bytes whichever lands last.
  const stage = join(root, "dist", `app-package-${process.pid}`);
  const bundle = await buildAppBundle(stage, { ...PACKAGE_BUILD_OPTIONS, sourceRoot: root });
  const files = listFiles(stage);
  const zip = await zipFiles(stage, files);
  const digest = sha256(zip);

  mkdirSync(dirname(zipFile), { recursive: true });
  writeAtomically(zipFile, zip);
  writeAtomically(`${zipFile}.sha256`, Buffer.from(`${digest}  app.zip\n`));
  // The key covers app/, contract/ and the installed packages; a bundle that read anything else is never reused.
  // (A linked node_modules resolves to its real path, outside the root: any path through node_modules counts.)
  const uncovered = bundle.inputs.filter((f) => !/^(app|contract)\//.test(f) && !/(^|\/)node_modules\//.test(f));
  if (uncovered.length === 0) {
    const record: CacheRecord = {
      format: FORMAT,
      inputsHash: cacheKey(root),
      sha256: digest,
      bytes: zip.length,
      entries: files,
    };
    writeAtomically(cacheFile, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  } else {
    rmSync(cacheFile, { force: true });
  }
  rmSync(stage, { recursive: true, force: true });
  return { zipPath: APP_ZIP_PATH, sha256: digest, bytes: zip.length, entries: files, rebuilt: true };
}

/**
 * Zips `files` (relative `/` paths under `dir`, already sorted) with fixed metadata: every entry 0644, or 0755 where
 * `executable` says so (the sample has no executable; a folder of your own keeps its files' execute bit).
 */
export function zipFiles(
  dir: string,
  files: readonly string[],
  executable: (name: string) => boolean = () => false,
): Promise<Buffer> {
  const zip = new ZipFile();
  const mtime = entryMtime();
  for (const name of files) {
    zip.addBuffer(readFileSync(join(dir, ...name.split("/"))), name, {
      mtime,
      mode: executable(name) ? EXECUTABLE_MODE : ENTRY_MODE,
      forceDosTimestamp: true,
      compressionLevel: 9,
    });
  }
  zip.end();
  return new Promise((resolvePromise, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on("data", (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on("error", reject);
    zip.outputStream.on("end", () => resolvePromise(Buffer.concat(chunks)));
  });
}

/** Every file under `dir`, as relative `/` paths, sorted by code unit (the order the zip stores them in). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(relative(dir, full).split(sep).join("/"));
    }
  };
  walk(dir);
  return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The files git tracks in `dir` (the package's folder), or [] when `dir` is in no git checkout or git is missing.
 * `dist/` is ignored build output: a tracked zip or cache record is a commit planting what the next deploy pushes.
 */
export function trackedFilesIn(dir: string): string[] {
  try {
    const out = execFileSync("git", ["-C", dir, "ls-files", "-z", "--", "."], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return out.split("\0").filter(Boolean);
  } catch {
    return [];
  }
}

/**
 * One hash over everything the zip can be made from, listed from the tree on every call: each file under `app/` and
 * `contract/` but Markdown (new and deleted files change the list), the lockfile, npm's record of the installed
 * packages, the options, esbuild's version and this packager's own code. A missing file hashes as missing.
 */
export function cacheKey(root: string): string {
  // Documentation is never bundled: a README edit does not rebuild.
  const sources = ["app", "contract"].flatMap((dir) =>
    existsSync(join(root, dir))
      ? listFiles(join(root, dir))
          .filter((f) => !f.endsWith(".md"))
          .map((f) => `${dir}/${f}`)
      : [],
  );
  const files = [...sources, "package-lock.json", "node_modules/.package-lock.json"].sort();
  const h = createHash("sha256");
  h.update(JSON.stringify({ format: FORMAT, options: PACKAGE_BUILD_OPTIONS, esbuild: esbuildVersion }));
  for (const file of files) h.update(`${file}\0${fileDigest(join(root, ...file.split("/")))}\n`);
  // The packager itself lives in this repository, also when it packages a copy of the sources elsewhere.
  for (const file of PACKAGER_FILES) h.update(`packager:${file}\0${fileDigest(join(ROOT, file))}\n`);
  return h.digest("hex");
}

/** The sha256 of a file, or "missing". */
export function fileDigest(path: string): string {
  try {
    return sha256(readFileSync(path));
  } catch {
    return "missing";
  }
}

function readCache(path: string): CacheRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as CacheRecord;
    const valid =
      record.format === FORMAT && typeof record.inputsHash === "string" && typeof record.sha256 === "string";
    return valid ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Writes via a temporary file and a rename, so an interrupted run never leaves a half-written zip behind. */
export function writeAtomically(path: string, data: Buffer): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, data);
  renameSync(temporary, path);
}

if (require.main === module) {
  packageApp({ force: process.argv.includes("--force") }).then(
    (pkg) => {
      const verb = pkg.rebuilt ? "wrote" : "unchanged:";
      console.log(`${verb} ${pkg.zipPath} (${pkg.bytes} bytes, sha256 ${pkg.sha256}, ${pkg.entries.length} entries)`);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
