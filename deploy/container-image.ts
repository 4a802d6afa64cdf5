/**
 * The container image of the sample app for Azure Container Apps, built without a Docker daemon (a deployer's laptop
 * or a CI runner may not have one) and deterministically, like the zip (`package-app.ts`).
 *
 * The image is a pinned Node 22 base image plus ONE layer made here: the same minified esbuild bundle the zip holds
 * (`server.js`, its licence notices, `package.json`, `public/…`) under `/app`. This file writes that layer as a
 * gzip'd tar and the image settings next to it (`dist/app-image/layer.tar.gz`, `dist/app-image/image.json`);
 * `push-image.ts` puts them on top of the base's layers in the registry and returns the image's digest, which the
 * container app runs.
 *
 * Deterministic: tar entries sorted by path (each folder before its contents), every mtime 0 (1970-01-01), uid/gid 0
 * with empty user/group names, mode 0755 for folders and 0644 for files (owned by root, so the app, running as uid
 * 1000, cannot change its own code), no pax/extended headers; gzip at level 9 with no name, mtime 0 and OS byte 255
 * ("unknown", what Go's compress/gzip writes, so the host OS does not leak in). The config's `created` is the epoch
 * too.
 * Same sources, same base → same layer digest, same config, same manifest digest (test/deploy/container-image.test.ts).
 * The uncompressed tar's digest (the config's diff_id) depends only on the files; the gzip bytes also depend on the
 * zlib that Node bundles, so a different Node build may compress the same tar differently (a new layer digest, the
 * same diff_id): the image then changes once, and stays put again.
 *
 * The base: Docker's official `node:22-bookworm-slim` (Debian 12, glibc, Node 22 LTS, maintained by the Node.js Docker
 * team; github.com/nodejs/docker-node), the most widely used Node base. Microsoft's Azure Linux distroless Node images
 * (mcr.microsoft.com/azurelinux/distroless/nodejs) are published for Node 20 and 24 only, and this project needs Node
 * 22 (scripts/require-node.cjs). Pinned by digest: a tag moves, a digest names exactly one set of bytes.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { buildAppBundle } from "./build-app";
import { sha256 } from "./cli";
import { cacheKey, fileDigest, listFiles, PACKAGE_BUILD_OPTIONS, writeAtomically } from "./package-app";
import { type AppImageSpec, parsePinnedReference, sha256Digest } from "./oci-image";

const ROOT = resolve(__dirname, "..");

/** The repository of the app's image in the registry (also where the base image is imported, untagged). */
export const APP_IMAGE_REPOSITORY = "secretless-signin";

/**
 * The default base: `node:22-bookworm-slim` on Docker Hub, pinned by the digest that public Dockerfiles pin for Node
 * v22.23.1 (Docker Hub could not be reached from the machine this was written on; `docker buildx imagetools inspect
 * node:22-bookworm-slim` or `crane digest` shows the current one). A wrong digest fails the deploy loudly: the
 * registry's import finds no such manifest. Override it with {@link BuildAppImageOptions.baseImage}.
 */
export const DEFAULT_BASE_IMAGE =
  "docker.io/library/node:22-bookworm-slim@sha256:53ada149d435c38b14476cb57e4a7da73c15595aba79bd6971b547ceb6d018bf";

/** The port the app listens on in the container (`PORT`), and the one the container app's ingress targets. */
export const APP_IMAGE_PORT = 8080;

/** Where the app's files go in the image, and the container's working directory. */
export const APP_IMAGE_WORKDIR = "/app";

/** uid:gid of the app's process: `node` in the official Node images, and not root anywhere. */
export const APP_IMAGE_USER = "1000:1000";

/** The fixed timestamp of every tar entry and of the config: the Unix epoch. */
export const IMAGE_EPOCH = "1970-01-01T00:00:00Z";

/** The environment variables deploy/push-image.ts reads; none of them is secret. */
export const PushImageEnv = {
  /** The registry's login server, from the registry resource (`loginServer`). */
  LoginServer: "REGISTRY_LOGIN_SERVER",
  /** {@link AppImage.repository}. */
  Repository: "IMAGE_REPOSITORY",
  /** {@link AppImage.baseImage}. */
  BaseImage: "BASE_IMAGE",
  /** {@link AppImage.layoutDir}. */
  LayoutDir: "IMAGE_LAYOUT_DIR",
  /** {@link AppImage.contentSha256}: the push refuses a layout that changed since. */
  ContentSha256: "IMAGE_CONTENT_SHA256",
  /** The registry's ARM resource ID, for the server-side import of the base. */
  RegistryId: "REGISTRY_ID",
  /** The cloud's Azure Resource Manager scope (`clouds[cloud].resourceManagerScope`), for that import. */
  ArmScope: "REGISTRY_ARM_SCOPE",
  /** Optional: the registry token's Entra audience (default `https://containerregistry.azure.net`). */
  Audience: "REGISTRY_AUDIENCE",
} as const;

