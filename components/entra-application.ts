import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import { refuseInvalidArguments } from "../common/invalid-arguments";
import { microsoftGraph } from "../common/microsoft-graph";
import { DEFAULT_SIGN_IN_AUDIENCE } from "../contract/catalogue";
import { type CloudName, DEFAULT_CLOUD, clouds, federatedIssuer } from "../contract/clouds";
import { GRAPH_USER_READ } from "../contract/settings";

/** Arguments of {@link EntraApplication}. */
export interface EntraApplicationArgs {
  /** Required. The app registration's display name. */
  readonly displayName: pulumi.Input<string>;
  /** Required. The directory (tenant) ID the app registration is created in: the azuread provider's tenant. */
  readonly tenantId: pulumi.Input<string>;
  /** Required. Principal (object) ID of the user-assigned managed identity the federated credential trusts. */
  readonly identityPrincipalId: pulumi.Input<string>;
  /**
   * Optional. Tenant of that managed identity. When given, a mismatch with `tenantId` fails the deployment with a clear
   * error instead of a later AADSTS700211 at sign-in: a FIC can only trust an identity of its own tenant.
   */
  readonly identityTenantId?: pulumi.Input<string>;
  /** Optional. Cloud whose login instance and token-exchange audience the FIC uses. Defaults to `public`. */
  readonly cloud?: CloudName;
  /** Optional. Who may sign in. Defaults to `AzureADMyOrg` (single tenant). */
  readonly signInAudience?: pulumi.Input<string>;
  /**
   * Optional. Require users to be assigned to the app before they can sign in. Defaults to false. When true, a user
   * with no assignment on the service principal (directly or through a group they are a direct member of) is refused
   * by Entra with AADSTS50105 ("not assigned to a role for the application") and never reaches the app.
   */
  readonly appRoleAssignmentRequired?: pulumi.Input<boolean>;
  /** Optional. Object IDs of users or service principals to make owners of the registration. Defaults to none. */
  readonly ownerObjectIds?: pulumi.Input<string>[];
  /**
   * Optional. Front-channel logout URL. Only set it when the host is known before the web app exists (a custom domain):
   * the default host name comes from the web app, which in turn needs this registration's client ID.
   */
  readonly logoutUrl?: pulumi.Input<string>;
  /**
   * Optional. Name of the federated credential: 3-120 URL-safe characters, unique per app, immutable (changing it
   * replaces the credential). Defaults to `web-app-managed-identity`.
   */
  readonly federatedCredentialName?: pulumi.Input<string>;
  /**
   * Optional. Grant tenant-wide admin consent to the delegated Microsoft Graph `User.Read` permission the registration
   * declares, through a delegated permission grant for all users, so nobody sees a consent prompt. Needs a deployer
   * who may grant consent: Cloud Application Administrator, Application Administrator or Privileged Role
   * Administrator (a service principal deployer: Graph `DelegatedPermissionGrant.ReadWrite.All`). Defaults to false:
   * users consent at sign-in where the tenant allows it, or an
   * administrator grants consent with the app's admin-consent link.
   */
  readonly grantAdminConsent?: boolean;
  /**
   * Optional. Let the authorize endpoint return ID tokens ("Implicit grant and hybrid flows" > ID tokens), which Easy
   * Auth's hybrid `code id_token` sign-in needs. Source: App Service's "Configure Azure AD authentication" article,
   * registration steps ("enable ID tokens to allow OpenID Connect user sign-ins from App Service"; revision
   * 007218e1 of articles/app-service/configure-authentication-provider-aad.md; the current revision no longer lists
   * registration settings). Access tokens from the authorize endpoint stay off. Defaults to false: the app's own
   * sign-in uses the code flow only.
   */
  readonly idTokenIssuance?: boolean;
  /**
   * Optional. Put the user's security groups (object IDs) in ID tokens: `groupMembershipClaims: ["SecurityGroup"]`.
   * Beyond 200 groups Entra sends an overage marker instead (components/app-roles.ts). Defaults to false.
   */
  readonly securityGroupClaims?: boolean;
}

/**
 * The Entra ID side of the chain: an app registration with no password or certificate, its service principal, and a
 * federated identity credential (FIC) that accepts the managed identity's tokens as the app's client assertion.
 *
 * Redirect URIs are not set here: `ApplicationRegistration` has no redirect-URI argument, and the web app's host name
 * is only known after the web app (which needs this registration's client ID) exists. The composing component adds
 * them with `azuread.ApplicationRedirectUris`.
 */
export class EntraApplication extends pulumi.ComponentResource {
  /** Client (application) ID: the app's `AzureAd__ClientId`. */
  public readonly clientId: pulumi.Output<string>;
  /** Object ID of the app registration. */
  public readonly objectId: pulumi.Output<string>;
  /** `/applications/{objectId}`: what child resources such as redirect URIs take as `applicationId`. */
  public readonly applicationId: pulumi.Output<string>;
  /** Object ID of the service principal (enterprise application). */
  public readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** The issuer the FIC trusts: `{instance}{tenantId}/v2.0`. */
  public readonly federatedIssuer: pulumi.Output<string>;

