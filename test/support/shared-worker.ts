/**
 * Setup for the `unit-pulumi` project, whose files share their worker (isolation off) so @pulumi/pulumi and the
 * provider SDKs, loaded by Node outside vitest's module graph, load once per worker instead of once per file. Each
 * file still starts from a fresh copy of this repository's modules: a program entry (index.ts) runs again when a file
 * imports it, and a file's vi.mock applies to it alone. attachMocks (offline/azure-mocks.ts) resets Pulumi's runtime
 * state before each program.
 */
import { vi } from "vitest";

vi.resetModules();
