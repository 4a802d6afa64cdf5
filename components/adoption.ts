/**
 * Adopting an existing app registration and an existing Linux web app: they are looked up with invokes (azuread
 * `getApplication`, azure-native `web.getWebApp`), never imported as owned resources, so no update or `pulumi
 * destroy` can replace or delete them. The stack adds only what the chain needs:
 * - on the registration: the federated credential (an `ApplicationFederatedIdentityCredential` of its own, deleted on
 *   destroy) and the redirect URI (deploy/adopt-redirect-uri.ts, a Graph read-modify-write that adds and removes that
 *   one URI; azuread's `ApplicationRedirectUris` would own every URI of its type);
 * - on the site: the identity and the `AzureAd__…` settings (deploy/adopt-site.ts, an ARM read-modify-write that
 *   changes only the stack's names; the site's settings are written as one collection, and their values, secrets
 *   included, must never reach Pulumi state).
 * Both scripts run as `command:local:Command`s with a delete step that undoes exactly what their create step did.
 */
import * as pulumi from "@pulumi/pulumi";
import * as azuread from "@pulumi/azuread";
import * as command from "@pulumi/command";
import * as web from "@pulumi/azure-native/web";
import {
  type AdoptProblem,
  AdoptKey,
  type AdoptedRegistrationFacts,
  type AdoptedSiteFacts,
  registrationProblems,
  siteProblems,
} from "../contract/adopt";
import { type CloudName, clouds, federatedIssuer } from "../contract/clouds";
import { ConfigProblemsError } from "../common/config-problems";

/** The command lines of the two adopt scripts: create, and the delete that undoes it. */
export const ADOPT_SITE_COMMAND = "node --import tsx deploy/adopt-site.ts";
export const ADOPT_REDIRECT_COMMAND = "node --import tsx deploy/adopt-redirect-uri.ts";
export const UNDO_FLAG = "--undo";

/** Thrown (through the lookups) when an adopted object cannot be adopted; every problem at once, each with its fix. */
export class AdoptionError extends ConfigProblemsError {
  constructor(problems: AdoptProblem[]) {
    super(
      "adoption",
      problems.map((p) => ({ ...p })),
      `Fix the keys above in Pulumi.${pulumi.getStack() || "<stack>"}.yaml or with \`pulumi config set\``,
    );
    this.name = "AdoptionError";
    // The check fails every gated input at once, and Pulumi's serializer prefixes the one shared error's message with
    // each property it passed through ("error serializing property …", runtime/rpc.js) before the CLI reports it
    // once: keep the message as written, which names the keys and the fixes.
    const message = this.message;
    Object.defineProperty(this, "message", { get: () => message, set: () => {}, enumerable: false });
  }
}

/** What the lookups found, once every check passed. */
export interface Adopted {
  readonly registration?: AdoptedRegistrationFacts;
  readonly site?: AdoptedSiteFacts;
}

/**
 * Looks the adopted objects up and checks them (contract/adopt.ts), reporting every problem at once. The stack's
 * resources take their inputs through {@link gated}, so none of them reaches the engine unless this resolved: a
 * refused adoption creates nothing.
 */
export function lookUpAdopted(
  args: {
    existingApp?: { clientId: string };
    existingWebApp?: { resourceGroupName: string; name: string };
    signInAudience: pulumi.Input<string>;
    location: pulumi.Input<string>;
  },
  parent: pulumi.Resource,
): pulumi.Output<Adopted> {
  const registration = args.existingApp ? lookUpRegistration(args.existingApp.clientId, parent) : undefined;
  const site = args.existingWebApp ? lookUpSite(args.existingWebApp, parent) : undefined;
  return pulumi.all([args.location, args.signInAudience]).apply(async ([location, signInAudience]) => {
    const [app, found] = await Promise.all([registration, site]);
    const problems = [
      ...(app && "problem" in app ? [app.problem] : []),
      ...(found && "problem" in found ? [found.problem] : []),
      ...(app && !("problem" in app) ? registrationProblems(app, signInAudience) : []),
      ...(found && !("problem" in found) ? siteProblems(found, location) : []),
    ];
    if (problems.length > 0) throw new AdoptionError(problems);
    return {
      ...(app && !("problem" in app) ? { registration: app } : {}),
      ...(found && !("problem" in found) ? { site: found } : {}),
    };
  });
}

