import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import * as resources from "@pulumi/azure-native/resources";
import { DEFAULT_SCALED_OUT_INSTANCES, DEFAULT_SIGN_IN_AUDIENCE, defaultDisplayName } from "../contract/catalogue";
import { type CloudName, DEFAULT_CLOUD, clouds } from "../contract/clouds";
import { DEFAULT_CALLBACK_PATH } from "../contract/settings";
import { AppDeployment, type AppPackageRef, RUN_FROM_PACKAGE_SETTINGS } from "./app-deployment";
import { EASY_AUTH_PATHS } from "../contract/easy-auth";
import { EasyAuth, easyAuthAppSettings } from "./easy-auth";
import { AppRoles } from "./app-roles";
import { EntraApplication } from "./entra-application";
import { ManagedIdentity } from "./identity";
import { LinuxWebApp } from "./linux-web-app";
import { LogWorkspace } from "./log-workspace";
import { AppInsights, DEFAULT_TELEMETRY } from "./app-insights";
import { type SecretlessWebAppArgs, ownAppSettings, validateArgs } from "./secretless-web-app-args";
import { SessionRedis } from "./session-redis";
import { STAGING_SLOT_NAME, SWAP_WARMUP_SETTINGS } from "../contract/slots";
import { StagingSlot } from "./staging-slot";
import { ContainerAppHost } from "./container-app-host";
import { AdoptedRegistration, AdoptedWebApp, type Adopted, gated, lookUpAdopted } from "./adoption";

export type { SecretlessWebAppArgs } from "./secretless-web-app-args";

/**
 * The whole secretless sign-in chain in one resource: a user-assigned managed identity, an Entra app registration whose
 * federated credential trusts that identity, and a hardened Linux web app wearing the identity with the
 * Microsoft.Identity.Web-style settings that make the app present the identity's token as its client assertion.
 */
export class SecretlessWebApp extends pulumi.ComponentResource {
  /** `https://{defaultHostName}`. */
  public readonly url: pulumi.Output<string>;
  /** The web app's default host name. */
  public readonly defaultHostName: pulumi.Output<string>;
  /** The web app (site) name. */
  public readonly webAppName: pulumi.Output<string>;
  /** The resource group everything lives in. */
  public readonly resourceGroupName: pulumi.Output<string>;
  /** The app registration's client ID. */
  public readonly appClientId: pulumi.Output<string>;
  /** The app registration's object ID. */
  public readonly appObjectId: pulumi.Output<string>;
  /** The managed identity's client ID. */
  public readonly identityClientId: pulumi.Output<string>;
  /** The managed identity's principal (object) ID: the FIC's subject. */
  public readonly identityPrincipalId: pulumi.Output<string>;
  /** The managed identity's resource ID. */
  public readonly identityId: pulumi.Output<string>;
  /** The tenant the app registration and the identity live in. */
  public readonly tenantId: pulumi.Output<string>;
  /** The redirect URI registered for sign-in: `https://{defaultHostName}{callbackPath}`. */
  public readonly redirectUri: pulumi.Output<string>;
  /** With `stagingSlot`: the slot's redirect URI, `https://{slot host}{callbackPath}`; undefined without. */
  public readonly stagingRedirectUri: pulumi.Output<string | undefined>;
  /** With `stagingSlot`: `https://{slot host}`; undefined without. */
  public readonly stagingUrl: pulumi.Output<string | undefined>;
  /** The Redis host sessions live in with `scaleOut`; undefined without. */
  public readonly redisHostName: pulumi.Output<string | undefined>;
  /** With telemetry: the Application Insights component's name; undefined without. */
  public readonly appInsightsName: pulumi.Output<string | undefined>;
  /** With telemetry: the Log Analytics workspace's customer ID, what queries name it by; undefined without. */
  public readonly logWorkspaceCustomerId: pulumi.Output<string | undefined>;
  /** The sha256 of the package deployed to the site, once deployed; undefined without `appPackage`. */
  public readonly appPackageSha256: pulumi.Output<string | undefined>;
  /** With `hosting: containerApps`: the image the container app runs, by digest; undefined on App Service. */
  public readonly image: pulumi.Output<string | undefined>;

