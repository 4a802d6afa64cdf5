import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../support/repo";

/**
 * Every relative link in the project's Markdown resolves: the file or folder exists, and a `#fragment` into a Markdown
 * file names one of its headings as GitHub renders them. A new user follows these from the README; a link renamed away
 * under them (a moved file, a reworded heading) is a dead end nobody notices in review. The README's map of folders
 * is held to the tree the same way: every top-level folder has a row, and every file a row names exists.
 */

const SKIPPED = new Set(["node_modules", ".git", "dist", "test-results", ".tools", ".bench", ".pulumi-state"]);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIPPED.has(entry.name) || entry.name.startsWith(".local")) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith(".md") ? [path] : [];
  });
}

/** The text outside fenced code blocks, with inline code spans blanked (links in code are not links). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line.replace(/`[^`]*`/g, (code) => " ".repeat(code.length));
  });
}

/**
 * The anchors GitHub gives a file's headings (github-slugger, which github.com follows): lower case, everything but
 * letters, digits, spaces, hyphens and underscores dropped, spaces as hyphens, a repeated slug suffixed -1, -2, ….
 */
function headingAnchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = (heading[1] ?? "").replace(/\[([^\]]*)\]\([^)]*\)/g, "$1");
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const [, id] of markdown.matchAll(/<a\s+(?:name|id)="([^"]+)"/g)) anchors.add(id ?? "");
  return anchors;
}

/** Relative link targets of a file: `[text](target)` and `![alt](target)`, no scheme, no site-absolute path. */
function relativeLinks(markdown: string): { line: number; target: string }[] {
  return prose(markdown).flatMap((line, i) =>
    [...line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)]
      .map((m) => m[1] ?? "")
      .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("/"))
      .map((target) => ({ line: i + 1, target })),
  );
}

function brokenLinks(file: string): string[] {
  const markdown = readFileSync(file, "utf8");
  const where = (line: number) => `${relative(REPO, file)}:${line}`;
  return relativeLinks(markdown).flatMap(({ line, target }) => {
    const [path, fragment] = target.split("#", 2) as [string, string | undefined];
    const resolved = path === "" ? file : join(dirname(file), decodeURIComponent(path));
    if (!existsSync(resolved)) return [`${where(line)}: ${target} (no such file)`];
    if (fragment === undefined || !resolved.endsWith(".md") || statSync(resolved).isDirectory()) return [];
    const anchors = headingAnchors(readFileSync(resolved, "utf8"));
    return anchors.has(decodeURIComponent(fragment)) ? [] : [`${where(line)}: ${target} (no such heading)`];
  });
}

describe("the documentation's relative links", () => {
  const files = markdownFiles(REPO);

  it("resolve to a file or folder of the project, and each #anchor to a heading of that file", () => {
    expect(files.flatMap(brokenLinks)).toEqual([]);
  });

  it("are found: the README and docs/ are read, with the links they hold (a wrong root would pass vacuously)", () => {
    const names = files.map((f) => relative(REPO, f));
    expect(names).toEqual(expect.arrayContaining(["README.md", "docs/adopt.md", "docs/container-apps.md"]));
    const readmeLinks = relativeLinks(readFileSync(join(REPO, "README.md"), "utf8")).map((l) => l.target);
    expect(readmeLinks).toEqual(expect.arrayContaining(["docs/resources.md", "#migrate-off-a-client-secret"]));
  });
});

/**
 * Named in code but not files of this project: a file the reader creates (the CI stack's file) and another
 * repository's file cited as a source (Azure/acr).
 */
const NOT_OURS = new Set(["bootstrap/Pulumi.ci.yaml", "docs/AAD-OAuth.md"]);

/** Project paths the prose names in code spans (`deploy/push-image.ts`), which a reader opens as they are written. */
function namedPaths(markdown: string): string[] {
  const top = readdirSync(REPO, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !SKIPPED.has(e.name) && !e.name.startsWith("."))
    .map((e) => e.name);
  return [...markdown.matchAll(/`([\w.-]+\/[\w./-]*\.(?:ts|mts|cjs|sh|md|yaml|jsonc))`/g)]
    .map((m) => m[1] ?? "")
    .filter((path) => top.includes(path.split("/")[0] ?? "") && !NOT_OURS.has(path));
}