async function lookUpRegistration(
  clientId: string,
  parent: pulumi.Resource,
): Promise<AdoptedRegistrationFacts | { problem: AdoptProblem }> {
  try {
    const app = await azuread.getApplication({ clientId }, { parent });
    return {
      clientId: app.clientId,
      objectId: app.objectId,
      displayName: app.displayName,
      signInAudience: app.signInAudience,
    };
  } catch {
    // Graph reads applications of the signed-in tenant only: one of another tenant is as absent as a deleted one.
    return {
      problem: {
        key: AdoptKey.AppClientId,
        message:
          `${clientId} names no app registration in the azuread provider's tenant: it is in another tenant, deleted, ` +
          "or the signed-in account may not read it. Sign in to the registration's tenant (az login --tenant " +
          "<tenant>, or set azuread:tenantId), or correct the client ID (az ad app show --id <client id>).",
      },
    };
  }
}

async function lookUpSite(
  site: { resourceGroupName: string; name: string },
  parent: pulumi.Resource,
): Promise<AdoptedSiteFacts | { problem: AdoptProblem }> {
  try {
    const found = await web.getWebApp({ resourceGroupName: site.resourceGroupName, name: site.name }, { parent });
    return {
      id: found.id,
      name: found.name,
      kind: found.kind,
      location: found.location,
      defaultHostName: found.defaultHostName,
      extendedLocation: found.extendedLocation,
      sku: found.sku,
    };
  } catch {
    return {
      problem: {
        key: AdoptKey.WebAppName,
        message:
          `no web app ${site.name} in resource group ${site.resourceGroupName} of the azure-native provider's ` +
          "subscription (or the signed-in account may not read it). Correct existingWebAppResourceGroup and " +
          "existingWebAppName (az webapp list -o table), or select the subscription (az account set -s <id>).",
      },
    };
  }
}

/** `value` once the adoption checks passed: what every resource of an adopting stack takes its inputs through. */
export function gated<T>(adopted: pulumi.Output<Adopted> | undefined, value: pulumi.Input<T>): pulumi.Output<T> {
  const output = adopted ? pulumi.all([adopted, value]).apply(([, v]) => v) : pulumi.output(value);
  return output as unknown as pulumi.Output<T>;
}

/** Arguments of {@link AdoptedRegistration}. */
export interface AdoptedRegistrationArgs {
  /** Required. The checked lookups ({@link lookUpAdopted}), with a registration. */
  readonly adopted: pulumi.Output<Adopted>;
  /** Required. The registration's tenant: the azuread provider's. */
  readonly tenantId: pulumi.Input<string>;
  /** Required. The managed identity the federated credential trusts: its principal ID and tenant. */
  readonly identityPrincipalId: pulumi.Input<string>;
  readonly identityTenantId: pulumi.Input<string>;
  /** Required. The cloud: the FIC's issuer instance and audience. */
  readonly cloud: CloudName;
  /** Optional. The FIC's name, unique on the registration. Defaults to `web-app-managed-identity`. */
  readonly federatedCredentialName?: pulumi.Input<string>;
}

/**
 * An existing app registration, adopted: the stack adds a federated credential trusting its managed identity and,
 * with {@link registerRedirectUri}, its redirect URI; it owns nothing else of the registration.
 */
export class AdoptedRegistration extends pulumi.ComponentResource {
  /** The registration's client (application) ID. */
  public readonly clientId: pulumi.Output<string>;
  /** The registration's object ID. */
  public readonly objectId: pulumi.Output<string>;
  /** `/applications/{objectId}`, as azuread resources take it. */
  public readonly applicationId: pulumi.Output<string>;
  private readonly cloud: CloudName;