  constructor(name: string, args: SecretlessWebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:SecretlessWebApp", name, {}, opts);
    validateArgs(args);
    const cloud = args.cloud ?? DEFAULT_CLOUD;
    const callbackPath = args.callbackPath ?? DEFAULT_CALLBACK_PATH;
    const tenantId = pulumi.output(args.tenantId ?? azuread.getClientConfigOutput({ parent: this }).tenantId);
    // Adopting: look the existing registration and site up and check them first; every resource takes its inputs
    // through `gated`, so a refused adoption registers nothing (components/adoption.ts).
    const adopted =
      args.existingApp || args.existingWebApp
        ? lookUpAdopted(
            { ...args, signInAudience: args.signInAudience ?? DEFAULT_SIGN_IN_AUDIENCE, location: args.location },
            this,
          )
        : undefined;

    // Use the caller's resource group (an adopted site's by default), or create one.
    const groupName = args.resourceGroupName ?? args.existingWebApp?.resourceGroupName;
    const resourceGroupName =
      groupName !== undefined
        ? gated(adopted, groupName)
        : new resources.ResourceGroup(
            `${name}-rg`,
            { location: gated(adopted, args.location), tags: args.tags },
            { parent: this },
          ).name;

    const { identity, entra } = this.trustChain(name, args, resourceGroupName, tenantId, cloud, adopted);
    // Scaled out: sessions in Azure Managed Redis that only the app's identity may use, named by its object ID.
    const redis = args.scaleOut
      ? new SessionRedis(
          `${name}-sessions`,
          {
            resourceGroupName,
            location: args.location,
            identityPrincipalId: identity.principalId,
            sku: args.redisSku,
            tags: args.tags,
          },
          { parent: this },
        )
      : undefined;
    // Telemetry: a Log Analytics workspace that takes Entra ID only, where the site's platform logs go, and
    // workspace-based Application Insights that only the app's identity may publish to (no key anywhere).
    const telemetry = args.telemetry ?? DEFAULT_TELEMETRY;
    const logs = telemetry
      ? new LogWorkspace(
          `${name}-logs`,
          { resourceGroupName, location: args.location, tags: args.tags },
          { parent: this },
        )
      : undefined;
    const insights = logs
      ? new AppInsights(
          `${name}-insights`,
          {
            resourceGroupName,
            location: args.location,
            workspaceId: logs.id,
            identityPrincipalId: identity.principalId,
            identityClientId: identity.clientId,
            tags: args.tags,
          },
          { parent: this },
        )
      : undefined;
    // Hosted on Container Apps: the same identity and settings on a container app (components/container-app-host.ts).
    if (args.hosting === "containerApps") {
      const settings = {
        ...args.appSettings,
        ...ownAppSettings(cloud, callbackPath, tenantId, entra, identity, redis, insights),
      };
      // validateArgs refuses adopting with containerApps, so the registration is this stack's own.
      const ownEntra = entra as EntraApplication;
      const host = this.containerHost(
        name,
        args,
        resourceGroupName,
        identity,
        ownEntra,
        settings,
        cloud,
        logs,
        insights,
      );
      const redirect = pulumi.interpolate`https://${host.fqdn}${callbackPath}`;
      new azuread.ApplicationRedirectUris(
        `${name}-redirect-uris`,
        { applicationId: ownEntra.applicationId, type: "Web", redirectUris: [redirect] },
        { parent: this },
      );
      this.url = host.url;
      this.defaultHostName = host.fqdn;
      this.webAppName = host.name;
      this.redirectUri = redirect;
      this.stagingRedirectUri = pulumi.output(undefined);
      this.stagingUrl = pulumi.output(undefined);
      this.appPackageSha256 = pulumi.output(undefined);
      this.image = host.image;
    } else {
      const site = this.appServiceHost(
        name,
        args,
        resourceGroupName,
        tenantId,
        cloud,
        callbackPath,
        entra,
        identity,
        redis,
        logs,
        adopted,
        insights,
      );
      this.url = site.url;
      this.defaultHostName = site.defaultHostName;
      this.webAppName = site.webAppName;
      this.redirectUri = site.redirectUri;
      this.stagingRedirectUri = site.stagingRedirectUri;
      this.stagingUrl = site.stagingUrl;
      this.appPackageSha256 = site.appPackageSha256;
      this.image = pulumi.output(undefined);
    }
    this.resourceGroupName = resourceGroupName;
    this.appClientId = entra.clientId;
    this.appObjectId = entra.objectId;
    this.identityClientId = identity.clientId;
    this.identityPrincipalId = identity.principalId;
    this.identityId = identity.id;
    this.tenantId = tenantId;
    this.redisHostName = redis ? redis.hostName : pulumi.output(undefined);
    this.appInsightsName = insights ? insights.name : pulumi.output(undefined);
    this.logWorkspaceCustomerId = logs ? logs.customerId : pulumi.output(undefined);
    this.registerOutputs({
      url: this.url,
      defaultHostName: this.defaultHostName,
      webAppName: this.webAppName,
      tenantId: this.tenantId,
      resourceGroupName: this.resourceGroupName,
      appClientId: this.appClientId,
      appObjectId: this.appObjectId,
      identityClientId: this.identityClientId,
      identityPrincipalId: this.identityPrincipalId,
      identityId: this.identityId,
      redirectUri: this.redirectUri,
      stagingRedirectUri: this.stagingRedirectUri,
      stagingUrl: this.stagingUrl,
      redisHostName: this.redisHostName,
      appPackageSha256: this.appPackageSha256,
      image: this.image,
      appInsightsName: this.appInsightsName,
      logWorkspaceCustomerId: this.logWorkspaceCustomerId,
    });
  }