describe("the project paths the documentation names in code", () => {
  it("exist, from the project's root (a file renamed or removed leaves its name in prose behind)", () => {
    const missing = markdownFiles(REPO).flatMap((file) =>
      namedPaths(readFileSync(file, "utf8"))
        .filter((path) => !existsSync(join(REPO, path)) && !existsSync(join(dirname(file), path)))
        .map((path) => `${relative(REPO, file)}: ${path}`),
    );
    expect(missing).toEqual([]);
  });

  it("are found (a wrong pattern would pass vacuously)", () => {
    const readme = namedPaths(readFileSync(join(REPO, "README.md"), "utf8"));
    expect(readme).toEqual(expect.arrayContaining(["test/repo/line-length.test.ts", "scripts/require-node.cjs"]));
  });
});

describe("the npm scripts the documentation runs", () => {
  it("are scripts of package.json", () => {
    const { scripts } = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { scripts: object };
    const named = markdownFiles(REPO).flatMap((file) =>
      [...readFileSync(file, "utf8").matchAll(/npm run (?:-s |--silent )?([\w:-]+)/g)].map((m) => ({
        file: relative(REPO, file),
        script: m[1] ?? "",
      })),
    );
    expect(named.length).toBeGreaterThan(20);
    expect(named.filter(({ script }) => !Object.hasOwn(scripts, script))).toEqual([]);
  });
});

describe("heading anchors as GitHub makes them", () => {
  it("drop punctuation and code marks, keep hyphens and number repeats", () => {
    const anchors = headingAnchors(
      "# What `pulumi up` does, end to end\n## Choose the host\n## Choose the host\n```\n# not a heading\n```\n" +
        "### Telemetry (Application Insights, without a key)\n",
    );
    expect([...anchors]).toEqual([
      "what-pulumi-up-does-end-to-end",
      "choose-the-host",
      "choose-the-host-1",
      "telemetry-application-insights-without-a-key",
    ]);
  });

  it("report a link to a heading that is not there", () => {
    expect(headingAnchors("## Adopt an existing app\n").has("adopt-an-existing-application")).toBe(false);
  });
});

/** The README's "Layout (the map of folders)" table: its first column and the rest of each row. */
function layoutRows(): { path: string; text: string }[] {
  const readme = readFileSync(join(REPO, "README.md"), "utf8");
  const table = /## Layout \(the map of folders\)\n([\s\S]*?)(?:\n## |$)/.exec(readme)?.[1] ?? "";
  return [...table.matchAll(/^\| (.+?) \| (.+) \|$/gm)].map((m) => ({ path: m[1] ?? "", text: m[2] ?? "" }));
}

/** Every file below `dir` (relative to it), for a row that names a file in a subfolder by its name alone. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).map((e) =>
    relative(dir, join(e.parentPath, e.name)),
  );
}

describe("the README's map of folders", () => {
  const rows = layoutRows();

  it("names every top-level folder of the project", () => {
    const named = rows.flatMap((row) => [...row.path.matchAll(/`([^`/]+)\/?[^`]*`/g)].map((m) => m[1]));
    const folders = readdirSync(REPO, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !SKIPPED.has(e.name) && !/^\.(git|local|bench|tools)/.test(e.name))
      .map((e) => e.name);
    expect(folders.filter((folder) => !named.includes(folder))).toEqual([]);
  });

  it("names only files that exist where the row says (a folder's row: in that folder or below it)", () => {
    const missing = rows.flatMap(({ path, text }) => {
      const folder = /^`([^`]+\/)`$/.exec(path)?.[1];
      const below = folder && existsSync(join(REPO, folder)) ? filesBelow(join(REPO, folder)) : [];
      const names = [...`${path} ${text}`.matchAll(/`([\w./-]+\.(?:ts|mts|cjs|sh|md|yaml|jsonc)|[\w-]+\/)`/g)];
      return names
        .map((m) => m[1] ?? "")
        .filter((name) => !existsSync(join(REPO, name)) && !(folder && existsSync(join(REPO, folder, name))))
        .filter((name) => !below.some((file) => file === name || file.endsWith(`/${name}`) || `${file}/` === name))
        .map((name) => `${path}: ${name}`);
    });
    expect(missing).toEqual([]);
  });

  it("is read: rows for the folders the new features added", () => {
    expect(rows.map((r) => r.path)).toEqual(expect.arrayContaining(["`migrate/`", "`examples/`", "`local/`"]));
    expect(rows.find((r) => r.path === "`local/`")?.text).toContain("`fake-arm.ts`");
  });
});
