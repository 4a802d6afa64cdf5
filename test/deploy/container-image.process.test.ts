/**
 * buildAppImage for real (esbuild runs as a child process) on copies of the app's sources: the same sources give the
 * same layer and settings byte for byte, wherever they are built; a source change gives another layer; nothing
 * changed means nothing rebuilt.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sha256 } from "../../deploy/cli";
import { APP_IMAGE_DIR, buildAppImage, DEFAULT_BASE_IMAGE, LAYER_FILE, SPEC_FILE } from "../../deploy/container-image";
import { sha256Digest } from "../../deploy/oci-image";
import { scratch } from "../support/deploy-harness";
import { copySources } from "../support/registry-harness";

let work: ReturnType<typeof scratch>;
beforeEach(() => {
  work = scratch();
});
afterEach(() => work.dispose());

const OTHER_BASE = `docker.io/library/node:22-bookworm-slim@sha256:${"e".repeat(64)}`;

describe("buildAppImage", () => {
  it("builds the same layer and settings from the same sources in two places", async () => {
    const first = copySources(join(work.dir, "one"));
    const second = copySources(join(work.dir, "two"));
    const a = await buildAppImage({ sourceRoot: first });
    const b = await buildAppImage({ sourceRoot: second });
    expect(b.layerDigest).toBe(a.layerDigest);
    expect(b.layerDiffId).toBe(a.layerDiffId);
    expect(b.contentSha256).toBe(a.contentSha256);
    const read = (root: string, file: string) => readFileSync(join(root, APP_IMAGE_DIR, file));
    expect(read(second, LAYER_FILE).equals(read(first, LAYER_FILE))).toBe(true);
    expect(sha256Digest(read(first, LAYER_FILE))).toBe(a.layerDigest);
    expect(sha256(read(first, SPEC_FILE))).toBe(a.contentSha256);
    expect(a.entries).toContain("app/server.js");
    expect(a.entries).toContain("app/public/app.css");
    expect(a.entries.some((e) => e.includes("node_modules") || e.endsWith(".map"))).toBe(false);
  });

  it("reuses the layer while nothing changed, and rebuilds when a source file changes", async () => {
    const root = copySources(work.dir);
    const built = await buildAppImage({ sourceRoot: root });
    expect(built.rebuilt).toBe(true);
    const reused = await buildAppImage({ sourceRoot: root });
    expect(reused).toEqual({ ...built, rebuilt: false });

    // One byte of a string the app shows.
    const errors = join(root, "app", "plugins", "errors.ts");
    const source = readFileSync(errors, "utf8");
    expect(source).toContain("Page not found");
    writeFileSync(errors, source.replace("Page not found", "Page not founx"));
    const changed = await buildAppImage({ sourceRoot: root });
    expect(changed.rebuilt).toBe(true);
    expect(changed.layerDigest).not.toBe(built.layerDigest);
    expect(changed.contentSha256).not.toBe(built.contentSha256);
  });

  it("names the base in its settings: another base, same layer, another content hash", async () => {
    const root = copySources(work.dir);
    const standard = await buildAppImage({ sourceRoot: root });
    expect(standard.baseImage).toBe(DEFAULT_BASE_IMAGE);
    const other = await buildAppImage({ sourceRoot: root, baseImage: OTHER_BASE });
    expect(other.rebuilt).toBe(true);
    expect(other.layerDigest).toBe(standard.layerDigest);
    expect(other.contentSha256).not.toBe(standard.contentSha256);
  });

  it("refuses a base image named by a tag only, before building", async () => {
    await expect(
      buildAppImage({ sourceRoot: work.dir, baseImage: "docker.io/library/node:22-bookworm-slim" }),
    ).rejects.toThrow(/must be pinned by digest/);
  });
});
