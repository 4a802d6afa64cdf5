/**
 * Single-flight client assertion: msal-node caches the MI token, but concurrent first calls would each reach the
 * endpoint. In a fresh process (msal-node's MI cache is process-wide), 50 simultaneous sign-ins must cost one MI
 * request.
 */
import { expect, it } from "vitest";
import { signedInAgent, useStack } from "../support/app-stack";

// The emulator signs every browser in as the same user (Ada): let her keep all 50 sessions (the default is 10).
const stack = useStack({ deps: { sessions: { maxSessionsPerUser: 50 } } });

it("signs in 50 users at once with a single managed-identity request", async () => {
  expect(stack.emu.stats.miRequests).toBe(0);
  const results = await Promise.all(Array.from({ length: 50 }, () => signedInAgent(stack)));
  for (const { page } of results) {
    expect(page.status).toBe(200);
    expect(page.body).toContain("Ada Lovelace");
  }
  expect(stack.emu.stats.tokenRequests).toBe(50);
  expect(stack.emu.stats.miRequests).toBe(1);
});

it("keeps using the cached token for later sign-ins, while /readyz proves the endpoint with a fresh one", async () => {
  await signedInAgent(stack);
  expect(stack.emu.stats.miRequests).toBe(1);
  expect((await fetch(`${stack.baseUrl}/readyz`)).status).toBe(200);
  expect(stack.emu.stats.miRequests).toBe(2);
  await signedInAgent(stack);
  expect(stack.emu.stats.miRequests).toBe(2);
});
