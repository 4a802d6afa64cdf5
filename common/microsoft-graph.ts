/**
 * Microsoft Graph in the azuread provider's directory, looked up once for both Pulumi projects: its application
 * (client) ID from the provider's list of Microsoft's published apps, its service principal in this tenant, and the
 * IDs of its delegated permissions (scopes) and application permissions (app roles) by value, never pasted.
 */
import type * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";

export interface MicrosoftGraph {
  readonly clientId: pulumi.Output<string>;
  readonly servicePrincipalObjectId: pulumi.Output<string>;
  /** The ID of a delegated permission (e.g. `User.Read`) in this tenant. */
  scopeId(value: string): pulumi.Output<string>;
  /** The ID of an application permission (e.g. `Application.Read.All`) in this tenant. */
  appRoleId(value: string): pulumi.Output<string>;
}

/** Looks Microsoft Graph up as a child of `parent`. */
export function microsoftGraph(parent: pulumi.Resource): MicrosoftGraph {
  const clientId = azuread.getApplicationPublishedAppIdsOutput({ parent }).result.apply((ids) => {
    const id = ids.MicrosoftGraph;
    if (!id) {
      throw new Error(
        "The azuread provider's published app IDs have no MicrosoftGraph entry; upgrade @pulumi/azuread.",
      );
    }
    return id;
  });
  const servicePrincipal = azuread.getServicePrincipalOutput({ clientId }, { parent });
  const pick = (ids: pulumi.Output<Record<string, string>>, value: string, kind: string) =>
    ids.apply((all) => {
      const id = all[value];
      if (!id) throw new Error(`Microsoft Graph's service principal in this directory publishes no ${kind} ${value}.`);
      return id;
    });
  return {
    clientId,
    servicePrincipalObjectId: servicePrincipal.objectId,
    scopeId: (value) => pick(servicePrincipal.oauth2PermissionScopeIds, value, "delegated permission"),
    appRoleId: (value) => pick(servicePrincipal.appRoleIds, value, "application permission"),
  };
}
