/**
 * vitest globalSetup of the unit projects that run the real program (index.ts): builds the app package and the
 * Container Apps image's app layer once, in vitest's own process, before any test file starts. The program's
 * packageApp() and buildAppImage() then find them up to date (deploy/package-app.ts and deploy/container-image.ts cache
 * them on the hash of their inputs) and start no esbuild process inside a unit test file, whatever state dist/ was in
 * (a fresh clone, or sources edited since the last build).
 */
import { buildAppImage } from "../../deploy/container-image";
import { packageApp } from "../../deploy/package-app";

export default async function setup(): Promise<void> {
  await packageApp();
  // hosting containerApps (test/policy/switches.test.ts, test/policy/container-apps.test.ts) builds the image instead.
  await buildAppImage();
}
