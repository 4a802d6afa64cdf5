/**
 * The per-session token cache bound: a session whose tokens exceed it keeps none (and says so in the log), and the page
 * asks the user to sign in again instead of failing. The bound here is far below one user's tokens.
 */
import { describe, expect, it } from "vitest";
import { signedInAgent, useStack } from "../support/app-stack";

const stack = useStack({ deps: { sessions: { maxTokenCacheBytes: 512 } } });

describe("a token cache over the session's bound", () => {
  it("keeps no tokens, logs it, and asks to sign in again on the page", async () => {
    const tokenRequests = stack.emu.stats.tokenRequests;
    const { page } = await signedInAgent(stack);
    expect(page.status).toBe(200);
    expect(page.body).toContain(
      '<strong id="graph-notice-title">The app holds no Microsoft ' + "Graph token for this sign-in.</strong>",
    );
    expect(stack.emu.stats.tokenRequests).toBe(tokenRequests + 1); // the redemption only
    expect(stack.logs.some((line) => line.includes("token cache over its bound"))).toBe(true);
  });
});
