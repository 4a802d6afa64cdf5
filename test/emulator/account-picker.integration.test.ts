/**
 * The emulator's account picker and the claims it puts in ID tokens: `roles`, `groups` or the overage marker, and
 * AADSTS50105 when the app requires assignment. Plain HTTP requests, the code redeemed with a managed-identity token
 * as client assertion, as the app does.
 */
import { createHash, randomBytes } from "node:crypto";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ALAN, GRACE, MALLORY, MARGARET, demoDirectory, startEmulator, type RunningEmulator } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";

const REDIRECT = "http://localhost:3000/signin-oidc";
let emu: RunningEmulator;

beforeAll(async () => {
  emu = await startEmulator({ registration: demoDirectory({ redirectUris: [REDIRECT] }) });
  trustEmulatorCertificate(emu);
});
afterAll(async () => emu?.close());

const verifier = randomBytes(32).toString("base64url");

function authorizeUrl(extra: Record<string, string> = {}): URL {
  const url = new URL(`${emu.authority}/oauth2/v2.0/authorize`);
  for (const [k, v] of Object.entries({
    client_id: emu.registration.clientId,
    redirect_uri: REDIRECT,
    response_type: "code",
    response_mode: "query",
    scope: "openid profile",
    nonce: "n-1",
    code_challenge: createHash("sha256").update(verifier).digest("base64url"),
    code_challenge_method: "S256",
    ...extra,
  })) {
    url.searchParams.set(k, v);
  }
  return url;
}

async function get(url: string): Promise<Response> {
  return fetch(url, { redirect: "manual" });
}

describe("the account picker", () => {
  it("lists every user of the directory with links that repeat the request for that user", async () => {
    emu.revokeRefreshTokens();
    const response = await get(authorizeUrl().href);
    expect(response.status).toBe(200);
    const body = await response.text();
    for (const user of [emu.registration.user, GRACE, ALAN, MARGARET, MALLORY]) {
      expect(body).toContain(`data-upn="${user.preferredUsername}"`);
    }
    const href = /data-upn="alan@contoso.example" href="([^"]+)"/.exec(body)![1]!.replace(/&amp;/g, "&");
    const picked = new URL(href, emu.authority);
    expect(picked.pathname).toBe(new URL(authorizeUrl().href).pathname);
    expect(picked.searchParams.get("emulator_user")).toBe(ALAN.oid);
    expect(picked.searchParams.get("redirect_uri")).toBe(REDIRECT);
  });
});

/** Signs `oid` in through the picker's link and redeems the code: the ID token's claims. */
async function idTokenClaimsOf(oid: string): Promise<Record<string, unknown>> {
  const back = new URL((await get(authorizeUrl({ emulator_user: oid }).href)).headers.get("location")!);
  const code = back.searchParams.get("code");
  expect(code, back.href).toBeTruthy();
  const response = await fetch(`${emu.authority}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      client_id: emu.registration.clientId,
      code: code!,
      redirect_uri: REDIRECT,
      code_verifier: verifier,
      scope: "openid profile",
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: await emu.mintManagedIdentityToken(),
    }),
  });
  expect(response.status).toBe(200);
  return decodeJwt(((await response.json()) as { id_token: string }).id_token);
}

describe("claims by user", () => {
  it("puts the assigned roles and the security groups in the ID token", async () => {
    const claims = await idTokenClaimsOf(GRACE.oid);
    expect(claims).toMatchObject({ oid: GRACE.oid, roles: ["Admin", "Reader"], groups: GRACE.groups });
    expect(claims._claim_names).toBeUndefined();
  });

  it("sends the overage marker instead of more than 200 groups", async () => {
    const claims = await idTokenClaimsOf(MARGARET.oid);
    expect(claims.groups).toBeUndefined();
    expect(claims._claim_names).toEqual({ groups: "src1" });
    expect(claims._claim_sources).toEqual({
      src1: { endpoint: `https://graph.windows.net/${emu.tenantId}/users/${MARGARET.oid}/getMemberObjects` },
    });
  });

  it("leaves roles and groups out for a user with neither, and groups when the app does not ask for them", async () => {
    const none = await idTokenClaimsOf(MALLORY.oid);
    expect(none.roles).toBeUndefined();
    expect(none.groups).toBeUndefined();
    emu.registration.securityGroupClaims = false;
    try {
      const alan = await idTokenClaimsOf(ALAN.oid);
      expect(alan.roles).toEqual(["Reader"]);
      expect(alan.groups).toBeUndefined();
    } finally {
      emu.registration.securityGroupClaims = true;
    }
  });

  it("sends AADSTS50105 back to the app for an unassigned user when assignment is required", async () => {
    emu.registration.appRoleAssignmentRequired = true;
    try {
      const response = await get(authorizeUrl({ emulator_user: MALLORY.oid, state: "s1" }).href);
      expect(response.status).toBe(302);
      const back = new URL(response.headers.get("location")!);
      expect(back.searchParams.get("error")).toBe("access_denied");
      expect(back.searchParams.get("error_description")).toMatch(
        /^AADSTS50105: The signed in user 'mallory@contoso\.example' is not assigned to a role/,
      );
      expect(back.searchParams.get("state")).toBe("s1");
      expect((await idTokenClaimsOf(ALAN.oid)).roles).toEqual(["Reader"]);
    } finally {
      emu.registration.appRoleAssignmentRequired = false;
    }
  });
});
