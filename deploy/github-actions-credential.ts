/**
 * The deploy step's credential inside a GitHub Actions job: a client-assertion credential whose assertion is a GitHub
 * OIDC token fetched fresh for every request it makes to Microsoft Entra.
 *
 * Why not `az`: azure/login hands `az` one GitHub OIDC token as its federated assertion. GitHub's ID tokens expire
 * 5 minutes after they are issued (`exp - iat = 300` in GitHub's sample token; actions/toolkit issue 2048), and `az`
 * cannot fetch another, so once that assertion has expired every token `az` has not cached fails with AADSTS700024
 * ("Client assertion is not within its valid time range"; Azure/azure-cli issue 28708, Azure/login issue 372). The
 * deploy step runs after provisioning (Redis alone can take longer than that) and asks for a token `az` never cached.
 *
 * How: a job with `permissions: id-token: write` gets ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN;
 * `GET {url}&audience=api://AzureADTokenExchange` with `Authorization: Bearer {request token}` answers
 * `{ "value": "<JWT>" }` (GitHub docs "Configuring OpenID Connect in cloud providers", "Requesting the JWT using the
 * Actions core toolkit"; actions/toolkit `OidcClient.getIDToken`). `@azure/identity`'s ClientAssertionCredential calls
 * the callback for each token request it sends to Entra (access tokens it already holds are reused until they near
 * expiry), so no assertion is ever used past its own expiry. The request token is valid for the whole job (about 6 h;
 * Azure/azure-cli PR 28778), which bounds how late a deploy can still sign in.
 *
 * Neither token is printed, logged or passed on; the GitHub token goes to the Actions token endpoint only, and the
 * assertion to Entra only.
 */
import { ClientAssertionCredential, type TokenCredential } from "@azure/identity";
import { cloudNames, clouds } from "../contract/clouds";

/** The audience of the GitHub token Entra accepts as a federated assertion (the FICs' only audience). */
export const GITHUB_TOKEN_EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** Where the GitHub Actions OIDC token comes from, and which identity it signs in as. */
export interface GitHubActionsCredentialOptions {
  /** ACTIONS_ID_TOKEN_REQUEST_URL. */
  readonly requestUrl: string;
  /** ACTIONS_ID_TOKEN_REQUEST_TOKEN. */
  readonly requestToken: string;
  /** The Entra tenant of the identity. */
  readonly tenantId: string;
  /** The client ID of the identity (the deploy identity's app registration or managed identity). */
  readonly clientId: string;
  /** Audience of the GitHub token. Default {@link GITHUB_TOKEN_EXCHANGE_AUDIENCE}. */
  readonly audience?: string;
  /** Entra login host (`AZURE_AUTHORITY_HOST`), e.g. https://login.microsoftonline.us for US Gov. Default: public. */
  readonly authorityHost?: string;
}

/** Fetches one GitHub OIDC token for `audience` from the Actions token endpoint. */
export async function fetchGitHubIdToken(requestUrl: string, requestToken: string, audience: string): Promise<string> {
  const url = new URL(requestUrl);
  url.searchParams.set("audience", audience);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { authorization: `Bearer ${requestToken}`, accept: "application/json" },
      redirect: "error",
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const code = (error as { cause?: { code?: string } }).cause?.code ?? "network error";
    throw new Error(`could not reach the GitHub Actions token endpoint (${code})`);
  }
  if (!response.ok) {
    throw new Error(
      `the GitHub Actions token endpoint answered ${response.status}; the job needs \`permissions: id-token: write\``,
    );
  }
  const body = (await response.json().catch(() => undefined)) as { value?: unknown } | undefined;
  if (typeof body?.value !== "string" || body.value.split(".").length !== 3) {
    throw new Error("the GitHub Actions token endpoint answered without a token (no JWT in `value`)");
  }
  return body.value;
}

/** A credential that presents a fresh GitHub OIDC token to Entra on every token request. */
export function gitHubActionsCredential(options: GitHubActionsCredentialOptions): TokenCredential {
  const audience = options.audience ?? GITHUB_TOKEN_EXCHANGE_AUDIENCE;
  const authorityHost = options.authorityHost;
  return new ClientAssertionCredential(
    options.tenantId,
    options.clientId,
    () => fetchGitHubIdToken(options.requestUrl, options.requestToken, audience),
    // MSAL validates a Microsoft login host through instance discovery; any other host (a private or local Entra
    // endpoint someone configured on purpose) is taken as given.
    authorityHost ? { authorityHost, disableInstanceDiscovery: !isMicrosoftLoginHost(authorityHost) } : {},
  );
}

function isMicrosoftLoginHost(authorityHost: string): boolean {
  const host = new URL(authorityHost).host.toLowerCase();
  return cloudNames.some((name) => new URL(clouds[name].instance).host === host);
}

/**
 * The CI credential when this process runs in a GitHub Actions job that may request OIDC tokens, else undefined.
 * The identity comes from AZURE_CLIENT_ID / AZURE_TENANT_ID, or the ARM_CLIENT_ID / ARM_TENANT_ID the workflows set
 * for the providers. Throws when the job can request tokens but names no identity.
 */
export function gitHubActionsCredentialFromEnv(env: NodeJS.ProcessEnv): TokenCredential | undefined {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) return undefined;
  const clientId = env.AZURE_CLIENT_ID || env.ARM_CLIENT_ID;
  const tenantId = env.AZURE_TENANT_ID || env.ARM_TENANT_ID;
  if (!clientId || !tenantId) {
    throw new Error(
      "this GitHub Actions job may request OIDC tokens, but neither AZURE_CLIENT_ID/AZURE_TENANT_ID nor " +
        "ARM_CLIENT_ID/ARM_TENANT_ID names the identity to sign in as",
    );
  }
  const authorityHost = env.AZURE_AUTHORITY_HOST || undefined;
  return gitHubActionsCredential({ requestUrl, requestToken, clientId, tenantId, authorityHost });
}
