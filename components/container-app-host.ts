import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as app from "@pulumi/azure-native/app";
import * as authorization from "@pulumi/azure-native/authorization";
import * as containerregistry from "@pulumi/azure-native/containerregistry";
import * as monitor from "@pulumi/azure-native/monitor";
import * as command from "@pulumi/command";
import { invalidArguments } from "../common/invalid-arguments";
import {
  ACR_PULL_ROLE_ID as ACR_PULL,
  APP_CONTAINER_PORT,
  CONTAINER_CPU,
  CONTAINER_MEMORY,
  DEFAULT_REPLICAS,
  ENVIRONMENT_LOG_CATEGORIES,
  containerAppNameProblem,
  registryNameFor,
  replicaProblems,
} from "../contract/container-apps";
import { READINESS_PATH } from "../contract/readiness";
import { HEALTH_CHECK_PATH, HostingSetting } from "../contract/settings";
import { WAIT_READY_COMMAND } from "./app-deployment";

/**
 * The image to run, as the program builds it: `buildAppImage()` (deploy/container-image.ts) returns one. Its content
 * hash changes exactly when the pushed image would.
 */
export interface AppImageRef {
  /** Lower-case hex sha256 of the image's content; a new value re-runs the push and rolls out a new revision. */
  readonly contentSha256: string;
  /** The repository in the registry, e.g. `secretless-signin`. */
  readonly repository: string;
  /** The base image, pinned by digest, that the push imports into the registry first. */
  readonly baseImage: string;
  /** The folder with the built layer and image.json, relative to the project root (`dist/app-image`). */
  readonly layoutDir: string;
}

/** What deploy/push-image.ts prints on its last line: the digest it pushed and the image reference that runs it. */
export interface PushedImage {
  readonly digest: string;
  readonly image: string;
}

/** The command line of the image push, relative to the project root (the same on every machine). */
export const PUSH_IMAGE_COMMAND = "node --import tsx deploy/push-image.ts";

