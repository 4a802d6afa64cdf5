import { resolve } from "node:path";

/** The repository's root folder, which every test that reads a file or starts a script resolves against. */
export const REPO = resolve(__dirname, "..", "..");
