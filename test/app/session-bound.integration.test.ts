/**
 * Issue 19, attack 1, through the app: at the bound of live sessions a new sign-in gets a 503 page that says to try
 * later, and the users already signed in stay signed in (the bound is lowered from 10 000 to 2 here).
 */
import { expect, it } from "vitest";
import { formPostFor, me, problemTitle, signedInAgent, useStack } from "../support/app-stack";
import { UserAgent } from "../../local/user-agent";

// Lowered the way an operator would, by app setting.
const stack = useStack({ settings: { Sessions__MaxSessions: "2" } });

it("refuses a sign-in at the bound of live sessions with a try-later page, and signs no one else out", async () => {
  const first = await signedInAgent(stack);
  const second = await signedInAgent(stack);
  expect(first.page.body).toContain("Ada Lovelace");
  expect(second.page.body).toContain("Ada Lovelace");

  const third = new UserAgent();
  const form = await formPostFor(stack, third);
  const refused = await third.navigate(form.action, { method: "POST", form: form.fields });
  expect(refused.status).toBe(503);
  expect(problemTitle(refused)).toBe("Too many people are signed in");
  expect(refused.body).toContain("Try again later");
  expect(refused.headers.get("retry-after")).toBe("300");
  expect((await me(stack, third)).status).toBe(401);

  expect((await me(stack, first.ua)).status).toBe(200);
  expect((await me(stack, second.ua)).status).toBe(200);
  // Signing out makes room for the next one.
  const csrf = /name="csrf" value="([^"]+)"/.exec((await first.ua.request(`${stack.baseUrl}/`)).body)?.[1];
  expect(csrf).toBeDefined();
  await first.ua.request(`${stack.baseUrl}/signout`, { method: "POST", form: { csrf: csrf! } });
  expect((await me(stack, first.ua)).status).toBe(401);
  expect((await signedInAgent(stack)).page.body).toContain("Ada Lovelace");
});
