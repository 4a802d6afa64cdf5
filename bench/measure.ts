/** Timing helpers: every figure is a fresh node process, timed from spawn to exit, with its peak memory. */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(__dirname, "..");
/** Scratch space (git-ignored): the host child, temp copies, unpacked app, temp dirs. */
export const WORK = join(ROOT, ".bench");
const USAGE = join(__dirname, "usage.cjs");

export interface Timed {
  /** Wall time from spawn to exit. */
  readonly ms: number;
  /** Peak resident set of the process (not its children). */
  readonly rssMb: number;
  readonly cpuMs: number;
  readonly stdout: string;
}

/** A fresh empty folder under {@link WORK}. */
export function scratch(prefix: string): string {
  mkdirSync(WORK, { recursive: true });
  return mkdtempSync(join(WORK, `${prefix}-`));
}

/** Runs `node <args>` from the project root and resolves when it exits 0; rejects with its output otherwise. */
export function timedNode(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 300_000): Promise<Timed> {
  const dir = scratch("usage");
  const usageFile = join(dir, "usage.json");
  return new Promise<Timed>((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ["--require", USAGE, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env, BENCH_USAGE_FILE: usageFile },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code, signal) => {
      const ms = performance.now() - started;
      clearTimeout(timer);
      try {
        if (code !== 0)
          throw new Error(
            `node ${args.join(" ")} exited with ${code ?? signal}:\n${stderr.slice(-4000)}${stdout.slice(-2000)}`,
          );
        const usage = JSON.parse(readFileSync(usageFile, "utf8")) as { maxRssKb: number; cpuMs: number };
        resolve({ ms, rssMb: usage.maxRssKb / 1024, cpuMs: usage.cpuMs, stdout });
      } catch (error) {
        reject(error);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The value at quantile q (0..1) by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Runs `fn` `runs` times, one after another, and returns the medians of its time and memory. */
export async function medianOf(
  runs: number,
  fn: () => Promise<Timed>,
): Promise<{ ms: number; rssMb: number; last: Timed }> {
  const results: Timed[] = [];
  for (let i = 0; i < runs; i++) results.push(await fn());
  return { ms: median(results.map((r) => r.ms)), rssMb: median(results.map((r) => r.rssMb)), last: results.at(-1)! };
}
