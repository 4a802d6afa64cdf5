/**
 * A package of your own (`appPackagePath`): a zip you built, or a folder this zips. Either must lie inside the project
 * folder (where Pulumi.yaml is and where the deploy step runs), so the path the stack records is the same on every
 * machine and in CI, and nothing outside the checkout is pushed to the site by a typo or a symbolic link.
 *
 * A folder is zipped the way the sample app is (deploy/package-app.ts `zipFiles`): entries sorted, every one dated
 * 2000-01-01 00:00 with mode 0644 (0755 for a file with an execute bit), so the same files give the same bytes and
 * the same sha256, and the deploy step re-runs exactly when a file changes. The zip goes to
 * `dist/own-app/<folder path with "-" for "/">.zip`.
 *
 * Before anything registers, {@link ownAppPackageProblem} refuses what cannot work or must not ship: a missing path,
 * an empty zip or folder, a zip that is not one, entries that climb out of wwwroot (`../`, absolute), symbolic links,
 * a `.git` folder, and files that hold credentials (a private key, a `.pfx`, a publish profile, a `.env`, an
 * `appsettings*.json` with a client secret): the site runs with a managed identity, and a package is not a secret
 * store.
 */
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { sha256 } from "./cli";
import { zipFiles } from "./package-app";
import { ZipReadError, readZipEntry, zipEntries } from "./zip-entries";

/** The project folder: where Pulumi.yaml is and where Pulumi runs the deploy step. */
export const PROJECT_ROOT = resolve(__dirname, "..");

/** Where a folder's zip goes, relative to the project folder. */
export const OWN_APP_ZIP_DIR = "dist/own-app";

/**
 * The largest zip OneDeploy takes: "A package size limit of 2048 MB"
 * (learn.microsoft.com/azure/app-service/deploy-zip#deploy-a-zip-package).
 */
export const MAX_PACKAGE_BYTES = 2048 * 1024 * 1024;

/** A path the deploy step accepts (components/app-deployment.ts): relative, `/`-separated, plain characters. */
const PATH_CHARACTERS = /^[A-Za-z0-9._/-]+$/;

/** The package, as the deploy step needs it (the shape of deploy/package-app.ts's `AppPackage`). */
export interface OwnAppPackage {
  /** The zip, relative to the project folder, `/`-separated. */
  readonly zipPath: string;
  readonly sha256: string;
  readonly bytes: number;
  /** The files the zip holds, in stored order. */
  readonly entries: readonly string[];
}

/** Names (lower-cased) of files that are credentials whatever they hold. */
const CREDENTIAL_FILE_NAMES = [".git-credentials", "id_rsa", "id_ecdsa", "id_ed25519", ".netrc", ".pgpass"];
/** Extensions (lower-cased) of files that are credentials whatever they hold. */
const CREDENTIAL_EXTENSIONS = [".pfx", ".p12", ".publishsettings", ".jks", ".keystore", ".snk"];
/** `.env` files that document the variables rather than hold them. */
const ENV_EXAMPLES = [".env.example", ".env.sample", ".env.template"];
/** Configuration files an app reads its Entra settings from. */
const SETTINGS_FILE = /^(appsettings(\.[\w-]+)?\.json|local\.settings\.json|web\.config)$/i;
/** A client secret or a certificate password in such a file (JSON `"Key": "value"` or XML `key="…" value="…"`). */
const SECRET_IN_SETTINGS = new RegExp(
  [
    String.raw`"(ClientSecret|CertificatePassword|ClientCertificatePassword)"\s*:\s*"[^"\s]+"`,
    String.raw`"SourceType"\s*:\s*"ClientSecret"`,
    String.raw`key="[^"]*ClientSecret"\s+value="[^"]+"`,
  ].join("|"),
  "i",
);
const PRIVATE_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Why a file of the package must not ship, from its name and (for small config files) its content; else undefined. */
export function credentialFileProblem(path: string, read: () => Buffer): string | undefined {
  const name = (path.split("/").at(-1) ?? "").toLowerCase();
  const extension = name.includes(".") ? name.slice(name.lastIndexOf(".")) : "";
  if (CREDENTIAL_FILE_NAMES.includes(name) || CREDENTIAL_EXTENSIONS.includes(extension)) {
    return `${path} is a credential file`;
  }
  if ((name === ".env" || name.startsWith(".env.")) && !ENV_EXAMPLES.includes(name)) {
    return `${path} is an environment file, which holds secrets by convention`;
  }
  if ([".pem", ".key"].includes(extension) && PRIVATE_KEY.test(read().toString("latin1"))) {
    return `${path} holds a private key`;
  }
  if (SETTINGS_FILE.test(name) && SECRET_IN_SETTINGS.test(read().toString("utf8"))) {
    return `${path} holds a client secret or certificate password`;
  }
  return undefined;
}

