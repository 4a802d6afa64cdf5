/**
 * Shared steps for the emulator tests: start a trusted emulator, walk the sign-in protocol with plain `fetch`.
 */
import { createHash, randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll } from "vitest";
import { startEmulator, type EmulatorOptions, type EmulatorRegistration, type RunningEmulator } from "../../emulator";
import { JWT_BEARER_ASSERTION_TYPE } from "../../emulator/fic";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";

/** The app callback the tests register; nothing listens there, the tests read the redirect instead. */
export const REDIRECT_URI = "http://localhost:5173/signin-oidc";

/**
 * Starts one emulator for the file (redirect URI {@link REDIRECT_URI}), trusts its certificate and closes it after
 * the last test. After each test it turns the faults off and puts the registration back as it was at start, so a test
 * may change either freely. Read the emulator from the returned getter inside tests.
 */
export function useEmulator(options: EmulatorOptions = {}): () => RunningEmulator {
  let emu: RunningEmulator | undefined;
  let startRegistration: EmulatorRegistration | undefined;
  beforeAll(async () => {
    emu = await startEmulator({ ...options, registration: { redirectUris: [REDIRECT_URI], ...options.registration } });
    startRegistration = structuredClone(emu.registration);
    trustEmulatorCertificate(emu);
  });
  afterEach(() => {
    if (!emu || !startRegistration) return;
    emu.resetFaults();
    // In place: the emulator reads this very object on every request.
    const { registration } = emu;
    for (const key of Object.keys(registration) as Array<keyof EmulatorRegistration>) delete registration[key];
    Object.assign(registration, structuredClone(startRegistration));
  });
  afterAll(async () => {
    await emu?.close();
  });
  return () => emu!;
}

