/**
 * Easy Auth mode: App Service's built-in authentication signs users in, presenting the user-assigned managed
 * identity's token as its client assertion through the same federated identity credential the app uses in the default
 * mode. Shared by the stack (components/easy-auth.ts, which writes these settings), the policy pack
 * (policy/rules/easy-auth.ts, which allows the auth settings only in this shape), the app (app/auth/easy-auth.ts) and
 * the local stand-in (local/easy-auth-proxy.ts).
 *
 * Source: Microsoft's App Service docs, "Configure your App Service or Azure Functions app to use Microsoft Entra
 * sign-in", section "Use a managed identity instead of a secret (preview)"
 * (https://learn.microsoft.com/azure/app-service/configure-authentication-provider-aad
 * #use-a-managed-identity-instead-of-a-secret-preview; source
 * articles/app-service/configure-authentication-provider-aad.md
 * in MicrosoftDocs/azure-docs): add an app
 * setting named `OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID` holding the managed identity's **client ID** (not the app
 * registration's), mark it slot-sticky, and set the Microsoft provider's `clientSecretSettingName`
 * (`properties.identityProviders.azureActiveDirectory.registration`) to that name. The FIC itself is the one Entra's
 * "configure an application to trust a managed identity" article describes (issuer `{instance}{tenant}/v2.0`, subject
 * the identity's principal ID, audience `api://AzureADTokenExchange` in the public cloud): the one the stack already
 * creates. The docs say it is available for workforce tenants only and is in preview.
 */

/** The app setting Easy Auth reads the managed identity's client ID from: the provider's `clientSecretSettingName`. */
export const MI_FIC_ASSERTION_SETTING = "OVERRIDE_USE_MI_FIC_ASSERTION_CLIENTID";

/**
 * The app setting the stack writes so the app knows Easy Auth signs users in (`easyAuth`); any other value, or none,
 * is the default mode, where the app signs users in itself and ignores the platform's identity headers.
 */
export const AUTH_MODE_SETTING = "SignIn__AuthMode";

/** Who signs users in: the app itself (`app`, the default) or App Service's built-in authentication (`easyAuth`). */
export const AUTH_MODES = ["app", "easyAuth"] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export const DEFAULT_AUTH_MODE: AuthMode = "app";
export const isAuthMode = (v: string): v is AuthMode => (AUTH_MODES as readonly string[]).includes(v);

/**
 * Set by App Service itself, read-only: "Injected into a Windows or Linux app to indicate whether App Service
 * authentication is enabled" (App Service docs, "Environment variables and app settings reference", Authentication &
 * authorization; articles/app-service/reference-app-settings.md). The app trusts the identity headers only when it is
 * `True` (compared without case) and the stack's {@link AUTH_MODE_SETTING} says `easyAuth`.
 */
export const PLATFORM_AUTH_ENABLED = "WEBSITE_AUTH_ENABLED";

/** Easy Auth's sign-in, callback and sign-out paths for the Microsoft provider (its alias is `aad`). */
export const EASY_AUTH_PATHS = {
  login: "/.auth/login/aad",
  /** The redirect URI the registration needs: `https://{host}/.auth/login/aad/callback` (same docs page). */
  callback: "/.auth/login/aad/callback",
  logout: "/.auth/logout",
  me: "/.auth/me",
  /** Refreshes the token store's tokens with the stored refresh token ("Refresh auth tokens", tokens doc). */
  refresh: "/.auth/refresh",
} as const;

/**
 * Paths Easy Auth lets through unauthenticated (`globalValidation.excludedPaths`): App Service's health check probes
 * `/healthz` without a user, and the deploy step waits for `/readyz` (deploy/wait-ready.ts) the same way.
 */
export const EASY_AUTH_EXCLUDED_PATHS = ["/healthz", "/readyz"] as const;

/**
 * The headers the platform injects for the signed-in user (App Service docs, "Work with user identities in Azure App
 * Service authentication": "External requests aren't allowed to set these headers, so they're present only if set by
 * App Service"), and the token store's tokens ("Work with OAuth tokens in Azure App Service authentication").
 */
export const EasyAuthHeader = {
  Principal: "x-ms-client-principal",
  PrincipalId: "x-ms-client-principal-id",
  PrincipalName: "x-ms-client-principal-name",
  PrincipalIdp: "x-ms-client-principal-idp",
  IdToken: "x-ms-token-aad-id-token",
  AccessToken: "x-ms-token-aad-access-token",
  ExpiresOn: "x-ms-token-aad-expires-on",
  RefreshToken: "x-ms-token-aad-refresh-token",
} as const;

/** Whether a header is one of the platform's identity or token headers (`x-ms-client-principal*`, `x-ms-token-*`). */
export const isPlatformIdentityHeader = (name: string): boolean => /^x-ms-(client-principal|token-)/i.test(name);

/**
 * The Microsoft provider's login parameters: the hybrid `code id_token` response, so Easy Auth redeems a code (with the
 * managed identity's token as client assertion) and keeps an access and refresh token, and the delegated Graph
 * `User.Read` scope on the cloud's Graph, so the access token is one Graph accepts. Source: App Service tutorial
 * "Access Microsoft Graph from a secured app as the user" (scenario-secure-app-access-microsoft-graph-as-user.md:
 * `"loginParameters":["response_type=code id_token",
 * "scope=openid offline_access profile https://graph.microsoft.com/User.Read"]`).
 */
export function easyAuthLoginParameters(graphScope: string): string[] {
  const graphResource = graphScope.replace(/\/\.default$/, "");
  return ["response_type=code id_token", `scope=openid offline_access profile ${graphResource}/User.Read`];
}
