/**
 * The developer loop's figures: the type check, the unit tier alone (`npm run test:unit`), and the whole `npm test`.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT, median, timedNode } from "./measure";

export async function measureTsc(runs: number): Promise<{ tscMs: number; tscRssMb: number }> {
  const ms: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < runs; i++) {
    const run = await timedNode([join(ROOT, "node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", "."]);
    ms.push(run.ms);
    rss.push(run.rssMb);
  }
  return { tscMs: median(ms), tscRssMb: median(rss) };
}

/** `vitest run --project 'unit*'` (`npm run test:unit`): every `*.test.ts`, no sockets and no child processes. */
export async function measureUnitSuite(runs: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    ms.push(
      (await timedNode([join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run", "--project", "unit*"], {}, 600_000))
        .ms,
    );
  }
  return median(ms);
}

/** `npm test`, as a developer runs it (npm ships with node). */
export function measureFullSuite(): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.platform === "win32" ? "npm.cmd" : "npm", ["test"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-6000)));
    child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-6000)));
    child.once("exit", (code) =>
      code === 0 ? resolve(performance.now() - started) : reject(new Error(`npm test exited with ${code}:\n${output}`)),
    );
  });
}
