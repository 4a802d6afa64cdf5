import type { AppImageRef } from "../../components/container-app-host";

/** An image as buildAppImage() describes one, made up: the mocks never read the layout folder. */
export const TEST_IMAGE: AppImageRef = {
  contentSha256: "a".repeat(64),
  repository: "secretless-signin",
  baseImage: `docker.io/library/node@sha256:${"b".repeat(64)}`,
  layoutDir: "dist/app-image",
};
