import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "../../deploy/cli";
import { zipFiles } from "../../deploy/package-app";
import { folderZipPath, ownAppPackageProblem, packageOwnApp } from "../../deploy/package-own-app";
import { readZipEntry, zipEntries } from "../../deploy/zip-entries";
import { REPO } from "../support/repo";

/**
 * The packager of an app of your own (deploy/package-own-app.ts) and the zip reader it checks packages with
 * (deploy/zip-entries.ts): a folder zipped reproducibly, a zip taken as it is, and what an attacker's package may hold
 * refused before anything registers. Scratch files live under dist/ (inside the project, as packages must).
 */

const SCRATCH = `dist/test-own-app-package-${process.pid}`;
const at = (path: string) => join(REPO, SCRATCH, ...path.split("/"));
const write = (path: string, content: string | Buffer) => {
  mkdirSync(join(at(path), ".."), { recursive: true });
  writeFileSync(at(path), content);
};

/**
 * A zip written by hand (stored, no compression), so an entry can carry what no honest zipper writes: a name climbing
 * out of the folder, or a symbolic link's Unix mode.
 */
function handMadeZip(entries: { name: string; data?: string; mode?: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data = "", mode = 0o100644 } of entries) {
    const nameBytes = Buffer.from(name, "utf8");
    const body = Buffer.from(data, "utf8");
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, body);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + body.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

beforeAll(() => {
  write("app/server.js", "console.log('hello');\n");
  write("app/lib/util.js", "module.exports = 1;\n");
  write("app/public/index.html", "<p>hi</p>\n");
});
afterAll(() => rmSync(at(""), { recursive: true, force: true }));

describe("packaging an app of your own", () => {
  it("zips a folder reproducibly: same files, same bytes and sha256; entries sorted, readable back", async () => {
    const first = await packageOwnApp(`${SCRATCH}/app`);
    const bytes = readFileSync(join(REPO, first.zipPath));
    const second = await packageOwnApp(`${SCRATCH}/app`);
    expect(first.zipPath).toBe(folderZipPath(`${SCRATCH}/app`));
    expect(first.zipPath).toMatch(/^dist\/own-app\/dist-test-own-app-package-\d+-app\.zip$/);
    expect(second.sha256).toBe(first.sha256);
    expect(sha256(bytes)).toBe(first.sha256);
    expect(first.entries).toEqual(["lib/util.js", "public/index.html", "server.js"]);
    const entries = zipEntries(bytes);
    expect(entries.map((e) => e.name)).toEqual(first.entries);
    expect(readZipEntry(bytes, entries.find((e) => e.name === "server.js")!).toString()).toBe(
      "console.log('hello');\n",
    );
  });

  it("changes the sha256, and so re-runs the deploy step, when one byte of one file changes", async () => {
    const before = await packageOwnApp(`${SCRATCH}/app`);
    write("app/lib/util.js", "module.exports = 2;\n");
    const after = await packageOwnApp(`${SCRATCH}/app`);
    expect(after.sha256).not.toBe(before.sha256);
    expect(after.zipPath).toBe(before.zipPath);
  });

  it("takes a zip as it is: its own path and hash, nothing rewritten", async () => {
    const zip = await zipFiles(at("app"), ["server.js"]);
    write("built/site.zip", zip);
    const pkg = await packageOwnApp(`${SCRATCH}/built/site.zip`);
    expect(pkg).toEqual({
      zipPath: `${SCRATCH}/built/site.zip`,
      sha256: sha256(zip),
      bytes: zip.length,
      entries: ["server.js"],
    });
  });

  it("refuses to package what it would refuse in config, with the key and the same message", async () => {
    await expect(packageOwnApp(`${SCRATCH}/nowhere`)).rejects.toThrow(/^appPackagePath ".*nowhere" does not exist/);
  });
});

