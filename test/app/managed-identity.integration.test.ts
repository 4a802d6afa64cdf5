/**
 * Faults of App Service's managed-identity endpoint, seen through the app. The emulator's MI tokens live 120 s here,
 * under msal-node's 5-minute refresh margin, so msal-node never serves them from cache and every sign-in and
 * /readyz reaches the endpoint. msal-node retries 404/408/429/500/503/504 three times, ≥ 1 s apart.
 */
import { describe, expect, it } from "vitest";
import { READINESS_ADVICE } from "../../contract/readiness";
import { problemFix, problemTitle, signedInAgent, useStack } from "../support/app-stack";
import { UserAgent, type Page } from "../../local/user-agent";

// /readyz never reuses a result here: each call checks the endpoint again (test/app/readyz.integration.test.ts covers
// the cache).
const stack = useStack({
  emulator: { tokenLifetimeSeconds: 120 },
  deps: { readiness: { successTtlMs: 0, failureTtlMs: 0 } },
});

const url = (path: string): string => `${stack.baseUrl}${path}`;

async function readyz(): Promise<{ status: number; body: Record<string, unknown>; raw: string }> {
  const page = await new UserAgent().request(url("/readyz"));
  return { status: page.status, body: JSON.parse(page.body) as Record<string, unknown>, raw: page.body };
}

/** Runs `action` and returns how many requests the MI endpoint saw meanwhile. */
async function miRequestsDuring(action: () => Promise<unknown>): Promise<number> {
  const before = stack.emu.stats.miRequests;
  await action();
  return stack.emu.stats.miRequests - before;
}

describe("managed identity endpoint faults", () => {
  // A sign-in here is two token requests, each presenting the assertion: the code redemption, and the home page's
  // Graph token lookup (msal-node resolves the assertion before it looks in the cache).
  it("signs in with a fresh MI token each time the cached one is due for refresh", async () => {
    expect(await miRequestsDuring(() => signedInAgent(stack))).toBe(2);
    expect(await miRequestsDuring(() => signedInAgent(stack))).toBe(2);
  });

  it.each([
    [500, undefined],
    [503, 1],
    [429, 1],
  ])("retries MI %i (Retry-After %s) and still signs in", async (status, retryAfterSeconds) => {
    stack.emu.faults.mi = { status, times: 2, ...(retryAfterSeconds ? { retryAfterSeconds } : {}) };
    let page: Page | undefined;
    const requests = await miRequestsDuring(async () => ({ page } = await signedInAgent(stack)));
    expect(page!.body).toContain("Ada Lovelace");
    expect(requests).toBe(4); // two failures and a success for the redemption, one for the home page's Graph token
  });

  it("shows a clear page when the MI endpoint keeps failing, and reports not ready until it recovers", async () => {
    stack.emu.faults.mi = { status: 429, retryAfterSeconds: 1 };
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(503);
    expect(problemTitle(page)).toBe("The app could not get a token from its managed identity.");
    expect(problemFix(page)).toContain("check the identity is still attached");
    expect(READINESS_ADVICE.mi_unavailable.fix).toContain("check the identity is still attached");

    const notReady = await readyz();
    expect(notReady.status).toBe(503);
    expect(notReady.body).toEqual({ status: "not_ready", reason: "mi_unavailable" });

    stack.emu.faults.mi = null;
    expect((await readyz()).status).toBe(200);
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("shows a clear page when the MI endpoint is down, and reports not ready until it is back", async () => {
    stack.emu.faults.miDown = true;
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBe(503);
    expect(problemTitle(page)).toBe("The app could not get a token from its managed identity.");
    // The endpoint's URL, its port, the identity's client ID and the socket error stay in the log.
    for (const internal of [
      stack.emu.identityEndpoint,
      new URL(stack.emu.identityEndpoint).host,
      stack.emu.registration.uami.clientId,
      "ECONNRESET",
      "fetch failed",
    ]) {
      expect(page.body).not.toContain(internal);
    }
    expect(stack.logs.join("\n")).toContain(stack.emu.identityEndpoint);
    expect((await readyz()).status).toBe(503);

    stack.emu.faults.miDown = false;
    expect((await readyz()).status).toBe(200);
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("explains an identity the endpoint does not know (wrong ManagedIdentityClientId)", async () => {
    const uami = { ...stack.emu.registration.uami };
    stack.emu.registration.uami = { ...uami, clientId: "00000000-0000-4000-8000-000000000000" };
    try {
      const page = await new UserAgent().navigate(url("/signin"));
      expect(page.status).toBe(503);
      expect(problemFix(page)).toContain("must be the client ID of a user-assigned identity attached to the site");
      expect((await readyz()).body).toEqual({ status: "not_ready", reason: "mi_identity_not_found" });
    } finally {
      stack.emu.registration.uami = uami;
    }
  });

  it("never puts a token in /readyz", async () => {
    const ready = await readyz();
    expect(ready.status).toBe(200);
    expect(ready.raw).not.toMatch(/eyJ/);
  });
});