/** Where the layer and the settings go, relative to the source root. */
export const APP_IMAGE_DIR = "dist/app-image";
export const LAYER_FILE = "layer.tar.gz";
export const SPEC_FILE = "image.json";

/** Bump when the layer layout or image.json changes in a way the inputs do not capture. */
const FORMAT = 1;
/** This builder's own code: a change to it rebuilds. */
const BUILDER_FILES = ["deploy/container-image.ts", "deploy/oci-image.ts"];

/** What `image.json` holds: what the app adds to the base, and the base it is meant for. */
export interface AppImageLayout extends AppImageSpec {
  readonly format: number;
  readonly baseImage: string;
  readonly repository: string;
}

/** The built app layer and settings, as the deploy step needs them. */
export interface AppImage {
  /** The registry repository to push to: {@link APP_IMAGE_REPOSITORY}. */
  readonly repository: string;
  /** The base image, pinned by digest. */
  readonly baseImage: string;
  /** Folder holding `layer.tar.gz` and `image.json`, relative to the source root, `/` separators. */
  readonly layoutDir: string;
  /** `sha256:…` of `layer.tar.gz` (the layer's digest in the manifest). */
  readonly layerDigest: string;
  /** `sha256:…` of the uncompressed tar (its diff_id in the config). */
  readonly layerDiffId: string;
  /** Size of `layer.tar.gz` in bytes. */
  readonly layerSize: number;
  /**
   * Lower-case hex sha256 of `image.json`, which names the base (by digest), the layer (by digest) and every setting:
   * it changes exactly when the pushed image would, so it is the deploy step's trigger.
   */
  readonly contentSha256: string;
  /** The tar's entries, in order (`app/`, `app/package.json`, …). */
  readonly entries: readonly string[];
  /** False when the layer from an earlier call was reused because none of its inputs changed. */
  readonly rebuilt: boolean;
}

export interface BuildAppImageOptions {
  /** Folder holding `app/`, `contract/`, `package-lock.json` and `dist/`. Default: this repository. */
  readonly sourceRoot?: string;
  /** The base image, `registry/repository[:tag]@sha256:…`. Default {@link DEFAULT_BASE_IMAGE}. */
  readonly baseImage?: string;
  /** Rebuild even when nothing changed. Default false. */
  readonly force?: boolean;
}

interface CacheRecord {
  readonly format: number;
  readonly inputsHash: string;
  readonly contentSha256: string;
  readonly layerSha256: string;
  readonly entries: readonly string[];
}

/** The settings the app layer runs with; `layer` filled in by the build. */
export function appImageSpec(layer: AppImageSpec["layer"], baseImage: string): AppImageLayout {
  return {
    format: FORMAT,
    baseImage,
    repository: APP_IMAGE_REPOSITORY,
    // `node server.js`, as the zip's start script: `node` is found on the base's PATH.
    entrypoint: ["node"],
    cmd: ["server.js"],
    workingDir: APP_IMAGE_WORKDIR,
    user: APP_IMAGE_USER,
    env: { NODE_ENV: "production", PORT: String(APP_IMAGE_PORT) },
    exposedPorts: [`${APP_IMAGE_PORT}/tcp`],
    labels: {
      "org.opencontainers.image.title": APP_IMAGE_REPOSITORY,
      "org.opencontainers.image.base.name": baseImage,
    },
    created: IMAGE_EPOCH,
    createdBy: `secretless: app layer (esbuild bundle of app/ in ${APP_IMAGE_WORKDIR})`,
    layer,
  };
}

