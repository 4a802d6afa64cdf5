import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AppReadinessReason, READINESS_ADVICE, readinessBody } from "../../contract/readiness";
import {
  GUARD_MARKER,
  type HttpsFake,
  type RunResult,
  json,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";

/**
 * deploy/wait-ready.ts run for real against a small HTTPS server on 127.0.0.1 whose `/readyz` answers a scripted
 * sequence, as the app would during and after a deployment.
 */

let work: ReturnType<typeof scratch>;
let site: HttpsFake | undefined;

beforeEach(() => {
  work = scratch();
});

afterEach(async () => {
  await site?.close();
  site = undefined;
  work.dispose();
});

/** One answer of `/readyz`: a contract reason (200 when ok, 503 otherwise), or a bare status with no contract body. */
type Answer = AppReadinessReason | { bare: number };

async function serve(sequence: Answer[]): Promise<HttpsFake> {
  let n = 0;
  site = await startHttps(work.dir, (req, res) => {
    if (req.url !== "/readyz") {
      res.writeHead(404);
      res.end();
      return;
    }
    const answer = sequence[Math.min(n++, sequence.length - 1)]!;
    if (typeof answer === "object") {
      res.writeHead(answer.bare, { "content-type": "text/html" });
      res.end("<html>Service Unavailable</html>");
    } else json(res, answer === "ok" ? 200 : 503, readinessBody(answer));
  });
  return site;
}

async function wait(extra: string[] = []): Promise<RunResult> {
  const result = await runScript("wait-ready.ts", ["--host", site!.host, "--interval-ms", "20", ...extra], {
    NODE_EXTRA_CA_CERTS: site!.caPath,
  });
  expect(result.stderr).not.toContain(GUARD_MARKER);
  return result;
}

describe("wait-ready against a scripted /readyz", () => {
  it("finishes at once when the app is ready", async () => {
    await serve(["ok"]);
    const result = await wait();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("ready: the managed identity's token was accepted by Entra");
    expect(site!.received).toHaveLength(1);
  });

  it(
    "keeps waiting through federated-credential propagation " + "(AADSTS70021), says so, and finishes when ready",
    async () => {
      await serve([{ bare: 503 }, "fic_propagating", "fic_propagating", "ok"]);
      const result = await wait();
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("the app is starting or restarting");
      expect(result.stdout).toContain("the federated credential is still propagating in Entra (AADSTS70021)");
      // Each condition is reported once, not once per probe.
      expect(result.stdout.match(/propagating/g)?.length).toBe(2); // the summary and the code, on one line
      expect(site!.received).toHaveLength(4);
    },
  );

  it.each([
    ["fic_subject_mismatch", "AADSTS700213", "principal (object) ID, not its client ID"],
    ["fic_issuer_mismatch", "AADSTS700211", "{instance}{tenant}/v2.0"],
    [
      "mi_identity_not_found",
      "Unable to load the proper Managed Identity",
      "ManagedIdentityClientId must be the client ID",
    ],
  ] as const)("fails at once on %s, with the fix", async (reason, said, fix) => {
    await serve(["fic_propagating", reason]);
    const result = await wait();
    expect(result.code).toBe(7);
    expect(result.stderr).toContain(said);
    expect(result.stderr).toContain(`[${reason}]`);
    expect(result.stderr).toContain(fix);
    expect(site!.received).toHaveLength(2);
  });

  it("says what it saw last when the bound runs out", async () => {
    await serve([{ bare: 502 }]);
    const result = await wait(["--timeout-minutes", "0.01"]);
    expect(result.code).toBe(9);
    expect(result.stderr).toContain(
      `/readyz did not report ready within 1 s; last seen: ${READINESS_ADVICE.http_error.summary} [http_error]`,
    );
  });

  it("treats nothing listening as not started yet, and times out saying so", async () => {
    const result = await runScript(
      "wait-ready.ts",
      ["--host", "localhost:9", "--interval-ms", "20", "--timeout-minutes", "0.01"],
      {},
    );
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("[not_started]");
  });

  it("does not take a 200 without the contract's body for ready", async () => {
    site = await startHttps(work.dir, (_req, res) => json(res, 200, { status: "ready" }));
    const result = await wait(["--timeout-minutes", "0.01"]);
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("[unexpected_response]");
  });
});

describe("wait-ready on the readiness path of an app of your own (--path)", () => {
  /** A site whose `path` answers each status of `sequence` in turn (the last one from then on); 404 elsewhere. */
  async function serveStatuses(path: string, sequence: { status: number; location?: string }[]): Promise<void> {
    let n = 0;
    site = await startHttps(work.dir, (req, res) => {
      if (req.url !== path) {
        res.writeHead(404);
        res.end();
        return;
      }
      const { status, location } = sequence[Math.min(n++, sequence.length - 1)]!;
      res.writeHead(status, location ? { location } : {});
      res.end("anything: an app of your own need not speak the readiness contract");
    });
  }

  it("takes a 200 for ready, whatever the body, after the previous version's 404s", async () => {
    await serveStatuses("/health/ready", [{ status: 404 }, { status: 404 }, { status: 200 }]);
    const result = await wait(["--path", "/health/ready"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("answered 404 (no such path yet");
    expect(result.stdout).toContain(`ready: https://${site!.host}/health/ready answered 200`);
    expect(site!.received).toHaveLength(3);
  });

  it("never follows a redirect to sign-in, and says at the bound that the path must answer without it", async () => {
    await serveStatuses("/ready", [{ status: 302, location: "https://login.microsoftonline.com/x" }]);
    const result = await wait(["--path", "/ready", "--timeout-minutes", "0.01"]);
    expect(result.code).toBe(9);
    expect(result.stderr).toContain("last seen: 302, a redirect (not followed)");
    expect(result.stderr).toMatch(/fix: \/ready redirects, likely to sign-in/);
    expect(site!.received.every((r) => r.url === "/ready")).toBe(true);
  });

  it("refuses a --path that is not a path of the site before probing anything", async () => {
    await serveStatuses("/ready", [{ status: 200 }]);
    const result = await wait(["--path", "@evil.example/ready"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--path \(or READY_PATH\) "@evil\.example\/ready" must start with "\/"/);
    expect(site!.received).toHaveLength(0);
  });
});