/** Arguments of {@link ContainerAppHost}. */
export interface ContainerAppHostArgs {
  /** Required. The resource group for the registry, the environment and the app. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Optional. The Azure region; defaults to the resource group's. */
  readonly location?: pulumi.Input<string>;
  /** Required. The container app's name (2-32 lower-case letters, digits or hyphens). */
  readonly containerAppName: string;
  /** Required. ARM resource ID of the user-assigned identity: the app's only identity, and what pulls its image. */
  readonly identityId: pulumi.Input<string>;
  /** Required. Its principal (object) ID: the AcrPull role assignment names it. */
  readonly identityPrincipalId: pulumi.Input<string>;
  /**
   * Required. The app's settings, as environment variables (plain values, never a secret reference). `PORT` and
   * `PUBLIC_BASE_URL` are this component's.
   */
  readonly environment: Record<string, pulumi.Input<string>>;
  /** Required. The image to build into the registry and run. */
  readonly image: pulumi.Input<AppImageRef>;
  /**
   * Optional. ARM resource ID of the Log Analytics workspace (Entra-only ingestion) the environment's logs go to,
   * through a diagnostic setting. Without it the logs still go to Azure Monitor, routed nowhere until a diagnostic
   * setting is added; never to the shared-key `log-analytics` destination.
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /** Required. The cloud's Azure Resource Manager scope, for the deployer's token in the push. */
  readonly armScope: pulumi.Input<string>;
  /** Optional. The fewest replicas kept running. Defaults to 1. */
  readonly minReplicas?: number;
  /** Optional. The most replicas. Defaults to 1. More than one needs `sessionsShared`. */
  readonly maxReplicas?: number;
  /** Optional. Sessions live outside the replicas (Redis), so several may run. Defaults to false. */
  readonly sessionsShared?: boolean;
  /** Optional. The liveness probe's path. Defaults to `/healthz`. */
  readonly healthCheckPath?: string;
  /** Optional. Wait for `/readyz` on the app's FQDN once the revision runs. Defaults to true. */
  readonly waitForReady?: boolean;
  /** Optional. The readiness wait's bound, in whole minutes. Defaults to 10. */
  readonly readinessTimeoutMinutes?: pulumi.Input<number>;
  /**
   * Optional. What the readiness wait must wait for besides the app: the app registration and its FIC, which `/readyz`
   * signs in through. Defaults to none.
   */
  readonly readyAfter?: readonly pulumi.Resource[];
  /** Optional. Tags for every resource that takes them. */
  readonly tags?: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * The app on Azure Container Apps, with nothing secret anywhere, the image pull included:
 * - an Azure Container Registry with the admin user (its password) and anonymous pull off;
 * - AcrPull on that registry for the app's user-assigned identity, made before the app exists;
 * - the image pushed by the deploy step (deploy/push-image.ts, the deployer's own Entra token) and run by DIGEST;
 * - a managed environment whose logs go to Azure Monitor and from there, by a diagnostic setting, to the stack's
 *   Log Analytics workspace: never the `log-analytics` destination, which needs the workspace's shared key;
 * - the container app wearing the identity only, pulling with it (`registries[].identity`), HTTPS-only external
 *   ingress, liveness on `/healthz` and readiness on `/readyz`, and replica bounds;
 * - the readiness wait against the app's own FQDN, read from the resource.
 */
export class ContainerAppHost extends pulumi.ComponentResource {
  /** ARM resource ID of the container app. */
  public readonly id: pulumi.Output<string>;
  /** The container app's name. */
  public readonly name: pulumi.Output<string>;
  /** The app's FQDN, as Container Apps reports it for its ingress (never built by hand). */
  public readonly fqdn: pulumi.Output<string>;
  /** `https://{fqdn}`. */
  public readonly url: pulumi.Output<string>;
  /** The registry's login server, e.g. `<name>.azurecr.io`. */
  public readonly registryLoginServer: pulumi.Output<string>;
  /** The image the app runs: `<login server>/<repository>@sha256:…`. */
  public readonly image: pulumi.Output<string>;
  /** True once `/readyz` reported ready on the app's FQDN (immediately true when the wait is off). */
  public readonly ready: pulumi.Output<boolean>;

  constructor(name: string, args: ContainerAppHostArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:ContainerAppHost", name, {}, opts);
    validateHostArgs(args);
    const sessionsShared = args.sessionsShared ?? false;
    const replicas = sessionsShared ? DEFAULT_REPLICAS.scaledOut : DEFAULT_REPLICAS.single;
    const image = pulumi.output(args.image).apply(validateImage);

    // Create the registry: no admin user (a password), no anonymous pull. Its name is global (`<name>.azurecr.io`),
    // so it carries a hash of project, stack and app name.
    const hash = createHash("sha256")
      .update(`${pulumi.getProject()}/${pulumi.getStack()}/${args.containerAppName}`)
      .digest("hex");
    const registry = new containerregistry.Registry(
      `${name}-registry`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        registryName: registryNameFor(args.containerAppName, hash),
        sku: { name: containerregistry.SkuName.Basic },
        adminUserEnabled: false,
        anonymousPullEnabled: false,
        publicNetworkAccess: containerregistry.PublicNetworkAccess.Enabled,
        tags: args.tags,
      },
      { parent: this },
    );

    // Let the app's identity pull, and only pull, from this registry; before the app exists, so its first revision
    // can pull (role assignments can take minutes to propagate: docs/container-apps.md).
    const roles = registry.id.apply(
      (id) => `${/^\/subscriptions\/[^/]+/i.exec(id)?.[0] ?? ""}/providers/Microsoft.Authorization/roleDefinitions`,
    );
    const acrPull = new authorization.RoleAssignment(
      `${name}-acr-pull`,
      {
        scope: registry.id,
        principalId: args.identityPrincipalId,
        principalType: authorization.PrincipalType.ServicePrincipal,
        roleDefinitionId: pulumi.interpolate`${roles}/${ACR_PULL}`,
        description: "The app's identity pulls its image (secretless sign-in stack).",
      },
      { parent: this },
    );

    // Push the image with the deployer's own Entra token; re-run exactly when the image's content changes.
    const push = new command.local.Command(
      `${name}-push`,
      {
        create: PUSH_IMAGE_COMMAND,
        // deploy/push-image.ts's inputs: where to push, what (checked against the planned content hash), and the
        // registry's ARM ID and scope to import the pinned base server-side. None is secret.
        environment: {
          REGISTRY_LOGIN_SERVER: registry.loginServer,
          REGISTRY_ID: registry.id,
          REGISTRY_ARM_SCOPE: args.armScope,
          IMAGE_REPOSITORY: image.repository,
          BASE_IMAGE: image.baseImage,
          IMAGE_LAYOUT_DIR: image.layoutDir,
          IMAGE_CONTENT_SHA256: image.contentSha256,
        },
        triggers: [image.contentSha256, registry.id],
        logging: command.types.enums.local.Logging.StdoutAndStderr,
        addPreviousOutputInEnv: false,
      },
      { parent: this },
    );
    const pushed = pulumi
      .all([push.stdout, registry.loginServer, image.repository])
      .apply(([stdout, server, repository]) => parsePushedImage(stdout, server, repository));

    // Create the environment: app logs to Azure Monitor, routed below; no Log Analytics shared key anywhere.
    const environment = new app.ManagedEnvironment(
      `${name}-env`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        appLogsConfiguration: { destination: "azure-monitor" },
        zoneRedundant: false,
        tags: args.tags,
      },
      { parent: this },
    );
    if (args.logWorkspaceId !== undefined) {
      new monitor.DiagnosticSetting(
        `${name}-env-logs`,
        {
          resourceUri: environment.id,
          workspaceId: args.logWorkspaceId,
          logs: ENVIRONMENT_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
        },
        { parent: this },
      );
    }

    // The app's origin, for the absolute URLs it builds: Container Apps gives an app with external ingress the FQDN
    // <app name>.<environment's default domain> (learn.microsoft.com/azure/container-apps/ingress-overview, "Domain
    // names"). The app cannot read its own resource's output (a cycle), so the value is checked below against the
    // FQDN the resource reports, and the redirect URI is that reported FQDN.
    const origin = pulumi.interpolate`https://${args.containerAppName}.${environment.defaultDomain}`;
    const env = pulumi.all([args.environment, origin]).apply(([settings, publicBaseUrl]) =>
      Object.entries({
        ...settings,
        PORT: String(APP_CONTAINER_PORT),
        [HostingSetting.PublicBaseUrl]: publicBaseUrl,
      })
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([envName, value]) => ({ name: envName, value })),
    );
    const probe = (type: string, path: string) => ({
      type,
      httpGet: { path, port: APP_CONTAINER_PORT, scheme: app.Scheme.HTTP },
      periodSeconds: 10,
      failureThreshold: 6,
      timeoutSeconds: 5,
    });