const CREDENTIAL_FIX =
  "Leave it out of the package: the site signs in with its managed identity through the federated credential " +
  "(AzureAd__ClientCredentials__0__*), and a secret in a package ends up in every copy of it.";

/** Where `path` (relative to `root`) points, or the problem with the path itself. */
function locate(path: string, root: string): { full: string } | { problem: string } {
  const relativeFix = 'use a path relative to the project folder, inside it, e.g. "publish" or "dist/site.zip"';
  if (path.startsWith("/") || /^[A-Za-z]:/.test(path) || path.includes("\\")) {
    return { problem: `"${path}" is not a relative path; ${relativeFix}.` };
  }
  if (path.split("/").includes("..")) return { problem: `"${path}" climbs out of the project folder; ${relativeFix}.` };
  if (!PATH_CHARACTERS.test(path)) {
    return { problem: `"${path}" may hold only letters, digits, ".", "_", "-" and "/"; rename the folder or zip.` };
  }
  const full = resolve(root, path);
  let real: string;
  try {
    real = realpathSync(full);
  } catch {
    return { problem: `"${path}" does not exist (looked for ${full}); build the app first, or fix the path.` };
  }
  const realRoot = realpathSync(root);
  if (real !== realRoot && !real.startsWith(realRoot + sep)) {
    return {
      problem: `"${path}" leads outside the project folder (to ${real}) through a symbolic link; ${relativeFix}.`,
    };
  }
  return { full: real };
}

/**
 * Why `path` cannot be deployed as a package of your own, or undefined: the message names the value, what is wrong and
 * the fix (the caller names the key). Reads the zip or walks the folder; writes nothing.
 */
export function ownAppPackageProblem(path: string, root = PROJECT_ROOT): string | undefined {
  const place = locate(path, root);
  if ("problem" in place) return place.problem;
  const stat = lstatSync(place.full);
  if (stat.isDirectory()) return folderProblem(path, place.full);
  if (!path.toLowerCase().endsWith(".zip")) {
    return `"${path}" is a file but not a .zip; point at the zip of your built app, or at the folder to zip.`;
  }
  if (stat.size > MAX_PACKAGE_BYTES) {
    return `"${path}" is ${Math.ceil(stat.size / 1024 / 1024)} MB; OneDeploy takes at most 2048 MB.`;
  }
  return zipProblem(path, readFileSync(place.full));
}

function zipProblem(path: string, zip: Buffer): string | undefined {
  let entries: ReturnType<typeof zipEntries>;
  try {
    entries = zipEntries(zip);
  } catch (error) {
    if (error instanceof ZipReadError) return `"${path}" is not a zip App Service can take: ${error.message}.`;
    throw error;
  }
  const files = entries.filter((e) => !e.directory);
  if (files.length === 0) {
    return `"${path}" holds no files, so the site would have nothing to start; zip the app's build output.`;
  }
  for (const entry of entries) {
    const segments = entry.name.split("/");
    if (
      entry.name.startsWith("/") ||
      entry.name.includes("\\") ||
      segments.includes("..") ||
      /^[A-Za-z]:/.test(entry.name)
    ) {
      return (
        `"${path}" holds ${JSON.stringify(entry.name)}, a path outside the folder it is unpacked into; ` +
        "zip the build output with paths relative to its root."
      );
    }
    if (entry.symlink) {
      return `"${path}" holds ${entry.name}, a symbolic link; App Service packages hold regular files, so replace it.`;
    }
    if (segments.includes(".git")) {
      return `"${path}" holds ${entry.name}, part of a git repository; zip the build output, not the checkout.`;
    }
    if (entry.directory) continue;
    const small = () => (entry.uncompressedSize <= 1024 * 1024 ? readZipEntry(zip, entry) : Buffer.alloc(0));
    let credential: string | undefined;
    try {
      credential = credentialFileProblem(entry.name, small);
    } catch (error) {
      // A damaged or lying entry (a method it cannot read, more bytes than its header declares): not a package.
      const reason = error instanceof Error ? error.message : String(error);
      return `"${path}" holds ${entry.name}, which cannot be read (${reason.slice(0, 120)}); rebuild the zip.`;
    }
    if (credential) return `"${path}": ${credential}. ${CREDENTIAL_FIX}`;
  }
  return undefined;
}

