/**
 * The emulator driven by the library the app uses: msal-node's ConfidentialClientApplication, whose client assertion
 * comes from msal-node's ManagedIdentityApplication (App Service source), exactly as in production.
 */
import {
  ConfidentialClientApplication,
  CryptoProvider,
  InteractionRequiredAuthError,
  ManagedIdentityApplication,
  ResponseMode,
  ServerError,
} from "@azure/msal-node";
import { createRemoteJWKSet, jwtVerify } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { DEFAULT_TOKEN_EXCHANGE_URL } from "../../contract/settings";
import type { RunningEmulator } from "../../emulator";
import { GRAPH_DEFAULT_SCOPE, REDIRECT_URI, useEmulator } from "../support/emulator";

const emulator = useEmulator();
let managedIdentity: ManagedIdentityApplication;
let app: ConfidentialClientApplication;

beforeAll(() => {
  const emu = emulator();
  // msal-node picks its MI source once per process, from these variables, on the first MI call: set them first.
  vi.stubEnv("IDENTITY_ENDPOINT", emu.identityEndpoint);
  vi.stubEnv("IDENTITY_HEADER", emu.identityHeader);
  managedIdentity = new ManagedIdentityApplication({
    managedIdentityIdParams: { userAssignedClientId: emu.registration.uami.clientId },
  });
  app = new ConfidentialClientApplication({
    auth: {
      clientId: emu.registration.clientId,
      authority: emu.authority,
      // Not a Microsoft host: without this msal-node would ask login.microsoftonline.com for instance metadata.
      knownAuthorities: [new URL(emu.instance).host],
      // Called on every token request; ManagedIdentityApplication caches the MI token, so this is cheap.
      clientAssertion: async () =>
        (await managedIdentity.acquireToken({ resource: DEFAULT_TOKEN_EXCHANGE_URL })).accessToken,
    },
  });
});

afterAll(() => {
  vi.unstubAllEnvs();
});

afterEach(() => {
  vi.useRealTimers();
});

/** The browser's part: follow the authorize URL and read the code the emulator hands back. */
async function browserSignIn(authorizeUrl: string): Promise<{ code: string; state: string }> {
  const res = await fetch(authorizeUrl, { redirect: "manual" });
  const html = await res.text();
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? "";
  return { code: field("code"), state: field("state") };
}

async function signInWithMsal(emu: RunningEmulator, scopes: string[] = []) {
  const crypto = new CryptoProvider();
  const { verifier, challenge } = await crypto.generatePkceCodes();
  const nonce = crypto.createNewGuid();
  const state = crypto.createNewGuid();
  const url = await app.getAuthCodeUrl({
    scopes,
    redirectUri: REDIRECT_URI,
    responseMode: ResponseMode.FORM_POST,
    codeChallenge: challenge,
    codeChallengeMethod: "S256",
    nonce,
    state,
  });
  expect(url.startsWith(`${emu.authority.toLowerCase()}/oauth2/v2.0/authorize?`)).toBe(true);
  const reply = await browserSignIn(url);
  expect(reply.state).toBe(state);
  return app.acquireTokenByCode(
    { code: reply.code, scopes, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce, state },
    { code: reply.code, state: reply.state },
  );
}

describe("msal-node against the emulator", () => {
  it("signs in end to end: form_post code + PKCE, MI token as client assertion, verifiable ID token", async () => {
    const emu = emulator();
    const miBefore = emu.stats.miRequests;
    const result = await signInWithMsal(emu);

    expect(result.account?.username).toBe("ada@contoso.example");
    expect(result.account?.homeAccountId).toBe(`${emu.registration.user.oid}.${emu.tenantId}`); // from client_info
    expect(emu.stats.miRequests).toBe(miBefore + 1);
    const { payload } = await jwtVerify(
      result.idToken,
      createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)),
      {
        issuer: emu.issuer,
        audience: emu.registration.clientId,
      },
    );
    expect(payload.name).toBe("Ada Lovelace");
  });

  it("refreshes silently with the refresh token, reusing the cached MI token", async () => {
    const emu = emulator();
    const { account } = await signInWithMsal(emu);
    const before = { mi: emu.stats.miRequests, token: emu.stats.tokenRequests };
    const refreshed = await app.acquireTokenSilent({ account: account!, scopes: [], forceRefresh: true });
    expect(refreshed.idToken).toBeTruthy();
    expect(emu.stats.tokenRequests).toBe(before.token + 1);
    expect(emu.stats.miRequests).toBe(before.mi); // msal-node cached the 24 h MI token
  });

  it("surfaces a FIC misconfiguration as a ServerError carrying the AADSTS code", async () => {
    const emu = emulator();
    emu.registration.fic.subject = emu.registration.uami.clientId; // subject = client id instead of principal id
    const failure = await signInWithMsal(emu).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ServerError);
    expect(failure).toMatchObject({
      errorCode: "invalid_client",
      errorMessage: expect.stringContaining("AADSTS700213"),
    });
  });

  it("gets an app-only Graph token with acquireTokenByClientCredential, the MI token as assertion", async () => {
    const emu = emulator();
    const before = emu.stats.clientCredentialsRequests;
    const result = await app.acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT_SCOPE], skipCache: true });
    expect(result?.accessToken).toBeTruthy();
    expect(result?.tokenType).toBe("Bearer");
    expect(emu.stats.clientCredentialsRequests).toBe(before + 1);
    const { payload } = await jwtVerify(
      result!.accessToken,
      createRemoteJWKSet(new URL(`${emu.authority}/discovery/v2.0/keys`)),
      {
        issuer: emu.issuer,
        audience: "https://graph.microsoft.com",
      },
    );
    expect(payload).toMatchObject({
      idtyp: "app",
      appid: emu.registration.clientId,
      oid: emu.registration.servicePrincipalId,
    });
  });

  it(
    "surfaces a FIC misconfiguration on the client-credentials " + "grant as a ServerError with the AADSTS code",
    async () => {
      const emu = emulator();
      emu.registration.fic.subject = emu.registration.uami.clientId;
      const failure = await app
        .acquireTokenByClientCredential({ scopes: [GRAPH_DEFAULT_SCOPE], skipCache: true })
        .catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ServerError);
      expect(failure).toMatchObject({
        errorCode: "invalid_client",
        errorMessage: expect.stringContaining("AADSTS700213"),
      });
    },
  );

  it("lets msal-node's MI retry policy ride out a transient MI endpoint failure", async () => {
    const emu = emulator();
    emu.faults.mi = { status: 503, times: 1 };
    const before = emu.stats.miRequests;
    const result = await managedIdentity.acquireToken({ resource: DEFAULT_TOKEN_EXCHANGE_URL, forceRefresh: true });
    expect(result.accessToken).toBeTruthy();
    expect(emu.stats.miRequests).toBe(before + 2); // one 503, one retry (msal waits ~1 s between them)
  });
});

