/**
 * The image's pieces without a registry: the app layer's tar and gzip bytes (fixed metadata, fixed order, same bytes
 * from differently-dated files), the references the stack accepts, and how the app layer is stacked on a base.
 */
import { chmodSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { extract } from "tar-stream";
import {
  APP_IMAGE_REPOSITORY,
  appImageSpec,
  DEFAULT_BASE_IMAGE,
  gzipDeterministic,
  tarFolder,
} from "../../deploy/container-image";
import {
  composeImage,
  type ImageConfig,
  type ImageManifest,
  MediaType,
  mergeEnv,
  parsePinnedReference,
  pickPlatform,
  sha256Digest,
} from "../../deploy/oci-image";
import { importImageParameters } from "../../deploy/push-image";
import { scratch } from "../support/deploy-harness";

let work: ReturnType<typeof scratch>;
beforeEach(() => {
  work = scratch();
});
afterEach(() => work.dispose());

/** A folder like the bundle: files at two depths, written in an order that is not the sorted one. */
function bundleLike(name: string, mtime: Date, mode: number): string {
  const dir = join(work.dir, name);
  mkdirSync(join(dir, "public", "img"), { recursive: true });
  const files: Record<string, string> = {
    "server.js": "console.log('hi')\n",
    "public/img/logo.svg": "<svg/>",
    "package.json": "{}\n",
    "public/app.css": "body{}",
    "server.js.LEGAL.txt": "MIT\n",
  };
  for (const [file, text] of Object.entries(files)) {
    const path = join(dir, ...file.split("/"));
    writeFileSync(path, text);
    chmodSync(path, mode);
    utimesSync(path, mtime, mtime);
  }
  return dir;
}

interface TarEntry {
  readonly name: string;
  readonly type: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly uname: string;
  readonly gname: string;
  readonly mtime: number;
  readonly pax: boolean;
}

/** Every header of a tar, in order, as tar-stream's extractor reads it. */
async function readTar(tar: Buffer): Promise<TarEntry[]> {
  const entries: TarEntry[] = [];
  const reader = extract();
  reader.on("entry", (header, stream, next) => {
    entries.push({
      name: header.name,
      type: header.type ?? "",
      mode: header.mode ?? -1,
      uid: header.uid ?? -1,
      gid: header.gid ?? -1,
      uname: header.uname ?? "",
      gname: header.gname ?? "",
      mtime: header.mtime?.getTime() ?? -1,
      pax: header.pax !== undefined && header.pax !== null && Object.keys(header.pax).length > 0,
    });
    stream.on("end", next);
    stream.resume();
  });
  const done = new Promise<void>((resolve, reject) => {
    reader.on("finish", resolve);
    reader.on("error", reject);
  });
  reader.end(tar);
  await done;
  return entries;
}

describe("the app layer", () => {
  it("is the same bytes from files with other dates and modes on disk", async () => {
    const a = await tarFolder(bundleLike("a", new Date("2021-05-06T07:08:09Z"), 0o664), "app");
    const b = await tarFolder(bundleLike("b", new Date("2025-11-12T13:14:15Z"), 0o600), "app");
    expect(b.tar.equals(a.tar)).toBe(true);
    expect(gzipDeterministic(b.tar).equals(gzipDeterministic(a.tar))).toBe(true);
  });

  it("changes when a file's content changes", async () => {
    const dir = bundleLike("a", new Date(0), 0o644);
    const before = await tarFolder(dir, "app");
    writeFileSync(join(dir, "server.js"), "console.log('bye')\n");
    const after = await tarFolder(dir, "app");
    expect(sha256Digest(after.tar)).not.toBe(sha256Digest(before.tar));
  });

  it("lists each folder before its contents, names sorted, under app/", async () => {
    const { entries } = await tarFolder(bundleLike("a", new Date(), 0o644), "app");
    expect(entries).toEqual([
      "app/",
      "app/package.json",
      "app/public/",
      "app/public/app.css",
      "app/public/img/",
      "app/public/img/logo.svg",
      "app/server.js",
      "app/server.js.LEGAL.txt",
    ]);
  });

  it("stores every entry as root's, read-only for others, dated 1970, with no extended headers", async () => {
    const { tar, entries } = await tarFolder(bundleLike("a", new Date(), 0o777), "app");
    const headers = await readTar(tar);
    expect(headers.map((h) => h.name)).toEqual(entries);
    for (const h of headers) {
      expect(h).toMatchObject({ uid: 0, gid: 0, uname: "", gname: "", mtime: 0, pax: false });
      expect(h.mode).toBe(h.type === "directory" ? 0o755 : 0o644);
    }
  });

  it("is gzip'd without a name or a date, with the OS byte fixed", async () => {
    const { tar } = await tarFolder(bundleLike("a", new Date(), 0o644), "app");
    const gz = gzipDeterministic(tar);
    expect([...gz.subarray(0, 4)]).toEqual([0x1f, 0x8b, 8, 0]); // deflate, no FNAME/FEXTRA/FCOMMENT
    expect(gz.readUInt32LE(4)).toBe(0);
    expect(gz[9]).toBe(0xff);
    expect(gunzipSync(gz).equals(tar)).toBe(true);
  });
});

describe("base image references", () => {
  it("accepts the default base, pinned by digest on Docker Hub", () => {
    expect(parsePinnedReference(DEFAULT_BASE_IMAGE)).toEqual({
      registry: "docker.io",
      repository: "library/node",
      tag: "22-bookworm-slim",
      digest: DEFAULT_BASE_IMAGE.slice(DEFAULT_BASE_IMAGE.indexOf("@") + 1),
    });
  });

  it.each([
    ["a tag only", "docker.io/library/node:22-bookworm-slim", "must be pinned by digest"],
    ["no registry", `node@sha256:${"a".repeat(64)}`, "must start with the registry host"],
    ["a short digest", "docker.io/library/node@sha256:abc", "no valid sha256 digest"],
    ["upper-case repository", `docker.io/Library/Node@sha256:${"a".repeat(64)}`, "repository name"],
    ["a shell metacharacter", `docker.io/library/node;rm@sha256:${"a".repeat(64)}`, "repository name"],
  ])("refuses %s, saying why", (_case, reference, message) => {
    const result = parsePinnedReference(reference);
    expect(typeof result).toBe("string");
    expect(result).toContain(message);
  });

  it("asks ARM to import the base by digest into the app's repository, untagged", () => {
    const base = parsePinnedReference(DEFAULT_BASE_IMAGE);
    if (typeof base === "string") throw new Error(base);
    expect(importImageParameters(base, APP_IMAGE_REPOSITORY)).toEqual({
      source: { registryUri: "docker.io", sourceImage: `library/node@${base.digest}` },
      untaggedTargetRepositories: [APP_IMAGE_REPOSITORY],
      mode: "NoForce",
    });
  });
});

describe("the app layer on a base", () => {
  const layer = { mediaType: MediaType.OciLayerGzip, digest: `sha256:${"1".repeat(64)}`, size: 10 };
  const baseManifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: { mediaType: MediaType.OciConfig, digest: `sha256:${"2".repeat(64)}`, size: 5 },
    layers: [layer],
  };
  const baseConfig: ImageConfig = {
    architecture: "amd64",
    os: "linux",
    created: "2026-01-01T00:00:00Z",
    config: {
      Env: ["PATH=/usr/local/bin:/usr/bin", "NODE_ENV=development"],
      Entrypoint: ["docker-entrypoint.sh"],
      Cmd: ["node"],
      User: "",
      Labels: { maintainer: "node" },
    },
    rootfs: { type: "layers", diff_ids: [`sha256:${"3".repeat(64)}`] },
    history: [{ created_by: "base" }],
  };
  const spec = appImageSpec({ digest: `sha256:${"4".repeat(64)}`, diffId: `sha256:${"5".repeat(64)}`, size: 99 }, "x");

  it("runs node server.js in /app as uid 1000 on port 8080, whatever the base said", () => {
    const image = composeImage(baseManifest, baseConfig, spec);
    const config = JSON.parse(image.config.bytes.toString("utf8")) as ImageConfig;
    expect(config.config).toMatchObject({
      Entrypoint: ["node"],
      Cmd: ["server.js"],
      WorkingDir: "/app",
      User: "1000:1000",
      ExposedPorts: { "8080/tcp": {} },
      Env: ["PATH=/usr/local/bin:/usr/bin", "NODE_ENV=production", "PORT=8080"],
      Labels: { maintainer: "node", "org.opencontainers.image.title": "secretless-signin" },
    });
    expect(config.created).toBe("1970-01-01T00:00:00Z");
    expect(config.rootfs?.diff_ids).toEqual([`sha256:${"3".repeat(64)}`, `sha256:${"5".repeat(64)}`]);
    expect(config.history).toHaveLength(2);
  });

  it("lists the base's layers, then the app layer, and names the config by its digest", () => {
    const image = composeImage(baseManifest, baseConfig, spec);
    const manifest = JSON.parse(image.manifest.bytes.toString("utf8")) as ImageManifest;
    expect(manifest.mediaType).toBe(MediaType.OciManifest);
    expect(manifest.layers).toEqual([
      layer,
      { mediaType: MediaType.OciLayerGzip, digest: spec.layer.digest, size: 99 },
    ]);
    expect(manifest.config).toEqual({
      mediaType: MediaType.OciConfig,
      digest: sha256Digest(image.config.bytes),
      size: image.config.bytes.length,
    });
    expect(image.manifest.digest).toBe(sha256Digest(image.manifest.bytes));
  });

  it("gives the same digest for the same base and layer, and another for another layer", () => {
    const again = composeImage(baseManifest, structuredClone(baseConfig), spec);
    expect(again.manifest.digest).toBe(composeImage(baseManifest, baseConfig, spec).manifest.digest);
    const other = appImageSpec({ ...spec.layer, digest: `sha256:${"6".repeat(64)}` }, "x");
    expect(composeImage(baseManifest, baseConfig, other).manifest.digest).not.toBe(again.manifest.digest);
  });

  it("keeps a Docker base's format: Docker manifest, config and layer media types", () => {
    const docker: ImageManifest = {
      ...baseManifest,
      mediaType: MediaType.DockerManifest,
      layers: [{ ...layer, mediaType: MediaType.DockerLayerGzip }],
    };
    const image = composeImage(docker, baseConfig, spec);
    const manifest = JSON.parse(image.manifest.bytes.toString("utf8")) as ImageManifest;
    expect(image.manifest.mediaType).toBe(MediaType.DockerManifest);
    expect(manifest.config.mediaType).toBe(MediaType.DockerConfig);
    expect(manifest.layers.map((l) => l.mediaType)).toEqual([MediaType.DockerLayerGzip, MediaType.DockerLayerGzip]);
  });

  it("refuses a base whose config and manifest disagree on the layers", () => {
    const broken = { ...baseConfig, rootfs: { type: "layers", diff_ids: [] } };
    expect(() => composeImage(baseManifest, broken, spec)).toThrow(/not a runnable image/);
  });

  it("replaces a base variable by name and appends new ones in name order", () => {
    expect(mergeEnv(["A=1", "PORT=80", "Z=2"], { PORT: "8080", B: "x", AA: "y" })).toEqual([
      "A=1",
      "PORT=8080",
      "Z=2",
      "AA=y",
      "B=x",
    ]);
  });

  it("picks linux/amd64 from an index, past attestations and other platforms", () => {
    const d = (n: string) => `sha256:${n.repeat(64)}`;
    const index = {
      schemaVersion: 2 as const,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          digest: d("a"),
          size: 1,
          platform: { os: "unknown", architecture: "unknown" },
        },
        { mediaType: MediaType.OciManifest, digest: d("b"), size: 1, platform: { os: "linux", architecture: "arm64" } },
        { mediaType: MediaType.OciManifest, digest: d("c"), size: 1, platform: { os: "linux", architecture: "amd64" } },
      ],
    };
    expect(pickPlatform(index)?.digest).toBe(d("c"));
    expect(pickPlatform({ schemaVersion: 2, manifests: index.manifests.slice(0, 2) })).toBeUndefined();
  });
});