    // Create the app: the identity only, pulling with it; HTTPS-only ingress; the pushed digest.
    const containerApp = new app.ContainerApp(
      `${name}-app`,
      {
        resourceGroupName: args.resourceGroupName,
        location: args.location,
        containerAppName: args.containerAppName,
        environmentId: environment.id,
        identity: { type: app.ManagedServiceIdentityType.UserAssigned, userAssignedIdentities: [args.identityId] },
        configuration: {
          activeRevisionsMode: app.ActiveRevisionsMode.Single,
          ingress: {
            external: true,
            targetPort: APP_CONTAINER_PORT,
            transport: app.IngressTransportMethod.Auto,
            allowInsecure: false,
            traffic: [{ latestRevision: true, weight: 100 }],
          },
          registries: [{ server: registry.loginServer, identity: args.identityId }],
        },
        template: {
          containers: [
            {
              name: "app",
              image: pushed.image,
              env,
              probes: [
                probe(app.Type.Liveness, args.healthCheckPath ?? HEALTH_CHECK_PATH),
                probe(app.Type.Readiness, READINESS_PATH),
              ],
              resources: { cpu: CONTAINER_CPU, memory: CONTAINER_MEMORY },
            },
          ],
          scale: { minReplicas: args.minReplicas ?? replicas.min, maxReplicas: args.maxReplicas ?? replicas.max },
        },
        tags: args.tags,
      },
      { parent: this, dependsOn: [acrPull, push] },
    );

    const fqdn = pulumi
      .all([containerApp.configuration, origin])
      .apply(([configuration, expected]) => requireFqdn(configuration?.ingress?.fqdn, expected));

    // Prove the chain on the app's own host, once the revision with this image runs.
    const ready =
      args.waitForReady === false
        ? undefined
        : new command.local.Command(
            `${name}-ready`,
            {
              create: WAIT_READY_COMMAND,
              environment: {
                READY_HOST: fqdn,
                READY_TIMEOUT_MINUTES: pulumi.output(args.readinessTimeoutMinutes ?? 10).apply(String),
              },
              triggers: [pushed.digest, containerApp.id],
              logging: command.types.enums.local.Logging.StdoutAndStderr,
              addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [containerApp, ...(args.readyAfter ?? [])] },
          );

    this.id = containerApp.id;
    this.name = containerApp.name;
    this.fqdn = fqdn;
    this.url = pulumi.interpolate`https://${fqdn}`;
    this.registryLoginServer = registry.loginServer;
    this.image = pushed.image;
    this.ready = ready ? ready.stdout.apply(() => true) : pulumi.output(true);
    this.registerOutputs({
      id: this.id,
      name: this.name,
      fqdn: this.fqdn,
      url: this.url,
      registryLoginServer: this.registryLoginServer,
      image: this.image,
      ready: this.ready,
    });
  }
}

