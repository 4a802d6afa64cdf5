/**
 * A sign-in attempt belongs to the browser that started it, and only the server mints that binding: forged and
 * misdelivered callbacks and planted `signin` cookies, sent as an attacker would, against the app and the emulator.
 */
import { describe, expect, it } from "vitest";
import { formPostFor, me, problemTitle, useStack } from "../support/app-stack";
import { UserAgent, type FormPost } from "../../local/user-agent";

const stack = useStack();
const url = (path: string): string => `${stack.baseUrl}${path}`;
const submit = (ua: UserAgent, form: FormPost) => ua.navigate(form.action, { method: "POST", form: form.fields });
const PLANTED = "A".repeat(43); // the shape of a real binding: 256 bits, base64url

describe("a callback from the wrong browser", () => {
  it.each<[string, (attacker: UserAgent) => Promise<void>]>([
    ["without the sign-in cookie", async () => undefined],
    [
      "with a planted cookie the server never minted",
      async (attacker) => attacker.setCookie(stack.baseUrl, "signin", PLANTED),
    ],
    ["with its own pending sign-in's cookie", async (attacker) => void (await formPostFor(stack, attacker))],
  ])("is refused %s and leaves the real user's attempt intact", async (_case, prepare) => {
    const user = new UserAgent();
    const form = await formPostFor(stack, user); // the response Entra would post, with the right state

    const attacker = new UserAgent();
    await prepare(attacker);
    const forged = await submit(attacker, form);
    expect(forged.status).toBe(400);
    expect(problemTitle(forged)).toMatch(/^Sign-in (started in another browser|attempt unknown or already used)$/);
    expect((await me(stack, attacker)).status).toBe(401);

    const real = await submit(user, form);
    expect(real.status).toBe(200);
    expect(real.body).toContain("Ada Lovelace");
  });
});

describe("the sign-in cookie", () => {
  it("never adopts a planted value: /signin mints its own, and the planted one binds nothing", async () => {
    const victim = new UserAgent();
    victim.setCookie(stack.baseUrl, "signin", PLANTED);
    const started = await victim.request(url("/signin"));
    expect(started.status).toBe(302);
    const minted = victim.cookie(stack.baseUrl, "signin");
    expect(minted).toMatch(/^[\w-]{43}$/);
    expect(minted).not.toBe(PLANTED);

    // The attempt is bound to the minted value only: the planted one cannot complete it.
    const form = await formPostFor(stack, victim);
    const holder = new UserAgent();
    holder.setCookie(stack.baseUrl, "signin", PLANTED);
    expect((await submit(holder, form)).status).toBe(400);
    expect((await submit(victim, form)).body).toContain("Ada Lovelace");
  });

  it("keeps one binding per browser, so sign-ins started in two tabs both finish", async () => {
    const ua = new UserAgent();
    const first = await formPostFor(stack, ua);
    const binding = ua.cookie(stack.baseUrl, "signin");
    const second = await formPostFor(stack, ua);
    expect(ua.cookie(stack.baseUrl, "signin")).toBe(binding);
    expect((await submit(ua, first)).body).toContain("Ada Lovelace");
    expect((await submit(ua, second)).body).toContain("Ada Lovelace");
  });

  it("holds at most 5 sign-ins per browser, dropping that browser's own oldest", async () => {
    const ua = new UserAgent();
    const forms: FormPost[] = [];
    for (let i = 0; i < 7; i++) forms.push(await formPostFor(stack, ua));
    expect(problemTitle(await submit(ua, forms[0]!))).toBe("Sign-in attempt unknown or already used");
    expect(problemTitle(await submit(ua, forms[1]!))).toBe("Sign-in attempt unknown or already used");
    expect((await submit(ua, forms[6]!)).body).toContain("Ada Lovelace");
  });
});
