/**
 * The test tiers, enforced: a vitest setup file that makes a unit file (`*.test.ts`) fail on any socket or child
 * process, and an integration file (`*.integration.test.ts`) fail on any child process. A file that needs more is
 * named for the tier it needs (`*.process.test.ts`, `*.e2e.test.ts`), whose projects do not load this guard.
 *
 * The patches are installed once per worker and judge the file running at call time, so a worker that vitest reuses
 * for another file judges that file.
 */
import childProcess from "node:child_process";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { basename } from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";

type Tier = "unit" | "integration" | "other";

/** The tier a test file's name claims. */
export function tierOf(file: string): Tier {
  const name = basename(file);
  if (/\.(process|e2e)\.test\.ts$/.test(name)) return "other";
  if (name.endsWith(".integration.test.ts")) return "integration";
  return name.endsWith(".test.ts") ? "unit" : "other";
}

function refuse(what: string, allowedFrom: string): never {
  const file = expect.getState().testPath ?? "this test file";
  const fix = `name it *.${allowedFrom}.test.ts or fake it`;
  throw new Error(`${basename(file)} ${what}, which its tier does not allow: ${fix}.`);
}

const INSTALLED = Symbol.for("secretless-entra-webapp.tier-guard");
const marked = globalThis as { [INSTALLED]?: true };
if (!marked[INSTALLED]) {
  marked[INSTALLED] = true;
  const tier = (): Tier => tierOf(expect.getState().testPath ?? "");

  type Fn = ((...args: unknown[]) => unknown) & { [promisify.custom]?: (...args: unknown[]) => unknown };
  const guard = (name: string, original: (...args: unknown[]) => unknown): Fn =>
    function (this: unknown, ...args: unknown[]) {
      if (tier() !== "other") refuse(`starts a child process (${name} ${String(args[0])})`, "process");
      return original.apply(this, args);
    };
  for (const name of ["spawn", "spawnSync", "exec", "execSync", "execFile", "execFileSync", "fork"] as const) {
    const original = childProcess[name] as Fn;
    const guarded = guard(name, original);
    // execFile and exec have a promisified form of their own (resolving { stdout, stderr }): guard it too.
    const custom = original[promisify.custom];
    if (custom) guarded[promisify.custom] = guard(name, custom);
    (childProcess as unknown as Record<string, unknown>)[name] = guarded;
  }

  const listen = net.Server.prototype.listen;
  net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
    if (tier() === "unit") refuse("listens on a socket", "integration");
    return (listen as (...a: unknown[]) => net.Server).apply(this, args);
  } as typeof listen;

  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    if (tier() === "unit") refuse("opens a socket", "integration");
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof connect;

  syncBuiltinESMExports();
}
