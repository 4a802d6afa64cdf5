import * as pulumi from "@pulumi/pulumi";
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as authorization from "@pulumi/azure-native/authorization";
import type { CloudName } from "../contract/clouds";
import {
  MONITORING_METRICS_PUBLISHER_ROLE_ID,
  TelemetrySetting,
  entraAuthenticationString,
} from "../contract/telemetry";

/**
 * The clouds where Application Insights accepts Microsoft Entra-authenticated ingestion: "Be in the public cloud" is
 * the first prerequisite (https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication, Prerequisites).
 * Elsewhere telemetry would need the instrumentation key as a credential, which this project never uses.
 */
export const ENTRA_INGESTION_CLOUDS: readonly CloudName[] = ["public"];

/**
 * Telemetry is off unless asked for. It costs little (docs/telemetry.md, "Cost"), but it assigns an Azure role (the
 * publisher grant), which needs `Microsoft.Authorization/roleAssignments/write`: Owner, User Access Administrator or
 * Role Based Access Control Administrator. Contributor, all this stack otherwise needs, and CI's deploy identity
 * (bootstrap: `least` or `contributor`) do not have it, so on by default would break their `pulumi up` halfway.
 */
export const DEFAULT_TELEMETRY = false;

/** Why `telemetry: true` cannot be honoured in GitHub Actions: CI's deploy identity cannot assign roles. */
export const TELEMETRY_CI_PROBLEM =
  "is true, but the stack then grants the app's identity Monitoring Metrics Publisher on its Application Insights, " +
  "which needs Microsoft.Authorization/roleAssignments/write; CI's deploy identity (the bootstrap's least or " +
  "contributor roles) cannot assign roles. Set it to false for the stack CI deploys (pulumi config set --type bool " +
  "telemetry false), or deploy telemetry from a machine as someone who may assign roles on the resource group.";

/** Why `telemetry: true` cannot be honoured in `cloud`, or undefined. */
export function telemetryProblem(telemetry: boolean, cloud: CloudName): string | undefined {
  if (!telemetry || ENTRA_INGESTION_CLOUDS.includes(cloud)) return undefined;
  return (
    `is true but cloud is "${cloud}": Application Insights accepts Microsoft Entra-authenticated telemetry in the ` +
    "public cloud only, and this stack never sends telemetry with an instrumentation key. Set telemetry to false " +
    "(pulumi config set --type bool telemetry false) or use the public cloud."
  );
}

/** The built-in role's definition, below a subscription. */
const ROLE_PATH = `Microsoft.Authorization/roleDefinitions/${MONITORING_METRICS_PUBLISHER_ROLE_ID}`;

/** Arguments of {@link AppInsights}. */
export interface AppInsightsArgs {
  /** Required. The resource group to create the component in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Required. ARM resource ID of the Log Analytics workspace the telemetry is stored in (LogWorkspace.id). */
  readonly workspaceId: pulumi.Input<string>;
  /** Required. Principal (object) ID of the identity the app wears: the only one that may publish telemetry. */
  readonly identityPrincipalId: pulumi.Input<string>;
  /** Required. Client ID of the same identity: what the exporter names when it asks for a token. */
  readonly identityClientId: pulumi.Input<string>;
  /** Optional. Tags for the component. Defaults to none. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * Workspace-based Application Insights that takes Microsoft Entra-authenticated telemetry only, and the one grant that
 * lets the app's managed identity publish to it. Sources: "Microsoft Entra authentication for Application Insights",
 * https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication:
 * - `disableLocalAuth: true`: "opt out of local authentication to ensure only telemetry exclusively authenticated by
 *   using managed identities and Microsoft Entra ID is ingested"; the instrumentation key no longer writes anything
 *   (ingestion answers 401 to a request without a valid Entra token), so the connection string that carries it is an
 *   address, not a credential: see {@link AppInsights.connectionString}. The built-in Azure Policy "Application
 *   Insights components should block non-Azure Active Directory based ingestion" checks the same property.
 * - The role: "Monitoring Metrics Publisher … setting the target Application Insights resource as the role scope";
 *   "Although the Monitoring Metrics Publisher role says 'metrics,' it will publish all telemetry". Scoped to this
 *   component, never the group: the identity can write this app's telemetry and nothing else's.
 * - Workspace-based (`workspaceResourceId`, `ingestionMode: LogAnalytics`): classic components were retired in
 *   February 2024; the data lives, and is billed, in the workspace (its retention, its Entra-only access).
 * - `disableIpMasking` stays unset (masked): client IPs are not stored in Application Insights, only the derived
 *   location.
 */
export class AppInsights extends pulumi.ComponentResource {
  /** ARM resource ID of the component: the role assignment's scope. */
  public readonly id: pulumi.Output<string>;
  /** The component's name, as the portal lists it. */
  public readonly name: pulumi.Output<string>;
  /**
   * `InstrumentationKey=…;IngestionEndpoint=…;LiveEndpoint=…;ApplicationId=…`: where to send telemetry. Not a
   * secret here: with local authentication disabled, Application Insights accepts telemetry only with an Entra token
   * of a principal holding Monitoring Metrics Publisher on the component, so knowing the key lets no one write or
   * read.
   */
  public readonly connectionString: pulumi.Output<string>;
  /** The app settings that point the app's exporter at this component and authenticate it as the identity. */
  public readonly appSettings: Record<string, pulumi.Input<string>>;

  constructor(name: string, args: AppInsightsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:AppInsights", name, {}, opts);

    // Create the component: web, workspace-based, Entra-authenticated ingestion only.
    const component = new applicationinsights.Component(
      `${name}-component`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        kind: "web",
        applicationType: applicationinsights.ApplicationType.Web,
        workspaceResourceId: args.workspaceId,
        ingestionMode: applicationinsights.IngestionMode.LogAnalytics,
        disableLocalAuth: true,
        tags: args.tags,
      },
      { parent: this },
    );

    // Let the app's identity, and no one else, publish to this component. The role definition lives in the
    // subscription the component is in; a replaced assignment (same principal, role and scope) must go first, or ARM
    // answers 409 RoleAssignmentExists.
    const subscription = component.id.apply((id) => id.split("/")[2]);
    new authorization.RoleAssignment(
      `${name}-publisher`,
      {
        principalId: args.identityPrincipalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: pulumi.interpolate`/subscriptions/${subscription}/providers/${ROLE_PATH}`,
        scope: component.id,
      },
      { parent: this, deleteBeforeReplace: true },
    );

    this.id = component.id;
    this.name = component.name;
    this.connectionString = component.connectionString;
    this.appSettings = {
      [TelemetrySetting.ConnectionString]: component.connectionString,
      [TelemetrySetting.AuthenticationString]: pulumi.output(args.identityClientId).apply(entraAuthenticationString),
    };
    this.registerOutputs({ id: this.id, name: this.name, connectionString: this.connectionString });
  }
}
