/**
 * What the sign-in must refuse or explain, over real HTTP against the emulator: rejected ID tokens, forged, replayed
 * and foreign callback responses, open redirects, and Entra-side failures (each with the page that explains it).
 */
import { describe, expect, it } from "vitest";
import type { EmulatorFaults, EmulatorRegistration, IdTokenMode, RunningEmulator } from "../../emulator";
import {
  expectCleanLogs,
  formPostFor,
  me,
  problemCode,
  problemFix,
  problemTitle,
  signedInAgent,
  useStack,
} from "../support/app-stack";
import { UserAgent, type FormPost, type Page } from "../../local/user-agent";

const stack = useStack();
/** Every code and state the tests saw, to prove that refusing them logs none of them. */
const secrets = new Set<string>();

const url = (path: string): string => `${stack.baseUrl}${path}`;
const signIn = (): Promise<Page> => new UserAgent().navigate(url("/signin"));

async function submit(ua: UserAgent, form: FormPost, fields: Record<string, string> = form.fields): Promise<Page> {
  return ua.navigate(form.action, { method: "POST", form: fields });
}

describe("rejected ID tokens", () => {
  it.each<[IdTokenMode, RegExp]>([
    ["bad-signature", /signature does not verify/],
    ["alg-none", /algorithm &quot;none&quot;; only RS256/],
    ["wrong-iss", /its issuer is not/],
    ["wrong-aud", /audience is not this app&#39;s client ID/],
    ["wrong-tid", /its tenant \(tid/],
    ["expired", /it has expired/],
    ["unknown-kid", /key \(kid\) the authority does not publish/],
    ["missing-sub", /claim &quot;sub&quot;/],
  ])("rejects an ID token in mode %s with a clear page and no session", async (mode, reason) => {
    stack.emu.idTokenMode = mode;
    const ua = new UserAgent();
    const page = await ua.navigate(url("/signin"));
    expect(page.status).toBe(401);
    expect(problemTitle(page)).toBe("The ID token from Entra was rejected.");
    expect(problemFix(page)).toMatch(reason);
    expect(page.body).not.toMatch(/eyJ|at \w+ \(/); // no token, no stack trace
    expect((await me(stack, ua)).status).toBe(401);
  });

  it("rejects an ID token whose nonce is not this attempt's", async () => {
    stack.emu.idTokenMode = "nonce-mismatch";
    const ua = new UserAgent();
    const page = await ua.navigate(url("/signin"));
    expect(page.status).toBe(401);
    expect(problemTitle(page)).toMatch(/nonce mismatch/);
    expect((await me(stack, ua)).status).toBe(401);
  });

  it("keeps serving after every rejection", async () => {
    expect((await new UserAgent().request(url("/healthz"))).status).toBe(200);
    const { page } = await signedInAgent(stack);
    expect(page.body).toContain("Ada Lovelace");
  });
});

describe("sign-in responses that must be refused", () => {
  it.each<[string, (fields: Record<string, string>) => Record<string, string>, string]>([
    ["without state", (fields) => ({ code: fields.code! }), "Sign-in response without state"],
    [
      "with an unknown state",
      (fields) => ({ ...fields, state: "x".repeat(43) }),
      "Sign-in attempt unknown or already used",
    ],
    ["with neither code nor error", (fields) => ({ state: fields.state! }), "Sign-in response without code"],
  ])("refuses a callback %s", async (_case, edit, title) => {
    const ua = new UserAgent();
    const form = await formPostFor(stack, ua, secrets);
    const page = await submit(ua, form, edit(form.fields));
    expect(page.status).toBe(400);
    expect(problemTitle(page)).toBe(title);
  });

  it("refuses a replayed response (state is single-use)", async () => {
    const ua = new UserAgent();
    const form = await formPostFor(stack, ua, secrets);
    expect((await submit(ua, form)).body).toContain("Ada Lovelace");
    const replay = await submit(ua, form);
    expect(replay.status).toBe(400);
    expect(problemTitle(replay)).toBe("Sign-in attempt unknown or already used");
  });

  it("refuses a replayed code under a fresh state (Entra answers AADSTS54005)", async () => {
    const ua = new UserAgent();
    const used = await formPostFor(stack, ua, secrets);
    await submit(ua, used);
    const fresh = await formPostFor(stack, ua, secrets);
    const page = await submit(ua, fresh, { ...fresh.fields, code: used.fields.code! });
    expect(page.status).toBe(403);
    expect(problemCode(page)).toBe("AADSTS54005");
    expect(problemTitle(page)).toBe("This sign-in response was already used.");
  });

  it("refuses a response delivered to another browser (login CSRF)", async () => {
    const form = await formPostFor(stack, new UserAgent(), secrets);
    const victim = new UserAgent();
    const page = await submit(victim, form);
    expect(page.status).toBe(400);
    expect(problemTitle(page)).toBe("Sign-in started in another browser");
    expect((await me(stack, victim)).status).toBe(401);
  });

  it.each([
    [
      "AADSTS65004: User declined to consent to access the app.",
      "AADSTS65004",
      "Consent to the application was declined.",
    ],
    ["The user cancelled.", undefined, "Sign-in was cancelled or access was denied."],
  ])("explains access_denied sent to the callback (%s)", async (description, code, title) => {
    stack.emu.faults.authorizeError = { error: "access_denied", description };
    const page = await signIn();
    expect(page.status).toBe(403);
    expect(problemCode(page)).toBe(code);
    expect(problemTitle(page)).toBe(title);
    expect(problemFix(page)).toMatch(/consent/);
  });

  it.each([
    ["https://evil.example/"],
    ["//evil.example/"],
    ["/\\evil.example"],
    ["\\\\evil.example"],
    ["/\t/evil.example"],
    ["javascript:alert(1)"],
  ])("refuses the open redirect returnUrl=%j with a 400 page and never starts a sign-in", async (returnUrl) => {
    const before = stack.emu.stats.authorizeRequests;
    const page = await new UserAgent().navigate(url(`/signin?returnUrl=${encodeURIComponent(returnUrl)}`));
    expect(page.status).toBe(400);
    expect(problemTitle(page)).toBe("Return URL refused");
    expect(page.headers.get("location")).toBeNull();
    expect(stack.emu.stats.authorizeRequests).toBe(before);
  });
});

describe("Entra-side failures", () => {
  // Order matters: after a 503, msal-node replays it for identical token requests until its Retry-After passes.
  it.each<[string, (emu: RunningEmulator) => Partial<EmulatorRegistration["fic"]>, RegExp]>([
    [
      "AADSTS700213",
      (emu) => ({ subject: emu.registration.uami.clientId }),
      /principal \(object\) ID, not its client ID/,
    ],
    [
      "AADSTS700211",
      (emu) => ({ issuer: `https://sts.windows.net/${emu.tenantId}/` }),
      /\{Instance\}\{TenantId\}\/v2\.0 exactly/,
    ],
    ["AADSTS700212", () => ({ audiences: ["api://AzureADTokenExchangeUSGov"] }), /api:\/\/AzureADTokenExchange/],
  ])("explains a federated credential that does not match the managed identity (%s)", async (code, mismatch, fix) => {
    const fic = stack.emu.registration.fic;
    stack.emu.registration.fic = { ...fic, ...mismatch(stack.emu) };
    try {
      const page = await signIn();
      expect(page.status).toBe(502);
      expect(problemCode(page)).toBe(code);
      expect(problemFix(page)).toMatch(fix);
    } finally {
      stack.emu.registration.fic = fic;
    }
  });

  it.each<[string, Partial<EmulatorFaults>, string | undefined, RegExp, number]>([
    // A federated credential that has not propagated yet.
    [
      "ficNotPropagated",
      { ficNotPropagated: true },
      "AADSTS70021",
      /^No federated credential on the app registration matches/,
      0,
    ],
    ["tokenEndpointDown", { tokenEndpointDown: true }, undefined, /^Entra could not be reached\.$/, 0],
    // msal-node throttles the identical request client-side for the 503's Retry-After (1 s), so this row comes last.
    [
      "tokenEndpointDown 503",
      { tokenEndpointDown: "503" },
      "AADSTS90033",
      /^Entra is temporarily unavailable\.$/,
      1_100,
    ],
  ])("explains the fault %s with a 503 page, then recovers", async (_fault, faults, code, title, retryAfterMs) => {
    Object.assign(stack.emu.faults, faults);
    const page = await signIn();
    expect(page.status).toBe(503);
    expect(problemCode(page)).toBe(code);
    expect(problemTitle(page)).toMatch(title);

    Object.assign(stack.emu.faults, { ficNotPropagated: false, tokenEndpointDown: false });
    await new Promise((resolve) => setTimeout(resolve, retryAfterMs));
    expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
  });

  it("reports ready while the managed identity works", async () => {
    const page = await new UserAgent().request(url("/readyz"));
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toEqual({ status: "ready", reason: "ok" });
  });
});

describe("logs", () => {
  it("logs every refusal without a token, code or state", () => {
    expectCleanLogs(stack, secrets);
  });
});
