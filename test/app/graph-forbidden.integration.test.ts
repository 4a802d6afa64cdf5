/**
 * Microsoft Graph's 403: the app configured with a Graph scope that does not read the user
 * (`DownstreamApis__MicrosoftGraph__Scopes__0=Mail.Read`), so Graph's /me refuses the token it gets. The page still
 * renders, says why, and links admin consent.
 */
import { describe, expect, it } from "vitest";
import { DownstreamApiSetting } from "../../contract/settings";
import { signedInAgent, useStack } from "../support/app-stack";

const stack = useStack({ settings: { [DownstreamApiSetting.GraphScopes0]: "Mail.Read" } });

describe("a Graph token without a permission that reads the user", () => {
  it(
    "asks for the configured scope at sign-in and shows Graph's " + "403 as a notice with the admin-consent link",
    async () => {
      const { ua, page } = await signedInAgent(stack);
      const authorize = new URL(ua.history[1]!.slice(4));
      expect(authorize.searchParams.get("scope")!.split(" ")).toEqual(expect.arrayContaining(["Mail.Read"]));
      expect(authorize.searchParams.get("scope")!.split(" ")).not.toContain("User.Read");
      expect(page.status).toBe(200);
      expect(page.body).toContain(
        '<strong id="graph-notice-title">Microsoft Graph refused to ' + "read your profile (HTTP 403).</strong>",
      );
      expect(page.body).toContain('<span id="graph-notice-code">Authorization_RequestDenied</span>');
      expect(page.body).toContain(
        `id="admin-consent-link" href="${stack.emu.instance}${stack.emu.tenantId}/adminconsent` +
          `?client_id=${stack.emu.registration.clientId}"`,
      );
      const json = await ua.request(`${stack.baseUrl}/me/graph`);
      expect(json.status).toBe(502);
      expect(JSON.parse(json.body)).toMatchObject({ error: "graph_forbidden", code: "Authorization_RequestDenied" });
    },
  );
});
