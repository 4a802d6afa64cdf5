/**
 * The OCI / Docker image formats the container image is made of, as plain data: media types, image references pinned
 * by digest, and {@link composeImage}, which stacks the app layer on a base image and returns the exact bytes of the
 * new config and manifest. No I/O: `container-image.ts` builds the layer, `push-image.ts` reads the base from the
 * registry and pushes what this file composes.
 *
 * Formats: OCI image spec v1.1 (opencontainers/image-spec `manifest.md`, `config.md`, `image-index.md`) and the Docker
 * Image Manifest V2 Schema 2 it grew from (distribution/distribution `docs/spec/manifest-v2-2.md`). A base published
 * in one format gets an image in the same format (its layers keep their media types), as crane and ko do.
 */
import { createHash } from "node:crypto";

export const MediaType = {
  OciManifest: "application/vnd.oci.image.manifest.v1+json",
  OciIndex: "application/vnd.oci.image.index.v1+json",
  OciConfig: "application/vnd.oci.image.config.v1+json",
  OciLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  DockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  DockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
  DockerConfig: "application/vnd.docker.container.image.v1+json",
  DockerLayerGzip: "application/vnd.docker.image.rootfs.diff.tar.gzip",
} as const;

/** A content descriptor (image-spec `descriptor.md`). */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly platform?: { readonly os?: string; readonly architecture?: string; readonly variant?: string };
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image manifest (OCI or Docker schema 2). */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly config: Descriptor;
  readonly layers: readonly Descriptor[];
  readonly annotations?: Readonly<Record<string, string>>;
}

/** An image index / manifest list. */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly manifests: readonly Descriptor[];
}

/** The parts of an image config this project reads or writes (image-spec `config.md`); the rest passes through. */
export interface ImageConfig {
  readonly architecture?: string;
  readonly os?: string;
  readonly created?: string;
  readonly config?: {
    readonly User?: string;
    readonly Env?: readonly string[];
    readonly Entrypoint?: readonly string[] | null;
    readonly Cmd?: readonly string[] | null;
    readonly WorkingDir?: string;
    readonly ExposedPorts?: Readonly<Record<string, object>>;
    readonly Labels?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
  };
  readonly rootfs?: { readonly type: string; readonly diff_ids: readonly string[] };
  readonly history?: readonly Record<string, unknown>[];
  readonly [key: string]: unknown;
}

/** What the app layer adds to its base: the runtime settings and the layer itself. Written by the build. */
export interface AppImageSpec {
  /** The process the container starts: Entrypoint + Cmd. */
  readonly entrypoint: readonly string[];
  readonly cmd: readonly string[];
  readonly workingDir: string;
  /** `uid:gid`, numeric, never root. */
  readonly user: string;
  /** Added to (or replacing by name in) the base's Env. */
  readonly env: Readonly<Record<string, string>>;
  /** e.g. `8080/tcp`. */
  readonly exposedPorts: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /** RFC 3339; fixed, so the config is the same on every build. */
  readonly created: string;
  /** What the history entry of the app layer says. */
  readonly createdBy: string;
  readonly layer: {
    /** `sha256:` of the gzip blob. */
    readonly digest: string;
    /** `sha256:` of the uncompressed tar (the config's `rootfs.diff_ids` entry). */
    readonly diffId: string;
    readonly size: number;
  };
}

/** A blob ready to push. */
export interface Blob {
  readonly digest: string;
  readonly bytes: Buffer;
}

/** The new image: its config and manifest, byte for byte, and the manifest's digest (the image's identity). */
export interface ComposedImage {
  readonly config: Blob & { readonly mediaType: string };
  readonly manifest: Blob & { readonly mediaType: string };
  /** The layer blob to push with it (descriptor only; the bytes come from the build). */
  readonly appLayer: Descriptor;
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function isDigest(value: unknown): value is string {
  return typeof value === "string" && DIGEST.test(value);
}

/** An image reference pinned by digest: `registry/repository[:tag]@sha256:…`. */
export interface PinnedReference {
  readonly registry: string;
  readonly repository: string;
  readonly tag?: string;
  readonly digest: string;
}

const REPOSITORY = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const REGISTRY = /^(?:localhost|[a-z0-9-]+(?:\.[a-z0-9-]+)+)(?::\d{1,5})?$/i;

/** Why `name` is not a repository name (distribution's reference grammar), or undefined when it is one. */
export function repositoryProblem(name: string): string | undefined {
  return typeof name === "string" && name.length <= 255 && REPOSITORY.test(name)
    ? undefined
    : `must be a repository name such as secretless-signin (lower-case letters, digits, ., _, - and /), got ` +
        JSON.stringify(String(name).slice(0, 100));
}

/**
 * Parses `registry/repository[:tag]@sha256:<64 hex>`; the registry part is required (no implicit Docker Hub) and so
 * is the digest: a tag alone is mutable, so an image named by tag would not say what it runs.
 */
export function parsePinnedReference(reference: string): PinnedReference | string {
  const text = String(reference ?? "").trim();
  const at = text.lastIndexOf("@");
  const example = "e.g. docker.io/library/node:22-bookworm-slim@sha256:<64 hex digits>";
  if (at < 0) return `must be pinned by digest (…@sha256:<64 hex digits>), ${example}; got ${JSON.stringify(text)}`;
  const digest = text.slice(at + 1);
  if (!isDigest(digest)) return `has no valid sha256 digest after "@" (${example}); got ${JSON.stringify(text)}`;
  const name = text.slice(0, at);
  const slash = name.indexOf("/");
  const registry = slash < 0 ? "" : name.slice(0, slash);
  if (!REGISTRY.test(registry)) {
    const got = JSON.stringify(text);
    return `must start with the registry host (docker.io, mcr.microsoft.com, …), ${example}; got ${got}`;
  }
  let repository = name.slice(slash + 1);
  let tag: string | undefined;
  const colon = repository.lastIndexOf(":");
  if (colon >= 0) {
    tag = repository.slice(colon + 1);
    repository = repository.slice(0, colon);
    if (!TAG.test(tag)) return `has an invalid tag ${JSON.stringify(tag)}; ${example}`;
  }
  const problem = repositoryProblem(repository);
  if (problem) return `has a repository that ${problem}`;
  return { registry: registry.toLowerCase(), repository, ...(tag ? { tag } : {}), digest };
}

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MediaType.OciIndex || mediaType === MediaType.DockerManifestList;
}

