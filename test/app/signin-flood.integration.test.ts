/**
 * A flood of /signin from one client address is rate-limited (default: 60 a minute per address), and it does not
 * push out another browser's pending sign-in. (The global bound, for floods from many addresses, is in
 * signin-bound.integration.test.ts.)
 */
import { expect, it } from "vitest";
import { formPostFor, problemTitle, useStack } from "../support/app-stack";
import { flood } from "../support/flood";
import { UserAgent } from "../../local/user-agent";

const stack = useStack();

it("keeps a victim's pending sign-in through a flood of /signin from " +
  "one address, answering 429 beyond the limit", async () => {
  const victim = new UserAgent();
  const form = await formPostFor(stack, victim);

  const statuses = await flood(`${stack.baseUrl}/signin`, 2_000, 50);
  expect(statuses.get(302)).toBe(59); // the victim's was the first of 60
  expect(statuses.get(429)).toBe(2_000 - 59);

  const limited = await new UserAgent().request(`${stack.baseUrl}/signin`);
  expect(limited.status).toBe(429);
  expect(problemTitle(limited)).toBe("Too many sign-in attempts");
  expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
  expect((await fetch(`${stack.baseUrl}/`)).status).toBe(200); // only /signin is limited

  const page = await victim.navigate(form.action, { method: "POST", form: form.fields });
  expect(page.status).toBe(200);
  expect(page.body).toContain("Ada Lovelace");
}, 20_000);
