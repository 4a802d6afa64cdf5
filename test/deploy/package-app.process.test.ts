import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as yauzl from "yauzl";
import { sha256 } from "../../deploy/cli";
import { APP_ZIP_PATH, cacheKey, packageApp } from "../../deploy/package-app";
import { scratch } from "../support/deploy-harness";
import { REPO } from "../support/repo";

/**
 * The packager on a copy of the app's sources (so a test can change a byte without touching the repository); the
 * copy resolves packages through a link to the repository's node_modules.
 */

let work: ReturnType<typeof scratch>;
let root: string;

beforeEach(() => {
  work = scratch();
  root = join(work.dir, "src");
  for (const part of ["app", "contract"]) cpSync(join(REPO, part), join(root, part), { recursive: true });
  cpSync(join(REPO, "package-lock.json"), join(root, "package-lock.json"));
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
});

afterEach(() => work.dispose());

interface ZipEntry {
  readonly name: string;
  readonly mode: number;
  readonly dosDate: number;
  readonly dosTime: number;
  readonly extraFields: number;
  readonly data: Buffer;
}

/** Every entry of a zip, with the metadata that must be fixed, read by yauzl from the central directory. */
function readZip(buffer: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (error, zip) => {
      if (error || !zip) return reject(error);
      const entries: ZipEntry[] = [];
      zip.on("entry", (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError);
          const chunks: Buffer[] = [];
          stream.on("data", (c: Buffer) => chunks.push(c));
          stream.on("end", () => {
            entries.push({
              name: entry.fileName,
              mode: entry.externalFileAttributes >>> 16,
              dosDate: entry.lastModFileDate,
              dosTime: entry.lastModFileTime,
              extraFields: entry.extraFields.length,
              data: Buffer.concat(chunks),
            });
            zip.readEntry();
          });
        });
      });
      zip.on("end", () => resolve(entries));
      zip.on("error", reject);
      zip.readEntry();
    });
  });
}

const zipBytes = (): Buffer => readFileSync(join(root, APP_ZIP_PATH));

describe("the app package", () => {
  it("holds exactly server.js, its licence notices, telemetry.js, package.json and the assets", async () => {
    const pkg = await packageApp({ sourceRoot: root });
    const entries = await readZip(zipBytes());
    expect(entries.map((e) => e.name)).toEqual([
      "package.json",
      "public/app.css",
      "public/favicon.svg",
      "server.js",
      "server.js.LEGAL.txt",
      "telemetry.js",
    ]);
    expect(pkg.entries).toEqual(entries.map((e) => e.name));
    for (const e of entries) {
      expect(e.name).not.toMatch(/^\/|\\|(^|\/)\.\.(\/|$)|node_modules|\.map$/);
      expect(e.mode).toBe(0o100644);
      expect([e.dosDate, e.dosTime]).toEqual([(20 << 9) | (1 << 5) | 1, 0]); // 2000-01-01 00:00:00
      expect(e.extraFields).toBe(0); // no extended timestamp: nothing machine- or time-zone-specific
    }
    const server = entries.find((e) => e.name === "server.js")!.data.toString("utf8");
    expect(server).not.toContain(root);
    expect(server).not.toContain(REPO);
    expect(server).not.toContain("sourceMappingURL");
    expect(JSON.parse(entries.find((e) => e.name === "package.json")!.data.toString("utf8"))).toEqual({
      name: "secretless-entra-webapp-app",
      private: true,
      type: "commonjs",
      scripts: { start: "node server.js" },
      engines: { node: ">=22" },
    });
    expect(entries.find((e) => e.name === "public/app.css")!.data).toEqual(
      readFileSync(join(root, "app", "public", "app.css")),
    );
  });

  it("reports its path, size and hash, and writes the hash next to it in sha256sum form", async () => {
    const pkg = await packageApp({ sourceRoot: root });
    const bytes = zipBytes();
    expect(pkg).toMatchObject({ zipPath: "dist/app.zip", bytes: bytes.length, sha256: sha256(bytes), rebuilt: true });
    expect(readFileSync(join(root, "dist", "app.zip.sha256"), "utf8")).toBe(`${sha256(bytes)}  app.zip\n`);
  });

  it("gives identical bytes for two builds of the same sources, in any time zone", async () => {
    const zone = process.env.TZ;
    try {
      process.env.TZ = "UTC";
      await packageApp({ sourceRoot: root, force: true });
      const first = zipBytes();
      process.env.TZ = "Pacific/Kiritimati";
      await packageApp({ sourceRoot: root, force: true });
      expect(Buffer.compare(zipBytes(), first)).toBe(0);
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it.each([
    ["a string in the app's code", "app/plugins/errors.ts", "Page not found"],
    ["a static asset", "app/public/app.css", ":root"],
    ["the shared contract", "contract/settings.ts", "/signin-oidc"],
  ])(
    "gives a different hash when one byte of %s changes, and notices it without being forced",
    async (_what, file, text) => {
      const before = await packageApp({ sourceRoot: root });
      const path = join(root, file);
      const source = readFileSync(path, "utf8");
      expect(source).toContain(text);
      writeFileSync(path, source.replace(text, `${text.slice(0, -1)}${text.endsWith("x") ? "y" : "x"}`));
      const after = await packageApp({ sourceRoot: root });
      expect(after.rebuilt).toBe(true);
      expect(after.sha256).not.toBe(before.sha256);
    },
  );

  it("reuses the zip when nothing changed, and rebuilds it when the zip on disk was altered", async () => {
    const first = await packageApp({ sourceRoot: root });
    const again = await packageApp({ sourceRoot: root });
    expect(again).toEqual({ ...first, rebuilt: false });
    const altered = zipBytes();
    altered.writeUInt8(altered.readUInt8(altered.length - 1) ^ 0xff, altered.length - 1);
    writeFileSync(join(root, APP_ZIP_PATH), altered);
    const rebuilt = await packageApp({ sourceRoot: root });
    expect(rebuilt.rebuilt).toBe(true);
    expect(rebuilt.sha256).toBe(first.sha256);
  });

  it(
    "derives its inputs from the sources: a planted zip whose cache " +
      "record lists no inputs is replaced after an edit",
    async () => {
      await packageApp({ sourceRoot: root });
      const recordPath = join(root, `${APP_ZIP_PATH}.inputs.json`);
      const genuine = JSON.parse(readFileSync(recordPath, "utf8")) as { format: number; entries: string[] };
      // The attack: an empty zip, and a record that matches today's sources and says the zip depends on nothing.
      const planted = Buffer.concat([Buffer.from("PK\u0005\u0006", "latin1"), Buffer.alloc(18)]);
      writeFileSync(join(root, APP_ZIP_PATH), planted);
      writeFileSync(
        recordPath,
        JSON.stringify({
          ...genuine,
          inputsHash: cacheKey(root),
          inputs: [],
          sha256: sha256(planted),
          bytes: planted.length,
        }),
      );
      const server = join(root, "app", "server.ts");
      writeFileSync(server, `${readFileSync(server, "utf8")}\n// an edit after the plant\n`);
      const after = await packageApp({ sourceRoot: root });
      expect(after.rebuilt).toBe(true);
      expect(after.sha256).not.toBe(sha256(planted));
      expect(zipBytes().length).toBeGreaterThan(10_000);
    },
  );
});