/**
 * The manifest of `os/architecture` in an index, skipping attestation entries (BuildKit's `unknown/unknown`).
 * Container Apps runs linux/amd64.
 */
export function pickPlatform(index: ImageIndex, os = "linux", architecture = "amd64"): Descriptor | undefined {
  return index.manifests.find(
    (m) => m.platform?.os === os && m.platform?.architecture === architecture && isDigest(m.digest),
  );
}

/**
 * Stacks the app layer on the base: the base's layers, then the app's; the base's config with the app's runtime
 * settings (Entrypoint and Cmd replace the base's, Env entries replace the base's by name or are appended, User,
 * WorkingDir, ExposedPorts and Labels are the app's), `created` fixed, one history entry and one diff_id appended.
 * Deterministic: the same base and spec give the same bytes, hence the same digest.
 */
export function composeImage(baseManifest: ImageManifest, baseConfig: ImageConfig, spec: AppImageSpec): ComposedImage {
  const docker = baseManifest.mediaType === MediaType.DockerManifest;
  const diffIds = baseConfig.rootfs?.diff_ids ?? [];
  if (baseConfig.rootfs?.type !== "layers" || diffIds.length !== baseManifest.layers.length) {
    throw new Error(
      `the base image's config lists ${diffIds.length} layer(s) in rootfs.diff_ids but its manifest has ` +
        `${baseManifest.layers.length}: it is not a runnable image`,
    );
  }
  const base = baseConfig.config ?? {};
  const config: ImageConfig = {
    ...baseConfig,
    created: spec.created,
    config: {
      ...base,
      User: spec.user,
      Env: mergeEnv(base.Env ?? [], spec.env),
      Entrypoint: [...spec.entrypoint],
      Cmd: [...spec.cmd],
      WorkingDir: spec.workingDir,
      ExposedPorts: Object.fromEntries([...spec.exposedPorts].sort().map((p) => [p, {}])),
      Labels: { ...(base.Labels ?? {}), ...sortedRecord(spec.labels) },
    },
    rootfs: { type: "layers", diff_ids: [...diffIds, spec.layer.diffId] },
    history: [...(baseConfig.history ?? []), { created: spec.created, created_by: spec.createdBy }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configMediaType = docker ? MediaType.DockerConfig : MediaType.OciConfig;
  const appLayer: Descriptor = {
    mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
    digest: spec.layer.digest,
    size: spec.layer.size,
  };
  const manifestMediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType,
    config: { mediaType: configMediaType, digest: sha256Digest(configBytes), size: configBytes.length },
    layers: [...baseManifest.layers.map(plainDescriptor), appLayer],
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  return {
    config: { mediaType: configMediaType, digest: sha256Digest(configBytes), bytes: configBytes },
    manifest: { mediaType: manifestMediaType, digest: sha256Digest(manifestBytes), bytes: manifestBytes },
    appLayer,
  };
}

/** The base's Env with the app's entries: same name replaced in place, new names appended in name order. */
export function mergeEnv(base: readonly string[], add: Readonly<Record<string, string>>): string[] {
  const names = new Set(Object.keys(add));
  const kept = base.map((entry) => {
    const name = entry.split("=", 1)[0] ?? "";
    return names.has(name) ? `${name}=${add[name]}` : entry;
  });
  const present = new Set(base.map((entry) => entry.split("=", 1)[0]));
  const appended = Object.keys(add)
    .filter((name) => !present.has(name))
    .sort()
    .map((name) => `${name}=${add[name]}`);
  return [...kept, ...appended];
}

function sortedRecord(record: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** A base layer's descriptor as the new manifest lists it: media type, digest, size (and URLs for foreign layers). */
function plainDescriptor(layer: Descriptor & { urls?: readonly string[] }): Descriptor {
  if (!isDigest(layer.digest) || !Number.isSafeInteger(layer.size) || layer.size < 0) {
    throw new Error(`the base image lists a layer without a sha256 digest and size: ${JSON.stringify(layer)}`);
  }
  return {
    mediaType: layer.mediaType,
    digest: layer.digest,
    size: layer.size,
    ...(layer.urls ? { urls: layer.urls } : {}),
  } as Descriptor;
}