/** Builds the app layer and settings, or returns the earlier ones when nothing they are made from has changed. */
export async function buildAppImage(options: BuildAppImageOptions = {}): Promise<AppImage> {
  const root = options.sourceRoot ?? ROOT;
  const baseImage = options.baseImage ?? DEFAULT_BASE_IMAGE;
  const parsed = parsePinnedReference(baseImage);
  if (typeof parsed === "string") throw new Error(`The container base image ${parsed}`);
  const dir = join(root, APP_IMAGE_DIR);
  const layerFile = join(dir, LAYER_FILE);
  const specFile = join(dir, SPEC_FILE);
  const cacheFile = join(dir, "inputs.json");
  const inputsHash = imageCacheKey(root, baseImage);

  if (!options.force) {
    const cached = readCache(cacheFile);
    if (cached && cached.inputsHash === inputsHash && existsSync(layerFile) && existsSync(specFile)) {
      const layer = readFileSync(layerFile);
      const spec = readFileSync(specFile);
      if (sha256(layer) === cached.layerSha256 && sha256(spec) === cached.contentSha256) {
        return describe(JSON.parse(spec.toString("utf8")) as AppImageLayout, cached, layer.length, false);
      }
    }
  }

  // One staging folder per process, as packageApp does: two previews may build at once.
  const stage = join(root, "dist", `app-image-${process.pid}`);
  let built: { tar: Buffer; entries: string[] };
  try {
    await buildAppBundle(stage, { ...PACKAGE_BUILD_OPTIONS, sourceRoot: root });
    built = await tarFolder(stage, "app");
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
  const { tar, entries } = built;
  const layer = gzipDeterministic(tar);
  const layout = appImageSpec(
    { digest: sha256Digest(layer), diffId: sha256Digest(tar), size: layer.length },
    baseImage,
  );
  const spec = Buffer.from(`${JSON.stringify(layout, null, 2)}\n`);
  const record: CacheRecord = {
    format: FORMAT,
    inputsHash,
    contentSha256: sha256(spec),
    layerSha256: sha256(layer),
    entries,
  };
  mkdirSync(dir, { recursive: true });
  writeAtomically(layerFile, layer);
  writeAtomically(specFile, spec);
  writeAtomically(cacheFile, Buffer.from(`${JSON.stringify(record, null, 2)}\n`));
  return describe(layout, record, layer.length, true);
}

function describe(layout: AppImageLayout, record: CacheRecord, size: number, rebuilt: boolean): AppImage {
  return {
    repository: layout.repository,
    baseImage: layout.baseImage,
    layoutDir: APP_IMAGE_DIR,
    layerDigest: layout.layer.digest,
    layerDiffId: layout.layer.diffId,
    layerSize: size,
    contentSha256: record.contentSha256,
    entries: record.entries,
    rebuilt,
  };
}

/**
 * A tar of everything under `dir`, stored under `prefix/`: folders first in each folder, names sorted by code unit,
 * fixed metadata (see the top of this file).
 */
export async function tarFolder(dir: string, prefix: string): Promise<{ tar: Buffer; entries: string[] }> {
  const files = listFiles(dir);
  const folders = new Set<string>([`${prefix}/`]);
  for (const file of files) {
    const parts = file.split("/");
    for (let i = 1; i < parts.length; i++) folders.add(`${prefix}/${parts.slice(0, i).join("/")}/`);
  }
  const names = [...folders, ...files.map((f) => `${prefix}/${f}`)].sort(compareTarPaths);
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolvePromise, reject) => {
    archive.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
    archive.on("end", () => resolvePromise());
    archive.on("error", reject);
  });
  const common = { mtime: new Date(0), uid: 0, gid: 0, uname: "", gname: "" };
  for (const name of names) {
    if (name.endsWith("/")) {
      archive.entry({ ...common, name, type: "directory", mode: 0o755 });
    } else {
      const content = readFileSync(join(dir, ...name.slice(prefix.length + 1).split("/")));
      archive.entry({ ...common, name, type: "file", mode: 0o644, size: content.length }, content);
    }
  }
  archive.finalize();
  await done;
  return { tar: Buffer.concat(chunks), entries: names };
}

/** Sorts paths so that each folder comes right before its contents: compare with "/" ordered before any character. */
function compareTarPaths(a: string, b: string): number {
  const key = (p: string) => p.replaceAll("/", "\u0000");
  const [x, y] = [key(a), key(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** gzip with no file name, mtime 0 and OS "unknown" (RFC 1952 §2.3.1), so the header is the same everywhere. */
export function gzipDeterministic(data: Buffer): Buffer {
  const gz = gzipSync(data, { level: 9 });
  gz.writeUInt32LE(0, 4);
  gz[9] = 0xff;
  return gz;
}

/** The build's inputs (the zip's: app/, contract/, the installed packages, the build options), the base, this code. */
function imageCacheKey(root: string, baseImage: string): string {
  const h = createHash("sha256");
  h.update(JSON.stringify({ format: FORMAT, baseImage, bundle: cacheKey(root) }));
  for (const file of BUILDER_FILES) h.update(`builder:${file}\0${fileDigest(join(ROOT, file))}\n`);
  return h.digest("hex");
}

function readCache(path: string): CacheRecord | undefined {
  try {
    const record = JSON.parse(readFileSync(path, "utf8")) as CacheRecord;
    return record.format === FORMAT && typeof record.inputsHash === "string" ? record : undefined;
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  buildAppImage({ force: process.argv.includes("--force") }).then(
    (image) =>
      console.log(
        `${image.rebuilt ? "built" : "reused"} ${image.layoutDir}/${LAYER_FILE} (${image.layerSize} bytes, ` +
          `${image.layerDigest}) for ${image.baseImage}; content sha256 ${image.contentSha256}`,
      ),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
