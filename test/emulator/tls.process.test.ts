import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../../emulator";

// Not useEmulator(): the child must see an emulator this process has not trusted.
let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(() => emu.close());

describe("trusting the emulator's certificate", () => {
  it("a child process trusts it through the NODE_EXTRA_CA_CERTS that appEnv provides", async () => {
    const script =
      `fetch(process.env.URL).then((r) => console.log(r.status), (e) ` + `=> console.log(e.cause?.code ?? e.message))`;
    const run = (env: Record<string, string>) =>
      promisify(execFile)(process.execPath, ["-e", script], {
        env: { PATH: process.env.PATH ?? "", URL: `${emu.issuer}/.well-known/openid-configuration`, ...env },
      });
    expect((await run({})).stdout.trim()).toBe("DEPTH_ZERO_SELF_SIGNED_CERT");
    expect((await run({ NODE_EXTRA_CA_CERTS: emu.appEnv().NODE_EXTRA_CA_CERTS! })).stdout.trim()).toBe("200");
  });
});
