/**
 * Public types of the emulator's directory: the app registration, its federated identity credential, the
 * user-assigned managed identity the FIC trusts, and the test user (re-exported by `types.ts`).
 */

/** The test user the emulator signs in without asking (there is no login form). */
export interface EmulatorUser {
  /** Object id: the `oid` claim. */
  oid: string;
  /** Display name: the `name` claim. */
  name: string;
  /** Sign-in name: the `preferred_username` claim, also matched against `login_hint`; Graph's `userPrincipalName`. */
  preferredUsername: string;
  /** Graph `/me` `mail`; null for a user without a mailbox. Default: `preferredUsername`. */
  mail?: string | null;
  /** Graph `/me` `jobTitle`; null when unset. Default: "Mathematician". */
  jobTitle?: string | null;
  /**
   * Values of the app roles assigned to the user (directly or through a group): the ID token's `roles` claim, left out
   * when empty, as Entra does. Default none.
   */
  roles?: string[];
  /**
   * Assigned to the app without a role ("Default Access"): lets the user in when assignment is required. Implied by a
   * role. Default false.
   */
  assigned?: boolean;
  /**
   * Object IDs of the user's security groups: the `groups` claim when the registration asks for it; over 200 of them,
   * the overage marker instead (`_claim_names`/`_claim_sources`), as Entra does for a JWT. Default none.
   */
  groups?: string[];
}

/**
 * A federated identity credential on the app registration. The MI token presented as `client_assertion` must match
 * it exactly, as Entra requires (notes/entra-fic.md §1).
 */
export interface FederatedIdentityCredential {
  /** Graph's id of the FIC. Default: derived from the name. */
  id?: string;
  /** FIC name (informational; unique per registration). */
  name: string;
  /** Graph's free-text description. */
  description?: string;
  /** Expected `iss`. Defaults to the emulator's own issuer, `${instance}${tenantId}/v2.0`, like Entra's formula. */
  issuer?: string;
  /** Expected `sub`, compared case-sensitively: the managed identity's principal (object) id, not its client id. */
  subject: string;
  /** Accepted audiences; `api://AzureADTokenExchange` also accepts its GUID alias, which MI tokens carry in `aud`. */
  audiences: string[];
}

/**
 * A client secret (Graph `passwordCredential`) on the registration. Graph returns everything but `secretText` when it
 * lists them (https://learn.microsoft.com/graph/api/resources/passwordcredential); the emulator keeps the text only to
 * check a `client_secret` against it.
 */
export interface EmulatorPasswordCredential {
  /** The credential's id (a GUID): what `removePassword` names. */
  keyId: string;
  /** A label, e.g. "legacy web app secret". */
  displayName: string;
  /** The secret itself. Never returned by the Graph stand-in. */
  secretText: string;
  /** ISO 8601; after it the token endpoint answers AADSTS7000222 (expired secret). Default: a year from now. */
  endDateTime?: string;
  /** ISO 8601. Default: when the emulator started. */
  startDateTime?: string;
}

/** The app registration, its FIC and the user-assigned managed identity (UAMI) the FIC trusts. */
export interface EmulatorRegistration {
  /** Directory (tenant) id, a GUID. Fixed once the emulator has started. */
  tenantId: string;
  /** The app registration's client (application) id, a GUID. */
  clientId: string;
  /** The registration's display name, as Entra's consent errors name it. Default "Secretless sample app". */
  displayName?: string;
  /**
   * Object id of the registration's service principal (enterprise application) in the tenant: the `oid` and `sub` of
   * the app-only tokens the client-credentials grant issues.
   */
  servicePrincipalId: string;
  /** Web-platform redirect URIs, matched exactly (scheme, host, port, path, case). */
  redirectUris: string[];
  /**
   * Allowed `post_logout_redirect_uri` values. When unset, computed on each request from `redirectUris`: each redirect
   * URI itself and its origin followed by "/".
   */
  postLogoutRedirectUris?: string[];
  /**
   * The app's front-channel logout URL; when set, the signed-out page loads it in an `<iframe>` as Entra does, with
   * `iss` and the ended session's `sid` added to its query (OpenID Connect Front-Channel Logout 1.0).
   */
  frontChannelLogoutUrl?: string;
  /** The federated identity credential. */
  fic: FederatedIdentityCredential;
  /**
   * Every FIC on the registration, when it is not just `fic`: `[]` for a registration that has none yet (an app that
   * still signs in with a secret), or more than one. A token's assertion is checked against each, as Entra finds the
   * FIC by issuer and subject. Graph's `POST …/federatedIdentityCredentials` adds to it. Default: `[fic]`.
   */
  federatedCredentials?: FederatedIdentityCredential[];
  /**
   * Client secrets. While one is present and current, the token endpoint accepts its text as `client_secret`
   * (client-credentials and code grants); Graph's `removePassword` deletes it. Default none: the registration is
   * secretless.
   */
  passwordCredentials?: EmulatorPasswordCredential[];
  /** The application object's id (Graph `application.id`, not the client id). Default a fixed GUID. */
  objectId?: string;
  /** Object IDs of the registration's owners: they may read and change it through Graph without a directory role. */
  owners?: string[];
  /** The user-assigned managed identity attached to the "App Service". */
  uami: {
    /** Client id: what the app passes as `client_id` to the MI endpoint (`ManagedIdentityClientId`). */
    clientId: string;
    /** Principal (object) id: the MI token's `sub`/`oid`, and what the FIC subject must be. */
    principalId: string;
    /** ARM resource id (`mi_res_id`). */
    resourceId: string;
  };
  /** The user every sign-in selects (when `otherUsers` is empty), and the first one the account picker offers. */
  user: EmulatorUser;
  /**
   * More users of the directory. When given, a sign-in without an IdP session (or with `prompt=select_account` or
   * `prompt=login`) shows an account picker listing `user` and these; without them sign-in stays silent. Default none.
   */
  otherUsers?: EmulatorUser[];
  /**
   * The service principal's `appRoleAssignmentRequired`: a user with no role and not `assigned` is refused with
   * AADSTS50105, sent back to the app as `access_denied`. Default false.
   */
  appRoleAssignmentRequired?: boolean;
  /** `groupMembershipClaims: ["SecurityGroup"]`: ID tokens carry the user's `groups` (or the overage marker). */
  securityGroupClaims?: boolean;
}

/**
 * Registration values to override. Nested objects (`fic`, `uami`, `user`) are merged with the defaults, so
 * `{ fic: { subject: "…" } }` changes only the subject.
 */
export type RegistrationOverrides = Partial<Omit<EmulatorRegistration, "fic" | "uami" | "user">> & {
  fic?: Partial<FederatedIdentityCredential>;
  uami?: Partial<EmulatorRegistration["uami"]>;
  user?: Partial<EmulatorUser>;
};