function folderProblem(path: string, full: string): string | undefined {
  const found = walk(full);
  if ("problem" in found) return `"${path}" ${found.problem}`;
  if (found.files.length === 0) {
    return `"${path}" holds no files, so the site would have nothing to start; point at the app's build output.`;
  }
  for (const file of found.files) {
    const small = () => {
      const at = join(full, ...file.split("/"));
      return lstatSync(at).size <= 1024 * 1024 ? readFileSync(at) : Buffer.alloc(0);
    };
    const credential = credentialFileProblem(file, small);
    if (credential) return `"${path}": ${credential}. ${CREDENTIAL_FIX}`;
  }
  return undefined;
}

/** Every regular file under `dir`, as sorted relative `/` paths; or what in it cannot be packaged. */
function walk(dir: string): { files: string[] } | { problem: string } {
  const files: string[] = [];
  const visit = (current: string): string | undefined => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      const rel = relative(dir, full).split(sep).join("/");
      if (entry.isSymbolicLink()) {
        return `holds ${rel}, a symbolic link; App Service packages hold regular files, so copy what it points to.`;
      }
      if (entry.isDirectory()) {
        if (entry.name === ".git")
          return `holds ${rel}/, a git repository; point at the build output, not the checkout.`;
        const problem = visit(full);
        if (problem) return problem;
      } else if (entry.isFile()) files.push(rel);
      else return `holds ${rel}, which is not a regular file (a socket, device or pipe).`;
    }
    return undefined;
  };
  const problem = visit(dir);
  if (problem) return { problem };
  return { files: files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) };
}

/** Where the zip of folder `path` goes, relative to the project folder. */
export function folderZipPath(path: string): string {
  const name = path.replace(/\/+$/, "").replace(/^\.\//, "").split("/").filter(Boolean).join("-") || "root";
  return `${OWN_APP_ZIP_DIR}/${name}.zip`;
}

/**
 * The package of your own at `path` (relative to `root`): the zip as it is, or the folder zipped reproducibly into
 * `dist/own-app/`. Throws with the same message as {@link ownAppPackageProblem} when it cannot be deployed.
 */
export async function packageOwnApp(path: string, root = PROJECT_ROOT): Promise<OwnAppPackage> {
  const problem = ownAppPackageProblem(path, root);
  if (problem) throw new Error(`appPackagePath ${problem}`);
  const full = resolve(root, path);
  if (!lstatSync(realpathSync(full)).isDirectory()) {
    const zip = readFileSync(full);
    const entries = zipEntries(zip)
      .filter((e) => !e.directory)
      .map((e) => e.name);
    return { zipPath: path, sha256: sha256(zip), bytes: zip.length, entries };
  }
  const found = walk(realpathSync(full));
  if ("problem" in found) throw new Error(`appPackagePath "${path}" ${found.problem}`);
  const folder = realpathSync(full);
  // The execute bit is kept (a start script or a self-contained app host must stay runnable); nothing else of the
  // file's metadata is, so the same files give the same bytes.
  const zip = await zipFiles(
    folder,
    found.files,
    (name) => (lstatSync(join(folder, ...name.split("/"))).mode & 0o111) !== 0,
  );
  const zipPath = folderZipPath(path);
  const target = join(root, ...zipPath.split("/"));
  mkdirSync(dirname(target), { recursive: true });
  // Via a temporary file and a rename: an interrupted run never leaves half a zip, and two runs leave the same bytes.
  const temporary = `${target}.${process.pid}.${createHash("sha256").update(zip).digest("hex").slice(0, 8)}.tmp`;
  writeFileSync(temporary, zip);
  renameSync(temporary, target);
  return { zipPath, sha256: sha256(zip), bytes: zip.length, entries: found.files };
}
