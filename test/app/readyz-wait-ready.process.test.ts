/**
 * deploy/wait-ready.ts run for real (spawned as the Pulumi command runs it) against the real app and the emulator. The
 * waiter only speaks https, as App Service's front end does; the app behind it speaks plain http, as on App Service. So
 * a small HTTPS front on 127.0.0.1 (the deploy tests' self-signed server) passes each request to the app, standing in
 * for the platform's TLS front end; the waiter, the app's /readyz and its check against Entra are all real.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { READINESS_ADVICE } from "../../contract/readiness";
import {
  GUARD_MARKER,
  type HttpsFake,
  type RunResult,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";
import { useStack } from "../support/app-stack";

// Failures are reused for 200 ms instead of 10 s, so the propagation case ends quickly; successes are not reused.
const stack = useStack({ deps: { readiness: { successTtlMs: 0, failureTtlMs: 200 } } });

let work: ReturnType<typeof scratch>;
let front: HttpsFake;
/** The reason of every answer the front passed back. */
let answers: string[];
/** Called with each answer, to change the emulator while the waiter runs. */
let onAnswer: (reason: string) => void;

beforeEach(async () => {
  work = scratch();
  answers = [];
  onAnswer = () => undefined;
  front = await startHttps(work.dir, (req, res) => {
    void fetch(`${stack.baseUrl}${req.url}`, { headers: { accept: "application/json" } }).then(async (response) => {
      const body = await response.text();
      const reason = (JSON.parse(body) as { reason?: string }).reason ?? "";
      answers.push(reason);
      onAnswer(reason);
      res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json" });
      res.end(body);
    });
  });
});

afterEach(async () => {
  await front.close();
  work.dispose();
});

async function waitReady(): Promise<RunResult> {
  const result = await runScript(
    "wait-ready.ts",
    ["--host", front.host, "--interval-ms", "50", "--timeout-minutes", "0.5"],
    {
      NODE_EXTRA_CA_CERTS: front.caPath,
    },
  );
  expect(result.stderr).not.toContain(GUARD_MARKER);
  return result;
}

describe("wait-ready against the app and the emulator", () => {
  it("finishes when the app has proved the trust chain", async () => {
    const result = await waitReady();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "ready: the managed identity's token was accepted by Entra as the app's credential",
    );
    expect(answers).toEqual(["ok"]);
  });

  it("keeps waiting while the federated credential propagates (AADSTS70021) and finishes once it has", async () => {
    stack.emu.faults.ficNotPropagated = true;
    onAnswer = (reason) => {
      if (answers.filter((r) => r === reason).length === 3 && reason === "fic_propagating")
        stack.emu.faults.ficNotPropagated = false;
    };
    const result = await waitReady();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${READINESS_ADVICE.fic_propagating.summary} [fic_propagating]`);
    expect(answers.slice(0, 3)).toEqual(["fic_propagating", "fic_propagating", "fic_propagating"]);
    expect(answers.at(-1)).toBe("ok");
  });

  it("fails at once with the fix when the FIC's subject is the identity's client ID (AADSTS700213)", async () => {
    const fic = stack.emu.registration.fic;
    stack.emu.registration.fic = { ...fic, subject: stack.emu.registration.uami.clientId };
    try {
      const result = await waitReady();
      expect(result.code).toBe(7);
      expect(result.stderr).toContain("[fic_subject_mismatch]");
      expect(result.stderr).toContain(READINESS_ADVICE.fic_subject_mismatch.fix);
      expect(answers).toEqual(["fic_subject_mismatch"]);
    } finally {
      stack.emu.registration.fic = fic;
    }
  });
});
