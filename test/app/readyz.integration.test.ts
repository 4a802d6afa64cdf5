/**
 * `/readyz` proves the trust chain against the emulator: a fresh managed-identity token presented to Entra's
 * client-credentials grant, whose FIC check is the one a sign-in goes through. Results are cached (5 min ready, 10 s
 * not ready) and single-flighted; the tests move the app's readiness clock instead of waiting.
 *
 * The emulator's MI tokens live 24 h here (its default), so msal-node would answer every MI call from its cache: a
 * "not ready" for a down endpoint shows that /readyz asks the endpoint itself.
 */
import { describe, expect, it } from "vitest";
import { parseReadinessBody } from "../../contract/readiness";
import { useStack } from "../support/app-stack";

const SUCCESS_TTL_MS = 5 * 60_000;
const FAILURE_TTL_MS = 10_000;

let clock = 1_000_000;
const stack = useStack({ deps: { readiness: { now: () => clock } } });

/** Every /readyz body seen in this file, checked at the end for anything beyond the contract. */
const bodies: string[] = [];

async function readyz(): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${stack.baseUrl}/readyz`);
  const text = await response.text();
  bodies.push(text);
  return { status: response.status, body: JSON.parse(text) };
}

/** Runs `action` and returns how many client-credentials requests Entra (the emulator) saw meanwhile. */
async function entraRequestsDuring(action: () => Promise<unknown>): Promise<number> {
  const before = stack.emu.stats.clientCredentialsRequests;
  await action();
  return stack.emu.stats.clientCredentialsRequests - before;
}

/** Lets the cached result expire. */
function after(ms: number): void {
  clock += ms + 1;
}

const READY = { status: 200, body: { status: "ready", reason: "ok" } };
const notReady = (reason: string) => ({ status: 503, body: { status: "not_ready", reason } });

describe("/readyz", () => {
  it("reports ready after one client-credentials request, however many /readyz arrive at once", async () => {
    const miBefore = stack.emu.stats.miRequests;
    let answers: Array<{ status: number; body: unknown }> = [];
    const requests = await entraRequestsDuring(async () => {
      answers = await Promise.all(Array.from({ length: 25 }, () => readyz()));
    });
    expect(answers).toEqual(Array.from({ length: 25 }, () => READY));
    expect(requests).toBe(1);
    expect(stack.emu.stats.miRequests - miBefore).toBe(1);
  });

  it("answers from the cache for five minutes after a success, then check again", async () => {
    after(SUCCESS_TTL_MS - 2);
    expect(await entraRequestsDuring(() => Promise.all([readyz(), readyz(), readyz()]))).toBe(0);
    after(1);
    expect(await entraRequestsDuring(() => Promise.all([readyz(), readyz(), readyz()]))).toBe(1);
  });

  it(
    "reports a FIC that breaks after a success once the success period " +
      "ends, not hide it behind msal-node's cached token",
    async () => {
      after(SUCCESS_TTL_MS);
      expect(await readyz()).toEqual(READY);
      const fic = stack.emu.registration.fic;
      stack.emu.registration.fic = { ...fic, subject: stack.emu.registration.uami.clientId };
      try {
        expect(await readyz()).toEqual(READY); // still within the success period
        after(SUCCESS_TTL_MS);
        expect(await readyz()).toEqual(notReady("fic_subject_mismatch"));
        // The log has what the public body leaves out.
        const logged = stack.logs.filter((line) => line.includes("trust chain checked: not ready")).at(-1) ?? "";
        expect(logged).toContain("AADSTS700213");
        expect(logged).toContain('"reason":"fic_subject_mismatch"');
      } finally {
        stack.emu.registration.fic = fic;
      }
    },
  );

  it(
    "reports fic_propagating while Entra answers AADSTS70021, cache it " +
      "briefly, and reports ready once it has propagated",
    async () => {
      after(FAILURE_TTL_MS);
      stack.emu.faults.ficNotPropagated = true;
      let answers: Array<{ status: number; body: unknown }> = [];
      expect(
        await entraRequestsDuring(async () => {
          answers = await Promise.all(Array.from({ length: 25 }, () => readyz()));
        }),
      ).toBe(1);
      expect(answers).toEqual(Array.from({ length: 25 }, () => notReady("fic_propagating")));

      stack.emu.faults.ficNotPropagated = false;
      expect(await entraRequestsDuring(readyz)).toBe(0);
      expect((await readyz()).body).toEqual({ status: "not_ready", reason: "fic_propagating" }); // cached for 10 s
      after(FAILURE_TTL_MS);
      expect(await readyz()).toEqual(READY);
    },
  );

  it(
    "reports mi_unavailable when the managed-identity endpoint is " + "down, though msal-node holds a valid token",
    async () => {
      after(SUCCESS_TTL_MS);
      stack.emu.faults.miDown = true;
      expect(await entraRequestsDuring(async () => expect(await readyz()).toEqual(notReady("mi_unavailable")))).toBe(0);
      const logged = stack.logs.filter((line) => line.includes("trust chain checked: not ready")).at(-1) ?? "";
      expect(logged).toContain(stack.emu.identityEndpoint);

      stack.emu.faults.miDown = false;
      after(FAILURE_TTL_MS);
      expect(await readyz()).toEqual(READY);
    },
  );

  it("reports entra_unavailable when Entra's token endpoint drops the connection", async () => {
    after(SUCCESS_TTL_MS);
    stack.emu.faults.tokenEndpointDown = true;
    expect(await readyz()).toEqual(notReady("entra_unavailable"));
  });

  it("never puts an ID, a URL or a token in any /readyz body above: only the contract's status and code", () => {
    const reg = stack.emu.registration;
    const ids = [stack.emu.tenantId, reg.clientId, reg.uami.clientId, reg.uami.principalId, reg.servicePrincipalId];
    expect(bodies.length).toBeGreaterThan(60);
    for (const body of bodies) {
      expect(parseReadinessBody(JSON.parse(body))).toEqual(JSON.parse(body));
      expect(body).not.toMatch(/https?:|localhost|127\.0\.0\.1|eyJ/);
      for (const id of ids) expect(body.toLowerCase()).not.toContain(id.toLowerCase());
    }
  });
});