describe("msal-node calling Graph as the signed-in user through the emulator", () => {
  const graphMe = (emu: RunningEmulator, accessToken: string) =>
    fetch(`${emu.graphBaseUrl}/me`, { headers: { Authorization: `Bearer ${accessToken}` } });

  it(
    "serves the cached Graph token until it expires, then refreshes " + "it with the managed identity's token again",
    async () => {
      const emu = emulator();
      const signedIn = await signInWithMsal(emu, ["User.Read"]);
      expect(signedIn.scopes).toContain("User.Read");
      expect((await graphMe(emu, signedIn.accessToken)).status).toBe(200);

      const before = { ...emu.stats };
      const cached = await app.acquireTokenSilent({ account: signedIn.account!, scopes: ["User.Read"] });
      expect(cached.accessToken).toBe(signedIn.accessToken);
      expect(emu.stats.tokenRequests).toBe(before.tokenRequests);

      vi.useFakeTimers({ toFake: ["Date"] });
      // Two hours on, the one-hour access token has expired (also past Graph's clock skew); the 24-hour MI token has
      // not.
      vi.setSystemTime(Date.now() + 2 * 3600 * 1000);
      const refreshed = await app.acquireTokenSilent({ account: signedIn.account!, scopes: ["User.Read"] });
      expect(refreshed.accessToken).not.toBe(signedIn.accessToken);
      expect(emu.stats.refreshTokenRequests).toBe(before.refreshTokenRequests + 1);
      expect(emu.stats.miRequests).toBe(before.miRequests); // the assertion came from msal-node's MI token cache
      expect((await graphMe(emu, signedIn.accessToken)).status).toBe(401); // Graph refuses the expired one
      expect(await (await graphMe(emu, refreshed.accessToken)).json()).toMatchObject({ displayName: "Ada Lovelace" });
    },
  );

  it(
    "refreshes on every silent call while the emulator mints access " +
      "tokens shorter than msal-node's 5-minute margin",
    async () => {
      const emu = emulator();
      emu.accessTokenLifetimeSeconds = 60;
      const { account } = await signInWithMsal(emu, ["User.Read"]);
      const before = emu.stats.refreshTokenRequests;
      await app.acquireTokenSilent({ account: account!, scopes: ["User.Read"] });
      await app.acquireTokenSilent({ account: account!, scopes: ["User.Read"] });
      expect(emu.stats.refreshTokenRequests).toBe(before + 2);
    },
  );

  it.each<[string, (emu: RunningEmulator) => void, typeof ServerError | typeof InteractionRequiredAuthError, object]>([
    [
      "the FIC no longer matches (ServerError invalid_client AADSTS700213)",
      (emu) => void (emu.registration.fic.subject = emu.registration.uami.clientId),
      ServerError,
      { errorCode: "invalid_client", errorMessage: expect.stringContaining("AADSTS700213") },
    ],
    [
      "the refresh token was revoked (ServerError invalid_grant AADSTS50173)",
      (emu) => void emu.revokeRefreshTokens(emu.registration.user.oid),
      ServerError,
      { errorCode: "invalid_grant", errorMessage: expect.stringContaining("AADSTS50173") },
    ],
    [
      "consent is missing (InteractionRequiredAuthError, subError consent_required, AADSTS65001)",
      (emu) => void (emu.faults.consentMissing = true),
      InteractionRequiredAuthError,
      {
        name: "InteractionRequiredAuthError",
        subError: "consent_required",
        errorMessage: expect.stringContaining("AADSTS65001"),
      },
    ],
  ])("fails a silent refresh when %s", async (_case, arrange, errorClass, expected) => {
    const emu = emulator();
    const { account } = await signInWithMsal(emu, ["User.Read"]);
    arrange(emu);
    const failure = await app
      .acquireTokenSilent({ account: account!, scopes: ["User.Read"], forceRefresh: true })
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(errorClass);
    expect(failure).toMatchObject(expected);
  });
});