/**
 * Reads the push's last stdout line: `{"digest":"sha256:<64 hex>","image":"<login server>/<repository>@<digest>"}`.
 * Anything else (another registry, a tag instead of a digest) is refused: the app runs exactly what was pushed.
 */
export function parsePushedImage(stdout: string, loginServer: string, repository: string): PushedImage {
  const line =
    stdout
      .trim()
      .split("\n")
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    parsed = undefined;
  }
  const { digest, image } = (parsed ?? {}) as { digest?: unknown; image?: unknown };
  const expected = typeof digest === "string" ? `${loginServer.toLowerCase()}/${repository}@${digest}` : undefined;
  if (typeof digest !== "string" || !/^sha256:[0-9a-f]{64}$/.test(digest) || image !== expected) {
    throw new Error(
      "deploy/push-image.ts did not report the pushed image: its last line was " +
        `${JSON.stringify(line.slice(0, 300))}, ` +
        `expected {"digest":"sha256:<64 hex>","image":"${loginServer}/${repository}@sha256:<64 hex>"}. Run ` +
        "`node --import tsx deploy/push-image.ts` by hand with the same environment to see why.",
    );
  }
  return { digest, image: expected! };
}

/** The FQDN Container Apps reports for the app's ingress, which must be the origin the app was told it has. */
export function requireFqdn(fqdn: string | undefined, expectedOrigin: string): string {
  if (!fqdn || `https://${fqdn.toLowerCase()}` !== expectedOrigin.toLowerCase()) {
    throw new Error(
      `The container app reports ingress FQDN ${JSON.stringify(fqdn)}, but the app was given ` +
        `${HostingSetting.PublicBaseUrl}=${expectedOrigin} (<app name>.<environment's default domain>), so its ` +
        "redirect URI would not be registered. Check the app has external ingress and run `pulumi refresh`; if " +
        "Container Apps changed its host naming, report it as a bug.",
    );
  }
  return fqdn.toLowerCase();
}

function validateImage(image: AppImageRef): AppImageRef {
  const problems: pulumi.InputPropertyErrorDetails[] = [];
  if (!/^[0-9a-f]{64}$/.test(image?.contentSha256 ?? "")) {
    problems.push({ propertyPath: "image.contentSha256", reason: "must be 64 lower-case hex digits." });
  }
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(image?.repository ?? "")) {
    problems.push({ propertyPath: "image.repository", reason: "must be a lower-case repository path." });
  }
  if (!/@sha256:[0-9a-f]{64}$/.test(image?.baseImage ?? "")) {
    problems.push({ propertyPath: "image.baseImage", reason: "must be pinned by digest (…@sha256:<64 hex>)." });
  }
  const dir = image?.layoutDir ?? "";
  if (!/^[A-Za-z0-9._/-]+$/.test(dir) || dir.startsWith("/") || dir.split("/").includes("..")) {
    problems.push({ propertyPath: "image.layoutDir", reason: "must be a folder inside the project (dist/app-image)." });
  }
  if (problems.length > 0) invalidArguments("ContainerAppHost", problems);
  return {
    contentSha256: image.contentSha256,
    repository: image.repository,
    baseImage: image.baseImage,
    layoutDir: image.layoutDir,
  };
}

function validateHostArgs(args: ContainerAppHostArgs): void {
  const problems: pulumi.InputPropertyErrorDetails[] = [];
  const nameProblem = containerAppNameProblem(args.containerAppName);
  if (nameProblem) problems.push({ propertyPath: "containerAppName", reason: nameProblem });
  const replicas = args.sessionsShared ? DEFAULT_REPLICAS.scaledOut : DEFAULT_REPLICAS.single;
  const min = args.minReplicas ?? replicas.min;
  const max = args.maxReplicas ?? replicas.max;
  for (const { key, problem } of replicaProblems(min, max, args.sessionsShared ?? false)) {
    problems.push({ propertyPath: key, reason: problem.replace("scaleOut", "sessionsShared") });
  }
  const owned = ["PORT", HostingSetting.PublicBaseUrl];
  for (const key of Object.keys(args.environment)) {
    if (owned.some((o) => o.toLowerCase() === key.toLowerCase())) {
      problems.push({ propertyPath: `environment.${key}`, reason: `${key} is set by ContainerAppHost; remove it.` });
    }
  }
  if (problems.length > 0) invalidArguments("ContainerAppHost", problems);
}