  constructor(name: string, args: EntraApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:EntraApplication", name, {}, opts);
    const cloud = args.cloud ?? DEFAULT_CLOUD;

    // Register the application. It carries no credential of its own: no password, no certificate.
    const registration = new azuread.ApplicationRegistration(
      `${name}-app`,
      {
        displayName: args.displayName,
        signInAudience: args.signInAudience ?? DEFAULT_SIGN_IN_AUDIENCE,
        logoutUrl: args.logoutUrl,
        // Sign-in uses the authorization code flow; only Easy Auth's hybrid flow needs an ID token from the authorize
        // endpoint, and nothing needs an access token from it.
        implicitIdTokenIssuanceEnabled: args.idTokenIssuance ?? false,
        implicitAccessTokenIssuanceEnabled: false,
        requestedAccessTokenVersion: 2,
        groupMembershipClaims: [args.securityGroupClaims ? "SecurityGroup" : "None"],
      },
      { parent: this },
    );

    // The deployer (the azuread provider's signed-in principal) stays an owner of both the registration and the service
    // principal: with Application.ReadWrite.OwnedBy (CI's deploy identity) it may manage only what it owns, and the
    // provider removes the caller from a service principal's owners unless listed there (@pulumi/azuread
    // ServicePrincipal and ApplicationRegistration docs). Graph makes the creator of a registration its owner; the
    // service principal gets the deployer explicitly, with the other owners.
    const deployer = azuread.getClientConfigOutput({ parent: this }).objectId;
    const owners = pulumi
      .all([deployer, ...(args.ownerObjectIds ?? [])])
      .apply(([self, ...others]): string[] => [
        self!,
        ...others.filter((o) => o!.toLowerCase() !== self!.toLowerCase()).map(String),
      ]);

    // Give the registration its other owners, when asked, so they can manage it too.
    for (const [i, owner] of (args.ownerObjectIds ?? []).entries()) {
      new azuread.ApplicationOwner(
        `${name}-owner-${i}`,
        { applicationId: registration.id, ownerObjectId: owner },
        { parent: this },
      );
    }

    // Create the service principal users sign in to.
    const servicePrincipal = new azuread.ServicePrincipal(
      `${name}-sp`,
      {
        clientId: registration.clientId,
        appRoleAssignmentRequired: args.appRoleAssignmentRequired ?? false,
        owners,
        // The tag the Entra portal gives its own integrated apps, so this one is listed under Enterprise applications.
        tags: ["WindowsAzureActiveDirectoryIntegratedApp"],
      },
      { parent: this },
    );

    // Trust the managed identity: its tokens are issued by the tenant's v2.0 issuer, carry its principal (object) ID
    // as `sub` (not its client ID: that mistake is AADSTS700213), and are requested for the token-exchange audience.
    const issuer = sameTenantIssuer(cloud, args.tenantId, args.identityTenantId);
    new azuread.ApplicationFederatedIdentityCredential(
      `${name}-fic`,
      {
        applicationId: registration.id,
        displayName: args.federatedCredentialName ?? "web-app-managed-identity",
        description: "Lets the web app's user-assigned managed identity act as this app's client credential.",
        issuer,
        subject: args.identityPrincipalId,
        audiences: [clouds[cloud].tokenExchangeAudience],
      },
      // Graph refuses two credentials with the same name or issuer+subject on one app (409), so a replacement must
      // delete the old credential first.
      { parent: this, deleteBeforeReplace: true },
    );

    // Declare the delegated Microsoft Graph permission the app calls Graph with (User.Read, to read the signed-in
    // user's profile). Both IDs are looked up in the tenant, not pasted: Graph's app ID from the provider's list of
    // Microsoft's published apps, and the permission's ID from Graph's service principal in this directory.
    const graph = microsoftGraph(this);
    new azuread.ApplicationApiAccess(
      `${name}-graph-access`,
      { applicationId: registration.id, apiClientId: graph.clientId, scopeIds: [graph.scopeId(GRAPH_USER_READ)] },
      { parent: this },
    );

    // Consent to it for every user of the tenant, when asked: a delegated permission grant without a user.
    if (args.grantAdminConsent ?? false) {
      new azuread.ServicePrincipalDelegatedPermissionGrant(
        `${name}-graph-consent`,
        {
          servicePrincipalObjectId: servicePrincipal.objectId,
          resourceServicePrincipalObjectId: graph.servicePrincipalObjectId,
          claimValues: [GRAPH_USER_READ],
        },
        { parent: this },
      );
    }

    this.clientId = registration.clientId;
    this.objectId = registration.objectId;
    this.applicationId = registration.id;
    this.servicePrincipalObjectId = servicePrincipal.objectId;
    this.federatedIssuer = issuer;
    this.registerOutputs({
      clientId: this.clientId,
      objectId: this.objectId,
      applicationId: this.applicationId,
      servicePrincipalObjectId: this.servicePrincipalObjectId,
      federatedIssuer: this.federatedIssuer,
    });
  }
}

/**
 * The FIC's issuer, `{instance}{tenantId}/v2.0`, once the identity's tenant is known to be the app registration's: a
 * mismatch fails the deployment here instead of as AADSTS700211 at the first sign-in.
 */
function sameTenantIssuer(
  cloud: CloudName,
  tenantId: pulumi.Input<string>,
  identityTenantId: pulumi.Input<string> | undefined,
): pulumi.Output<string> {
  return pulumi.all([tenantId, identityTenantId]).apply(([tenant, identityTenant]) => {
    if (identityTenant !== undefined && identityTenant.toLowerCase() !== tenant.toLowerCase()) {
      refuseInvalidArguments("EntraApplication", [
        {
          propertyPath: "identityTenantId",
          reason:
            `The managed identity is in tenant ${identityTenant} but the app registration is in tenant ${tenant}. ` +
            "A federated credential can only trust a managed identity of its own tenant: point the azuread and " +
            "azure-native providers at the same tenant (azuread:tenantId / ARM_TENANT_ID).",
        },
      ]);
    }
    return federatedIssuer(cloud, tenant);
  });
}