  /**
   * The App Service side: the web app with its settings, Easy Auth or a staging slot when asked, the redirect URIs and
   * the deploy step.
   */
  private appServiceHost(
    name: string,
    args: SecretlessWebAppArgs,
    resourceGroupName: pulumi.Output<string>,
    tenantId: pulumi.Output<string>,
    cloud: CloudName,
    callbackPath: string,
    entra: EntraApplication | AdoptedRegistration,
    identity: ManagedIdentity,
    redis: SessionRedis | undefined,
    logs: LogWorkspace | undefined,
    adopted: pulumi.Output<Adopted> | undefined,
    insights: AppInsights | undefined,
  ) {
    // Run the deployed zip as it is, mounted read-only; settings the app gets whether this stack or its owner deploys
    // it.
    const easyAuthMode = args.authMode === "easyAuth";
    // With a staging slot, App Service itself pings every slot instance's /readyz before a swap (contract/slots.ts).
    const appSettings = {
      ...args.appSettings,
      ...ownAppSettings(cloud, callbackPath, tenantId, entra, identity, redis, insights),
      ...(easyAuthMode ? easyAuthAppSettings(identity.clientId) : {}),
      ...RUN_FROM_PACKAGE_SETTINGS,
      ...(args.stagingSlot ? SWAP_WARMUP_SETTINGS : {}),
    };
    const site =
      adopted && args.existingWebApp
        ? new AdoptedWebApp(
            `${name}-web`,
            {
              adopted,
              identityId: identity.id,
              identityClientId: identity.clientId,
              clientId: entra.clientId,
              tenantId,
              callbackPath,
              cloud,
            },
            { parent: this },
          )
        : this.host(name, args, resourceGroupName, identity, appSettings, logs);
    // Easy Auth mode: the platform signs users in, with the identity's token through the FIC (components/easy-auth.ts).
    const easyAuth = easyAuthMode
      ? new EasyAuth(
          `${name}-easy-auth`,
          { resourceGroupName, siteName: site.name, tenantId, clientId: entra.clientId, cloud },
          { parent: this },
        )
      : undefined;
    // Deploy through a staging slot: the same identity, hardening and settings, proven before it is swapped in.
    const slot = args.stagingSlot
      ? new StagingSlot(
          `${name}-staging`,
          // An adopted site has no slot (validateArgs refuses stagingSlot with existingWebApp).
          { resourceGroupName, siteName: site.name, shape: (site as LinuxWebApp).shape, appSettings, tags: args.tags },
          { parent: this },
        )
      : undefined;

    // Register the deployed callback as the app's only redirect URI. Its host is known only once the site exists, and
    // the site needs the app's client ID, so this separate resource closes the loop without a cycle. In Easy Auth mode
    // the callback is Easy Auth's own. The staging slot signs users in on its own host (testers before a swap), so its
    // callback is registered too.
    const siteCallbackPath = easyAuth ? EASY_AUTH_PATHS.callback : callbackPath;
    const redirectUri = pulumi.interpolate`https://${site.defaultHostName}${siteCallbackPath}`;
    const stagingRedirectUri = slot ? pulumi.interpolate`https://${slot.defaultHostName}${callbackPath}` : undefined;
    // An adopted registration keeps its other URIs: the stack adds (and on destroy removes) only its own.
    if (entra instanceof AdoptedRegistration) {
      entra.registerRedirectUri(`${name}-redirect-uri`, redirectUri);
      if (stagingRedirectUri) entra.registerRedirectUri(`${name}-staging-redirect-uri`, stagingRedirectUri);
    } else
      new azuread.ApplicationRedirectUris(
        `${name}-redirect-uris`,
        {
          applicationId: entra.applicationId,
          type: "Web",
          redirectUris: stagingRedirectUri ? [redirectUri, stagingRedirectUri] : [redirectUri],
        },
        { parent: this },
      );
    // Deploy the app once everything it runs on and signs in with exists.
    const deployment =
      args.appPackage === undefined
        ? undefined
        : // Never onto an adopted site (validateArgs refuses appPackage with existingWebApp).
          this.deploy(name, args, args.appPackage, cloud, site as LinuxWebApp, entra, easyAuth, slot, insights);
    return {
      url: site.url,
      defaultHostName: site.defaultHostName,
      webAppName: site.name,
      redirectUri,
      stagingRedirectUri: stagingRedirectUri ?? pulumi.output(undefined),
      stagingUrl: slot ? pulumi.interpolate`https://${slot.defaultHostName}` : pulumi.output(undefined),
      appPackageSha256: deployment ? deployment.deployedSha256 : pulumi.output(undefined),
    };
  }

