/**
 * vitest globalSetup of the unit projects that run the real program (index.ts): builds the app package once, in
 * vitest's own process, before any test file starts. The program's packageApp() then finds the zip up to date
 * (deploy/package-app.ts caches it on the hash of its inputs) and starts no esbuild process inside a unit test file,
 * whatever state dist/ was in (a fresh clone, or sources edited since the last build).
 */
import { packageApp } from "../../deploy/package-app";

export default async function setup(): Promise<void> {
  await packageApp();
}