  constructor(name: string, args: AdoptedRegistrationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:AdoptedRegistration", name, {}, opts);
    const app = args.adopted.apply((a) => a.registration!);
    this.cloud = args.cloud;
    this.clientId = app.clientId;
    this.objectId = app.objectId;
    this.applicationId = pulumi.interpolate`/applications/${app.objectId}`;
    const issuer = pulumi.all([args.tenantId, args.identityTenantId]).apply(([tenant, identityTenant]) => {
      if (identityTenant.toLowerCase() !== tenant.toLowerCase()) {
        throw new AdoptionError([
          {
            key: AdoptKey.AppClientId,
            message:
              `names a registration in tenant ${tenant}, but the managed identity is in tenant ${identityTenant}: a ` +
              "federated credential trusts identities of its own tenant only. Point azuread and azure-native at " +
              "the same tenant.",
          },
        ]);
      }
      return federatedIssuer(args.cloud, tenant);
    });

    // Trust the managed identity on the adopted registration: this credential is the stack's own (destroy deletes it,
    // and only it); the registration's other credentials, secrets included, are never read or changed here.
    new azuread.ApplicationFederatedIdentityCredential(
      `${name}-fic`,
      {
        applicationId: this.applicationId,
        displayName: args.federatedCredentialName ?? "web-app-managed-identity",
        description: "Lets the web app's user-assigned managed identity act as this app's client credential.",
        issuer,
        subject: args.identityPrincipalId,
        audiences: [clouds[args.cloud].tokenExchangeAudience],
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.registerOutputs({ clientId: this.clientId, objectId: this.objectId, applicationId: this.applicationId });
  }

  /**
   * Adds `uri` to the registration's Web redirect URIs and removes it on destroy, only if this stack added it; the
   * registration's other URIs are never touched (deploy/adopt-redirect-uri.ts).
   */
  registerRedirectUri(name: string, uri: pulumi.Input<string>): command.local.Command {
    const environment = {
      ADOPT_GRAPH_URL: clouds[this.cloud].graphBaseUrl,
      ADOPT_APP_OBJECT_ID: this.objectId,
      ADOPT_REDIRECT_URI: pulumi.output(uri),
    };
    return new command.local.Command(
      name,
      {
        create: ADOPT_REDIRECT_COMMAND,
        delete: `${ADOPT_REDIRECT_COMMAND} ${UNDO_FLAG}`,
        environment,
        // Another URI or registration: undo the old one, then add the new one.
        triggers: Object.values(environment),
        logging: command.types.enums.local.Logging.StdoutAndStderr,
        // The create step's record (added: yes or no) is what its undo reads.
        addPreviousOutputInEnv: true,
      },
      { parent: this, deleteBeforeReplace: true },
    );
  }
}

/** Arguments of {@link AdoptedWebApp}. */
export interface AdoptedWebAppArgs {
  /** Required. The checked lookups ({@link lookUpAdopted}), with a site. */
  readonly adopted: pulumi.Output<Adopted>;
  /** Required. The managed identity the site wears: its resource ID and client ID. */
  readonly identityId: pulumi.Input<string>;
  readonly identityClientId: pulumi.Input<string>;
  /** Required. The `AzureAd__…` values: the registration's client ID, its tenant, the callback path. */
  readonly clientId: pulumi.Input<string>;
  readonly tenantId: pulumi.Input<string>;
  readonly callbackPath: string;
  readonly cloud: CloudName;
}

/**
 * An existing Linux web app, adopted: it wears the stack's identity and presents it first (deploy/adopt-site.ts);
 * the stack owns nothing else of it, and `pulumi destroy` takes back exactly what it added.
 */
export class AdoptedWebApp extends pulumi.ComponentResource {
  public readonly id: pulumi.Output<string>;
  public readonly name: pulumi.Output<string>;
  public readonly defaultHostName: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  /** The site adopted: identity and settings in place. */
  public readonly deploymentDependencies: readonly pulumi.Resource[];

  constructor(name: string, args: AdoptedWebAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:AdoptedWebApp", name, {}, opts);
    const site = args.adopted.apply((a) => a.site!);
    const cloud = clouds[args.cloud];
    // Names and IDs only: nothing here is read from the site's settings, and nothing is secret.
    const environment = {
      ADOPT_SITE_ID: site.id,
      // Not read by the script: the host the policy pack allows the stack's redirect URI on (adopt-scripts-own-chain).
      ADOPT_SITE_HOST: site.defaultHostName,
      ADOPT_IDENTITY_ID: pulumi.output(args.identityId),
      ADOPT_ARM_SCOPE: cloud.resourceManagerScope,
      ADOPT_INSTANCE: cloud.instance,
      ADOPT_TENANT_ID: pulumi.output(args.tenantId),
      ADOPT_CLIENT_ID: pulumi.output(args.clientId),
      ADOPT_CALLBACK_PATH: args.callbackPath,
      ADOPT_MI_CLIENT_ID: pulumi.output(args.identityClientId),
      ADOPT_TOKEN_EXCHANGE_URL: cloud.tokenExchangeAudience,
    };
    const adoptSite = new command.local.Command(
      `${name}-adopt`,
      {
        create: ADOPT_SITE_COMMAND,
        delete: `${ADOPT_SITE_COMMAND} ${UNDO_FLAG}`,
        environment,
        // Any change (another identity, registration, callback): undo the old adoption first, then adopt again.
        triggers: Object.values(environment),
        logging: command.types.enums.local.Logging.StdoutAndStderr,
        addPreviousOutputInEnv: true,
      },
      { parent: this, deleteBeforeReplace: true },
    );
    this.id = site.id;
    this.name = site.name;
    this.defaultHostName = site.defaultHostName;
    this.url = pulumi.interpolate`https://${site.defaultHostName}`;
    this.deploymentDependencies = [adoptSite];
    this.registerOutputs({ id: this.id, name: this.name, defaultHostName: this.defaultHostName, url: this.url });
  }
}
