import type { AppImageRef } from "../../components/container-app-host";
import { type RawStackConfig, StackConfigError, parseStackConfig } from "../../components/stack-config";

/** An image as buildAppImage() describes one, made up: the mocks never read the layout folder. */
export const TEST_IMAGE: AppImageRef = {
  contentSha256: "a".repeat(64),
  repository: "secretless-signin",
  baseImage: `docker.io/library/node@sha256:${"b".repeat(64)}`,
  layoutDir: "dist/app-image",
};

/** The problems parseStackConfig reports for `raw`; throws when it accepts it. */
export function configProblemsOf(raw: RawStackConfig): { key: string; message: string }[] {
  try {
    parseStackConfig(raw);
  } catch (e) {
    if (!(e instanceof StackConfigError)) throw e;
    return e.problems;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
}
