/**
 * Test files that need a Debian program (redis-server, docker-registry): they run where it is installed, are skipped
 * with a message where it is not, and fail in CI (CI=true), where .ci/run installs it, so they cannot silently skip.
 */
import { describe } from "vitest";

/** `describe` when `binary` was found; else `describe.skip` with a message, or an error at load time in CI. */
export function describeWhenInstalled(
  binary: string | undefined,
  debianPackage: string,
  tests: string,
): typeof describe {
  if (binary) return describe;
  if (process.env.CI === "true") {
    throw new Error(
      `${debianPackage} is not installed, but CI=true: .ci/run installs it (apt-get install -y ${debianPackage}); ` +
        `the ${tests} must run in CI.`,
    );
  }
  return ((name: string, ...rest: unknown[]) => {
    console.warn(
      `${debianPackage} is not installed: skipping "${name}" (apt-get install -y ${debianPackage} to run it).`,
    );
    return (describe.skip as (...a: unknown[]) => void)(name, ...rest);
  }) as unknown as typeof describe;
}
