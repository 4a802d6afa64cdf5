/**
 * When the app holds its bound of browsers with a sign-in in progress, /signin refuses the newcomer (503 page) rather
 * than evict the oldest: a flood from many addresses (the rate limit is raised out of the way here, and the bound
 * lowered from 10 000 to 300 so the flood stays small) cannot make a victim's callback fail.
 */
import { expect, it } from "vitest";
import { formPostFor, problemTitle, useStack } from "../support/app-stack";
import { flood } from "../support/flood";
import { UserAgent } from "../../local/user-agent";

const MAX_BROWSERS = 300;
const stack = useStack({
  deps: {
    sessions: { signInAttempts: { maxBrowsers: MAX_BROWSERS } },
    signInRateLimit: { max: 1_000_000, timeWindowMs: 60_000 },
  },
});

it("refuses new sign-ins with a 503 page once the bound is reached, and keeps the victim's", async () => {
  const victim = new UserAgent();
  const form = await formPostFor(stack, victim);

  const statuses = await flood(`${stack.baseUrl}/signin`, 1_500, 50);

  const page = await victim.navigate(form.action, { method: "POST", form: form.fields });
  expect(page.status).toBe(200);
  expect(page.body).toContain("Ada Lovelace");

  expect(statuses.get(302)).toBe(MAX_BROWSERS - 1);
  expect(statuses.get(503)).toBe(1_500 - (MAX_BROWSERS - 1));
  // Finishing freed the victim's place: the next browser may start, the one after is refused.
  expect((await new UserAgent().request(`${stack.baseUrl}/signin`)).status).toBe(302);
  const refused = await new UserAgent().request(`${stack.baseUrl}/signin`);
  expect(refused.status).toBe(503);
  expect(problemTitle(refused)).toBe("Too many sign-ins in progress");
  expect(refused.headers.get("retry-after")).toBe("60");
  expect(refused.headers.get("location")).toBeNull();
}, 20_000);