describe("what a package may not hold", () => {
  it.each([
    ["an entry climbing out of wwwroot", [{ name: "../../home/site/x.js" }], /path outside the folder/],
    ["an absolute entry", [{ name: "/etc/cron.d/x" }], /path outside the folder/],
    ["a symbolic link", [{ name: "link", data: "/etc/passwd", mode: 0o120777 }], /symbolic link/],
    ["a git repository", [{ name: ".git/config" }], /part of a git repository/],
    ["a .pfx", [{ name: "cert/site.pfx" }], /site\.pfx is a credential file/],
    ["a publish profile", [{ name: "Site.PublishSettings" }], /credential file/],
    ["a private key", [{ name: "tls.key", data: "-----BEGIN RSA PRIVATE KEY-----\nMII" }], /holds a private key/],
    [
      "an appsettings.json with a client secret",
      [{ name: "appsettings.Production.json", data: '{"AzureAd":{"ClientSecret":"s3cr3t~value"}}' }],
      /client secret or certificate password/,
    ],
    [
      "a ClientSecret credential source",
      [{ name: "appsettings.json", data: '{"ClientCredentials":[{"SourceType": "ClientSecret"}]}' }],
      /client secret/,
    ],
    ["an .env file", [{ name: ".env.production", data: "X=1" }], /environment file/],
  ])("refuses a zip with %s", (_, entries, message) => {
    write("evil.zip", handMadeZip([{ name: "server.js", data: "1" }, ...entries]));
    expect(ownAppPackageProblem(`${SCRATCH}/evil.zip`)).toMatch(message);
  });

  it("accepts what only looks close: a public certificate, an example .env, settings without a secret", () => {
    write(
      "fine.zip",
      handMadeZip([
        { name: "server.js", data: "1" },
        { name: "ca.pem", data: "-----BEGIN CERTIFICATE-----\nMII" },
        { name: ".env.example", data: "AzureAd__ClientId=" },
        { name: "appsettings.json", data: '{"AzureAd":{"ClientSecret":""}}' },
      ]),
    );
    expect(ownAppPackageProblem(`${SCRATCH}/fine.zip`)).toBeUndefined();
  });

  it("refuses a folder holding a credential file, naming the file", () => {
    write("keys/server.js", "1");
    write("keys/deploy/id_ed25519", "key");
    expect(ownAppPackageProblem(`${SCRATCH}/keys`)).toMatch(
      /deploy\/id_ed25519 is a credential file.*managed identity/,
    );
  });

  it("refuses a truncated zip rather than misreading it", () => {
    const zip = handMadeZip([{ name: "server.js", data: "1" }]);
    write("cut.zip", zip.subarray(0, zip.length - 5));
    expect(ownAppPackageProblem(`${SCRATCH}/cut.zip`)).toMatch(/no end-of-central-directory record/);
  });
});

describe("what a folder keeps of its files", () => {
  it("keeps the execute bit of a start script or app host, and only that", async () => {
    write("host/start.sh", "#!/bin/sh\nexec ./Contoso.Web\n");
    write("host/Contoso.Web", "ELF not really");
    write("host/appsettings.json", "{}");
    const { chmodSync } = await import("node:fs");
    chmodSync(at("host/start.sh"), 0o755);
    chmodSync(at("host/Contoso.Web"), 0o700);
    const pkg = await packageOwnApp(`${SCRATCH}/host`);
    const modes = Object.fromEntries(
      zipEntries(readFileSync(join(REPO, pkg.zipPath))).map((e) => [e.name, e.unixMode.toString(8)]),
    );
    expect(modes).toEqual({ "Contoso.Web": "100755", "appsettings.json": "100644", "start.sh": "100755" });
  });

  it("refuses a zip entry it cannot read rather than failing with a raw error", () => {
    const zip = handMadeZip([
      { name: "server.js", data: "1" },
      { name: "appsettings.json", data: '{"a":1}' },
    ]);
    // Say the settings entry is deflated (method 8) when its bytes are stored: inflating them fails.
    const central = zip.lastIndexOf(Buffer.from("appsettings.json")) - 46;
    zip.writeUInt16LE(8, central + 10);
    write("lying.zip", zip);
    expect(ownAppPackageProblem(`${SCRATCH}/lying.zip`)).toMatch(/holds appsettings\.json, which cannot be read/);
  });
});
