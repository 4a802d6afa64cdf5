/**
 * The bundle App Service runs, with telemetry on: server.js loads telemetry.js (bundled apart, so an app with
 * telemetry off never parses it), signs a user in, and on SIGTERM sends what is queued to the emulator's ingestion
 * stand-in, authenticated with the managed identity's token.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildAppBundle } from "../../deploy/build-app";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { childApp, freePort, type ChildApp } from "../../local/child-app";
import { startLocalStack, type LocalStack } from "../../local/stack";
import { UserAgent } from "../../local/user-agent";

const dir = mkdtempSync(join(tmpdir(), "telemetry-bundle-"));
let stack: LocalStack<ChildApp> | undefined;
afterAll(async () => {
  await stack?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the bundled app with telemetry on", () => {
  it("loads telemetry.js and sends a sign-in's requests and steps to the stand-in when it stops", async () => {
    const bundle = await buildAppBundle(dir, { minify: true, sourcemap: false });
    expect(bundle.inputs.some((input) => input.includes("@azure/monitor-opentelemetry-exporter"))).toBe(true);
    const output: string[] = [];
    stack = await startLocalStack(
      childApp({
        args: [bundle.outfile],
        port: await freePort(),
        output,
        overrides: async (emu) => emu.telemetryEnv(),
      }),
    );
    trustEmulatorCertificate(stack.emu);
    const page = await new UserAgent().navigate(`${stack.app.url}/signin`);
    expect(page.status).toBe(200);
    expect(page.body).toContain("Ada Lovelace");
    // SIGTERM: the graceful shutdown flushes the queues before the process exits.
    await stack.app.close();

    const received = stack.emu.telemetry.envelopes;
    const names = (baseType: string) =>
      received.filter((envelope) => envelope.data?.baseType === baseType).map((e) => e.data?.baseData?.name);
    expect(names("RequestData")).toEqual(expect.arrayContaining(["GET /signin", "POST /signin-oidc", "GET /"]));
    expect(names("RemoteDependencyData")).toEqual(
      expect.arrayContaining(["signin.authorize", "GET /msi/token", "GET /graph/v1.0/me"]),
    );
    expect(stack.emu.telemetry.refused).toEqual([]);
    expect(output.join("")).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
  });
});
