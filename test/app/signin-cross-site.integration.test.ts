/**
 * Issue 19, attack 2: a cross-site page cannot push a victim's pending sign-in out. The sign-in cookie is
 * SameSite=None (it must ride Entra's cross-site form_post), so a page's `<img src="https://app/signin">` carries it;
 * each such request used to start an attempt in the victim's browser and replace its oldest one. A browser labels
 * those requests with Fetch Metadata (Sec-Fetch-Mode: no-cors, Sec-Fetch-Dest: image), and the app now starts no
 * attempt for them.
 */
import { expect, it } from "vitest";
import { formPostFor, problemTitle, useStack } from "../support/app-stack";
import { rawRequest } from "../support/raw-http";
import { UserAgent } from "../../local/user-agent";

const stack = useStack();

/**
 * What Chromium sends for `<img src="…/signin">` on another site's page; the cookie jar adds the victim's cookie.
 * (Node's fetch replaces Sec-Fetch-Mode with its own "cors"; Sec-Fetch-Dest goes as given.)
 */
const IMAGE_FROM_ANOTHER_SITE = {
  "sec-fetch-mode": "no-cors",
  "sec-fetch-dest": "image",
  "sec-fetch-site": "cross-site",
};

it(
  "keeps the victim's pending sign-in when another site makes the " + "browser request /signin five times as images",
  async () => {
    const victim = new UserAgent();
    const form = await formPostFor(stack, victim);

    for (let i = 0; i < 5; i++) {
      const image = await victim.request(`${stack.baseUrl}/signin`, { headers: IMAGE_FROM_ANOTHER_SITE });
      expect(image.status).toBe(403);
      expect(problemTitle(image)).toBe("Sign-in not started");
      expect(victim.lastSetCookies).toEqual([]);
    }

    const page = await victim.navigate(form.action, { method: "POST", form: form.fields });
    expect(page.status).toBe(200);
    expect(page.body).toContain("Ada Lovelace");
  },
);

it("still starts a sign-in for the browser's own navigation to /signin", async () => {
  // node:http, because Node's fetch would send its own Sec-Fetch-Mode.
  const navigation = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-fetch-site": "same-origin" };
  const start = await rawRequest(stack.baseUrl, "/signin", { headers: navigation });
  expect(start.status).toBe(302);
  expect(new URL(String(start.headers.location)).origin).toBe(new URL(stack.emu.instance).origin);
  expect(String(start.headers["set-cookie"])).toMatch(/^signin=/);
});
