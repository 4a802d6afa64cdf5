/**
 * What a new user sees around a sign-in, over real HTTP against the emulator: the trust chain names the managed
 * identity's principal ID (so the FIC's subject visibly is that identity), and after signing out the home page says so
 * once, with a footer that fits a signed-out visitor.
 */
import { describe, expect, it } from "vitest";
import { signedInAgent, useStack } from "../support/app-stack";
import { cookieAttributes, UserAgent } from "../../local/user-agent";

const stack = useStack();
const url = (path: string): string => `${stack.baseUrl}${path}`;
const NOTICE = '<p class="notice" id="signed-out-notice" role="status">You are signed out.</p>';

describe("the trust chain", () => {
  it("shows the identity's client ID and principal ID, and that the FIC's subject is that principal ID", async () => {
    const { page } = await signedInAgent(stack);
    // The chain's text, without the markup that sets the values apart.
    const chain = (/<ol id="trust-chain"[\s\S]*?<\/ol>/.exec(page.body)?.[0] ?? "").replace(/<[^>]+>/g, "");
    const { clientId, principalId } = stack.emu.registration.uami;
    expect(chain).toContain(`user-assigned identity, client ID ${clientId}`);
    expect(chain).toContain(`principal ID ${principalId} (its token&#39;s oid)`);
    expect(chain).toContain(`subject ${principalId} = the identity&#39;s principal ID`);
  });
});

describe("after signing out", () => {
  it("says once that you are signed out, through a cookie that holds no id", async () => {
    const { ua, page } = await signedInAgent(stack);
    expect(page.body).not.toContain(NOTICE);
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1]!;
    const signOut = await ua.request(url("/signout"), { method: "POST", form: { csrf } });
    expect(signOut.status).toBe(303);
    const flag = ua.lastSetCookies.map(cookieAttributes).find((c) => c.name === "signed_out");
    expect(flag?.value).toBe("1");
    expect(flag?.attributes.get("max-age")).toBe("300");
    expect(flag?.attributes.has("httponly")).toBe(true);
    expect(flag?.attributes.get("samesite")).toBe("Lax");

    // Entra's end-session page sends the browser back to the home page.
    const signedOut = await ua.navigate(signOut.headers.get("location")!);
    const landing = await ua.navigate(/<a id="continue" href="([^"]+)"/.exec(signedOut.body)![1]!);
    expect(landing.body).toContain(NOTICE);
    expect(landing.body).toContain('id="sign-in"');
    expect(landing.body).not.toMatch(/Signed in with/);

    const again = await ua.navigate(url("/"));
    expect(again.body).not.toContain(NOTICE);
  });

  it("says nothing to a visitor who never signed in", async () => {
    const page = await new UserAgent().navigate(url("/"));
    expect(page.body).not.toContain(NOTICE);
    expect(page.body).toContain("This app's only credential is its managed identity's token");
  });
});