  /**
   * The identity the web app signs in with, and its app registration in Entra ID, trusting that identity instead of a
   * secret.
   */
  private trustChain(
    name: string,
    args: SecretlessWebAppArgs,
    resourceGroupName: pulumi.Input<string>,
    tenantId: pulumi.Output<string>,
    cloud: CloudName,
    adopted: pulumi.Output<Adopted> | undefined,
  ) {
    // Create the identity the web app signs in with.
    const identity = new ManagedIdentity(
      `${name}-identity`,
      { resourceGroupName, location: gated(adopted, args.location), tags: args.tags },
      { parent: this },
    );
    // An adopted registration gets the federated credential (and later the redirect URI) and nothing else.
    if (adopted && args.existingApp) {
      const entra = new AdoptedRegistration(
        `${name}-entra`,
        {
          adopted,
          tenantId,
          identityPrincipalId: identity.principalId,
          identityTenantId: identity.tenantId,
          cloud,
        },
        { parent: this },
      );
      return { identity, entra };
    }

    // Register the app in Entra ID, trusting that identity instead of holding a secret.
    const entra = new EntraApplication(
      `${name}-entra`,
      {
        // Gated: with an adopted site, the new registration waits for the site's checks like everything else.
        displayName: gated(adopted, args.appDisplayName ?? defaultDisplayName(args.webAppName)),
        tenantId,
        identityPrincipalId: identity.principalId,
        identityTenantId: identity.tenantId,
        cloud,
        signInAudience: args.signInAudience,
        appRoleAssignmentRequired: args.appRoleAssignmentRequired,
        ownerObjectIds: args.appOwnerObjectIds,
        grantAdminConsent: args.grantAdminConsent,
        idTokenIssuance: args.authMode === "easyAuth",
        securityGroupClaims: args.securityGroupClaims,
      },
      { parent: this },
    );
    // Declare who may do what: the app roles and their assignments on the service principal.
    if ((args.appRoles ?? []).length > 0) {
      const { applicationId, servicePrincipalObjectId } = entra;
      const roles = { roles: args.appRoles ?? [], assignments: args.appRoleAssignments };
      new AppRoles(`${name}-roles`, { applicationId, servicePrincipalObjectId, ...roles }, { parent: this });
    }
    return { identity, entra };
  }