/** A fresh PKCE pair (RFC 7636, S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The authorize URL an app would build; `params` override or (with `undefined`) remove defaults. */
export function authorizeUrl(emu: RunningEmulator, params: Record<string, string | undefined> = {}): string {
  const url = new URL(`${emu.authority}/oauth2/v2.0/authorize`);
  const all: Record<string, string | undefined> = {
    client_id: emu.registration.clientId,
    redirect_uri: REDIRECT_URI,
    response_type: "code",
    response_mode: "query",
    scope: "openid profile offline_access",
    state: "state-123",
    nonce: "nonce-456",
    ...params,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
  return url.toString();
}

/** GETs an authorize URL without following the redirect. */
export function authorize(emu: RunningEmulator, params: Record<string, string | undefined> = {}): Promise<Response> {
  return fetch(authorizeUrl(emu, params), { redirect: "manual" });
}

/** The query parameters of a 302's Location. */
export function redirectParams(res: Response): URLSearchParams {
  return new URL(res.headers.get("location") ?? "about:blank").searchParams;
}

/** Signs the test user in (query response mode) and returns the code plus the PKCE verifier that redeems it. */
export async function signIn(
  emu: RunningEmulator,
  params: Record<string, string | undefined> = {},
): Promise<{ code: string; verifier: string }> {
  const { verifier, challenge } = pkce();
  const res = await authorize(emu, { code_challenge: challenge, code_challenge_method: "S256", ...params });
  const code = redirectParams(res).get("code");
  if (res.status !== 302 || !code) throw new Error(`sign-in failed: ${res.status} ${res.headers.get("location")}`);
  return { code, verifier };
}

/** Calls the MI endpoint; `query` overrides (or removes) the msal-node-style defaults. */
export function miRequest(
  emu: RunningEmulator,
  query: Record<string, string | undefined> = {},
  headers: Record<string, string> = { "X-IDENTITY-HEADER": emu.identityHeader },
): Promise<Response> {
  const url = new URL(emu.identityEndpoint);
  const all: Record<string, string | undefined> = {
    "api-version": "2019-08-01",
    resource: "api://AzureADTokenExchange",
    client_id: emu.registration.uami.clientId,
    ...query,
  };
  for (const [name, value] of Object.entries(all)) if (value !== undefined) url.searchParams.set(name, value);
  return fetch(url, { headers });
}

/** A managed-identity token from the MI endpoint, as the app's assertion callback gets it. */
export async function miToken(emu: RunningEmulator, resource = "api://AzureADTokenExchange"): Promise<string> {
  const res = await miRequest(emu, { resource });
  if (res.status !== 200) throw new Error(`MI endpoint answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** POSTs a form to the token endpoint; `form` overrides (or removes) the defaults of an msal-node code redemption. */
export function tokenRequest(emu: RunningEmulator, form: Record<string, string | undefined>): Promise<Response> {
  const all: Record<string, string | undefined> = {
    client_id: emu.registration.clientId,
    grant_type: "authorization_code",
    redirect_uri: REDIRECT_URI,
    scope: "openid profile offline_access",
    client_info: "1",
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    ...form,
  };
  const body = new URLSearchParams();
  for (const [name, value] of Object.entries(all)) if (value !== undefined) body.set(name, value);
  return fetch(`${emu.authority}/oauth2/v2.0/token?client-request-id=7d3f0b6e-1c2a-4e5f-8a9b-0c1d2e3f4a5b`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body,
  });
}

/** Signs in and redeems the code with a fresh MI token; `form` adjusts the redemption. */
export async function signInAndRedeem(
  emu: RunningEmulator,
  form: Record<string, string | undefined> = {},
): Promise<Response> {
  const { code, verifier } = await signIn(emu);
  return tokenRequest(emu, { code, code_verifier: verifier, client_assertion: await miToken(emu), ...form });
}

/** The scope an app asks for to prove its trust chain: Microsoft Graph, app-only, no permissions needed. */
export const GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default";

/** A client-credentials request with a fresh MI token as assertion; `form` adjusts (or removes) its parameters. */
export async function clientCredentialsRequest(
  emu: RunningEmulator,
  form: Record<string, string | undefined> = {},
): Promise<Response> {
  return tokenRequest(emu, {
    grant_type: "client_credentials",
    scope: GRAPH_DEFAULT_SCOPE,
    redirect_uri: undefined,
    client_info: undefined,
    client_assertion: await miToken(emu),
    ...form,
  });
}

/** The scopes msal-node sends when an app asks for Graph's `User.Read` at sign-in. */
export const GRAPH_SIGN_IN_SCOPE = "User.Read openid profile offline_access";

/** Signs in, redeems the code for `scope` and returns the refresh token. */
export async function refreshTokenOf(emu: RunningEmulator, scope = GRAPH_SIGN_IN_SCOPE): Promise<string> {
  const res = await signInAndRedeem(emu, { scope });
  const body = (await res.json()) as { refresh_token?: string };
  if (res.status !== 200 || !body.refresh_token)
    throw new Error(`no refresh token: ${res.status} ${JSON.stringify(body)}`);
  return body.refresh_token;
}

/** A refresh-token grant presenting a fresh MI token as assertion; `form` adjusts (or removes) its parameters. */
export async function refreshRequest(
  emu: RunningEmulator,
  refreshToken: string,
  form: Record<string, string | undefined> = {},
): Promise<Response> {
  return tokenRequest(emu, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    scope: GRAPH_SIGN_IN_SCOPE,
    redirect_uri: undefined,
    client_assertion: await miToken(emu),
    ...form,
  });
}

/** Sends one token request, its assertion fetched when sent; `form` adjusts (or removes) its parameters. */
type GrantRequest = (form?: Record<string, string | undefined>) => Promise<Response>;

/**
 * The token-endpoint grants that authenticate the client with its FIC. Each prepares what its request needs (a code,
 * a refresh token) while the FIC still matches, and returns the request, so a test can break the FIC in between.
 */
export const FIC_GRANTS = {
  authorization_code: async (emu) => {
    const { code, verifier } = await signIn(emu);
    return async (form = {}) =>
      tokenRequest(emu, { code, code_verifier: verifier, client_assertion: await miToken(emu), ...form });
  },
  refresh_token: async (emu) => {
    const refreshToken = await refreshTokenOf(emu);
    return (form = {}) => refreshRequest(emu, refreshToken, form);
  },
  client_credentials:
    async (emu) =>
    (form = {}) =>
      clientCredentialsRequest(emu, form),
} satisfies Record<string, (emu: RunningEmulator) => Promise<GrantRequest>>;

/** The JSON body of an Entra error response. */
interface EntraErrorBody {
  error: string;
  error_description: string;
  error_codes: number[];
  timestamp: string;
  trace_id: string;
  correlation_id: string;
  error_uri: string;
}

/** Reads a response as an Entra error and returns its status, `error` and first AADSTS number. */
export async function entraError(
  res: Response,
): Promise<{ status: number; error: string; code: number | undefined; body: EntraErrorBody }> {
  const body = (await res.json()) as EntraErrorBody;
  return { status: res.status, error: body.error, code: body.error_codes[0], body };
}