  /** Hosts the app on a hardened Linux web app wearing the identity. */
  private host(
    name: string,
    args: SecretlessWebAppArgs,
    resourceGroupName: pulumi.Input<string>,
    identity: ManagedIdentity,
    appSettings: Record<string, pulumi.Input<string>>,
    logs: LogWorkspace | undefined,
  ): LinuxWebApp {
    return new LinuxWebApp(
      `${name}-web`,
      {
        resourceGroupName,
        location: args.location,
        siteName: args.webAppName,
        identityId: identity.id,
        planSku: args.planSku,
        existingPlanId: args.existingPlanId,
        nodeVersion: args.nodeVersion,
        runtimeStack: args.runtimeStack,
        alwaysOn: args.alwaysOn,
        healthCheckPath: args.healthCheckPath,
        // An app of your own without a start command: the runtime image's own start-up detection, never the sample's.
        appCommandLine: args.appCommandLine ?? (args.runtimeStack !== undefined ? "" : undefined),
        uniqueDefaultHostname: args.uniqueDefaultHostname,
        instanceCount: args.instanceCount ?? (args.scaleOut ? DEFAULT_SCALED_OUT_INSTANCES : 1),
        clientAffinityEnabled: !args.scaleOut,
        appSettings,
        tags: args.tags,
        logWorkspaceId: logs?.id,
      },
      { parent: this },
    );
  }

  /**
   * Hosts the app on Azure Container Apps wearing the identity, with its own registry, environment and image push,
   * and the environment's logs in the stack's Log Analytics workspace.
   */
  private containerHost(
    name: string,
    args: SecretlessWebAppArgs,
    resourceGroupName: pulumi.Input<string>,
    identity: ManagedIdentity,
    entra: EntraApplication,
    settings: Record<string, pulumi.Input<string>>,
    cloud: CloudName,
    logs: LogWorkspace | undefined,
    insights: AppInsights | undefined,
  ): ContainerAppHost {
    return new ContainerAppHost(
      `${name}-aca`,
      {
        resourceGroupName,
        location: args.location,
        containerAppName: args.webAppName,
        identityId: identity.id,
        identityPrincipalId: identity.principalId,
        environment: settings,
        // validateArgs refused containerApps without an image.
        image: args.appImage!,
        logWorkspaceId: logs?.id,
        armScope: clouds[cloud].resourceManagerScope,
        minReplicas: args.minReplicas,
        maxReplicas: args.maxReplicas,
        sessionsShared: args.scaleOut,
        healthCheckPath: typeof args.healthCheckPath === "string" ? args.healthCheckPath : undefined,
        waitForReady: args.waitForReady,
        readinessTimeoutMinutes: args.readinessTimeoutMinutes,
        // The readiness wait signs in through the app registration and its FIC: they must exist first.
        // With telemetry, /readyz is proven once the identity's publisher grant exists too.
        readyAfter: [entra, ...(insights ? [insights] : [])],
        tags: args.tags,
      },
      { parent: this },
    );
  }

  /**
   * Deploys the app once the site, its settings and basic auth off are in place, and the app registration's service
   * principal and FIC exist (the readiness wait signs in with them). Depending on a component waits for every one of
   * its resources.
   */
  private deploy(
    name: string,
    args: SecretlessWebAppArgs,
    appPackage: pulumi.Input<AppPackageRef>,
    cloud: CloudName,
    site: LinuxWebApp,
    entra: pulumi.Resource,
    easyAuth: EasyAuth | undefined,
    slot: StagingSlot | undefined,
    insights: AppInsights | undefined,
  ): AppDeployment {
    return new AppDeployment(
      `${name}-app`,
      {
        siteId: site.id,
        scmHostName: site.scmHostName,
        defaultHostName: site.defaultHostName,
        package: appPackage,
        armScope: clouds[cloud].resourceManagerScope,
        readinessTimeoutMinutes: args.readinessTimeoutMinutes,
        waitForReady: args.waitForReady,
        readinessPath: args.readinessPath,
        stagingSlot: slot && {
          name: STAGING_SLOT_NAME,
          scmHostName: slot.scmHostName,
          defaultHostName: slot.defaultHostName,
          afterSwap: args.stagingSlotAfterSwap,
        },
      },
      // In Easy Auth mode the app starts only once authentication is on (it refuses the headers otherwise).
      {
        parent: this,
        dependsOn: [
          ...site.deploymentDependencies,
          ...(slot?.deploymentDependencies ?? []),
          entra,
          ...(easyAuth ? [easyAuth] : []),
          // The app exports telemetry from its first request: the grant should exist when it starts.
          ...(insights ? [insights] : []),
        ],
      },
    );
  }
}
