/**
 * Hosting on Azure Container Apps: the container app, its managed environment and its registry. A container app is an
 * app host to the shared rules (shared.ts `isAppHost`): its identity is worn (fic-trust-allowed, role assignments),
 * its environment variables are its settings (webapp-client-credentials, the FIC-matching rules), its FQDN is a
 * redirect host. The rules here are what only a container app, an environment or a registry can get wrong.
 */
import { type PlannedResource, type ResourceRule, type StackRule, resourceRule, stackRule } from "./model";
import { ACR_PULL_ROLE_ID } from "../../contract/container-apps";
import { findSecrets, secretEntries } from "./secrets";
import {
  arm,
  attachedIdentities,
  containerEnv,
  field,
  isArmIdOf,
  isContainerApp,
  isManagedEnvironment,
  isRegistry,
  ref,
  show,
} from "./shared";

const lower = (v: unknown) => String(v ?? "").toLowerCase();
const ACR_PULL = `/${ACR_PULL_ROLE_ID}`;
/** Ingress transports whose TLS the front end terminates (container-apps/ingress-overview). */
const HTTP_TRANSPORTS = ["auto", "http", "http2"];

const userAssignedIds = (props: Record<string, any>): string[] => {
  const ids = props.identity?.userAssignedIdentities;
  return Array.isArray(ids) ? ids.map(String) : ids && typeof ids === "object" ? Object.keys(ids) : [];
};

export const containerAppRules: readonly ResourceRule[] = [
  resourceRule(
    "containerapp-https-only",
    "A container app's ingress is HTTP(S) with insecure (plain http) connections refused and no extra TCP ports.",
    isContainerApp,
    (r) => {
      const ingress = r.props.configuration?.ingress;
      if (!ingress) return [];
      const transport = ingress.transport ?? "auto";
      const ports = ingress.additionalPortMappings;
      return [
        ingress.allowInsecure !== false
          ? `${ref(r)} has ingress.allowInsecure ${show(ingress.allowInsecure)}: plain http would reach the app ` +
            "and carry its session cookie and sign-in codes. Fix: set configuration.ingress.allowInsecure: false."
          : undefined,
        HTTP_TRANSPORTS.includes(lower(transport))
          ? undefined
          : `${ref(r)} has ingress.transport ${show(transport)}: Container Apps terminates TLS only for HTTP ` +
            'transports. Fix: set configuration.ingress.transport: "auto".',
        Array.isArray(ports) && ports.length > 0
          ? `${ref(r)} exposes additional ports ${show(ports)}, which are TCP without TLS. Fix: remove ` +
            "configuration.ingress.additionalPortMappings."
          : undefined,
      ];
    },
  ),
  resourceRule(
    "containerapp-user-assigned-identity",
    "A container app wears user-assigned managed identities only: a system-assigned one can be no FIC's subject.",
    isContainerApp,
    (r) => {
      const type = String(r.props.identity?.type ?? "");
      const ids = userAssignedIds(r.props);
      return [
        lower(type) !== "userassigned" || ids.length === 0
          ? `${ref(r)} has identity ${show(r.props.identity)}. Fix: set identity: { type: "UserAssigned", ` +
            "userAssignedIdentities: [<the app's identity's resource ID>] }; only a user-assigned identity can be " +
            "trusted by a federated credential, and a system-assigned one would be a second, unchecked credential."
          : undefined,
      ];
    },
  ),
  resourceRule(
    "containerapp-registry-by-identity",
    "A container app pulls from a registry with a user-assigned identity it wears: no user name, no password secret.",
    isContainerApp,
    (r) => {
      const registries = r.props.configuration?.registries;
      if (!Array.isArray(registries)) return [];
      const worn = userAssignedIds(r.props).map(lower);
      return registries.flatMap((reg: Record<string, unknown>, i: number) => {
        const at = `configuration.registries[${i}]`;
        return [
          reg?.passwordSecretRef !== undefined || reg?.username !== undefined
            ? `${ref(r)} pulls from ${show(reg?.server)} with a user name and password (${at}): a registry ` +
              "password is a secret. Fix: remove username and passwordSecretRef and set identity to the app's " +
              "user-assigned identity's resource ID (it holds AcrPull on the registry)."
            : undefined,
          typeof reg?.identity !== "string" || !worn.includes(lower(reg.identity))
            ? `${ref(r)} pulls from ${show(reg?.server)} as identity ${show(reg?.identity)} (${at}), not a ` +
              "user-assigned identity it wears. Fix: set identity to the resource ID in " +
              "identity.userAssignedIdentities" +
              ' ("system" would need a system-assigned identity, which this project never gives an app).'
            : undefined,
        ];
      });
    },
  ),
  resourceRule(
    "containerapp-no-secrets",
    "A container app holds no secret: configuration.secrets is empty, no environment variable is a secretRef, and " +
      "none has a secret-looking name or value (as for a web app's settings).",
    isContainerApp,
    (r) => {
      const env = containerEnv(r.props) ?? [];
      const inContainers = findSecrets(
        (r.props.template?.containers as unknown[] | undefined)?.map((c: any) => ({ ...c, env: undefined })),
        "template.containers",
      ).map((f) => `${ref(r)} has input "${f.path}" that looks like a secret: ${f.why}. Fix: remove it.`);
      const secrets = r.props.configuration?.secrets;
      const refs = (containerEnv(r.props) ?? []).filter((e) => e?.secretRef !== undefined);
      // A service bind injects the bound service's connection values into the containers at run time ("customized
      // keys for customizing injected values to the app", ServiceBindArgs in @pulumi/azure-native): settings no
      // rule here sees, such as a password-based Redis's.
      const binds = r.props.template?.serviceBinds;
      return [
        Array.isArray(binds) && binds.length > 0
          ? `${ref(r)} binds services ${show(binds.map((b: { name?: unknown }) => b?.name))} ` +
            "(template.serviceBinds), which inject their connection values into the environment at run time, out of " +
            "the pack's sight. Fix: remove template.serviceBinds; reach Redis with the app's identity (scaleOut)."
          : undefined,
        Array.isArray(secrets) && secrets.length > 0
          ? `${ref(r)} declares secrets ${show(secrets.map((s: { name?: unknown }) => s?.name))} in ` +
            "configuration.secrets, stored with the app. Fix: remove them; the app signs in with its managed " +
            "identity's token, which needs no secret."
          : undefined,
        ...refs.map(
          (e) =>
            `${ref(r)} sets environment variable ${show(e.name)} from secret ${show(e.secretRef)}. Fix: remove it; ` +
            "the app needs no secret.",
        ),
        ...secretEntries(
          r,
          "app setting",
          env.map((e): [string, unknown] => [String(e?.name), e?.value]),
        ),
        ...inContainers,
      ];
    },
  ),
  resourceRule(
    "managed-environment-no-shared-key",
    "A Container Apps environment sends its logs to Azure Monitor (or nowhere), never to Log Analytics with the " +
      "workspace's shared key.",
    isManagedEnvironment,
    (r) => {
      const logs = r.props.appLogsConfiguration;
      const destination = logs?.destination;
      return [
        destination !== undefined && !["azure-monitor", "none"].includes(lower(destination))
          ? `${ref(r)} has appLogsConfiguration.destination ${show(destination)}: the log-analytics destination ` +
            'takes the workspace\'s shared key. Fix: set destination: "azure-monitor" and route the logs with a ' +
            "monitor DiagnosticSetting to the stack's workspace."
          : undefined,
        logs?.logAnalyticsConfiguration !== undefined
          ? `${ref(r)} sets appLogsConfiguration.logAnalyticsConfiguration, whose sharedKey is the workspace's key. ` +
            "Fix: remove it."
          : undefined,
        // The environment's OpenTelemetry agent exports every app's logs, traces and metrics to OTLP endpoints,
        // Datadog or Application Insights by connection string (OpenTelemetryConfigurationArgs, AppInsights-
        // ConfigurationArgs in @pulumi/azure-native): destinations outside the stack's workspace, reached with keys.
        ...(["openTelemetryConfiguration", "appInsightsConfiguration"] as const)
          .filter((k) => r.props[k] !== undefined && r.props[k] !== null)
          .map(
            (k) =>
              `${ref(r)} sets ${k}: the environment's agent would export the apps' logs and traces to a destination ` +
              "outside this stack's workspace, with a key. Fix: remove it; the app sends its own telemetry with its " +
              "identity (telemetry: true), and platform logs go through a DiagnosticSetting to the stack's workspace.",
          ),
      ];
    },
  ),
  resourceRule(
    "registry-admin-off",
    "A container registry has its admin user (a password) and anonymous pull off.",
    isRegistry,
    (r) => [
      r.props.adminUserEnabled !== false
        ? `${ref(r)} has adminUserEnabled ${show(r.props.adminUserEnabled)}: the admin user signs in with a ` +
          "password. Fix: set adminUserEnabled: false; pushes use the deployer's Entra token, pulls the app's identity."
        : undefined,
      r.props.anonymousPullEnabled === true
        ? `${ref(r)} has anonymousPullEnabled true: anyone could pull the app's image. Fix: set ` +
          "anonymousPullEnabled: false."
        : undefined,
    ],
  ),
];

const FIRST = "template.containers[0]";
/**
 * Every container a container app starts, with where it sits: its containers and its init containers (which run
 * first, wearing the same identity), each with its path in the template.
 */
function containersOf(template: any): { container: Record<string, any> | undefined; at: string }[] {
  const list = (key: "containers" | "initContainers") =>
    (Array.isArray(template?.[key]) ? (template[key] as Record<string, any>[]) : []).map((container, i) => ({
      container,
      at: `template.${key}[${i}]`,
    }));
  return [...list("containers"), ...list("initContainers")];
}

/** A `<login server>/<repository>@sha256:<64 hex>` reference, split; undefined for anything else (a tag). */
function byDigest(image: unknown): { server: string } | undefined {
  const m = /^([a-z0-9.-]+)\/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$/.exec(String(image ?? ""));
  return m ? { server: m[1]! } : undefined;
}

/**
 * The rules only a Container Apps stack can break: their broken variants are in test/policy/container-apps.test.ts,
 * against the stack `hosting: containerApps` plans.
 */
export const CONTAINER_APP_RULE_NAMES: readonly string[] = [
  "containerapp-https-only",
  "containerapp-user-assigned-identity",
  "containerapp-registry-by-identity",
  "containerapp-no-secrets",
  "managed-environment-no-shared-key",
  "registry-admin-off",
  "containerapp-image-own-registry",
  "containerapp-own-environment",
];

export const containerAppImageOwnRegistry: StackRule = stackRule(
  "containerapp-image-own-registry",
  "A container app runs images by digest from a registry of this stack, whose every registry entry it pulls with " +
    "an identity that holds AcrPull there.",
  (resources) => {
    const registries = resources.filter((r) => isRegistry(r.type));
    const servers = registries.map((r) => lower(field(r, "loginServer"))).filter(Boolean);
    const acrPulls = resources.filter(
      (r) => arm("authorization", "RoleAssignment")(r.type) && lower(field(r, "roleDefinitionId")).endsWith(ACR_PULL),
    );
    return resources
      .filter((r) => isContainerApp(r.type))
      .flatMap((app: PlannedResource) => {
        const containers = containersOf(field(app, "template"));
        const images = containers.map((c) => ({ image: c.container?.image, at: c.at }));
        const entries = (field(app, "configuration")?.registries as { server?: unknown; identity?: unknown }[]) ?? [];
        const pulls = entries.map((reg) => lower(reg?.server));
        const worn = attachedIdentities(app, resources);
        // The identity a registry entry pulls as must be one the app wears, holding AcrPull on that very registry.
        const granted = (server: string) => {
          const registry = registries.find((r) => lower(field(r, "loginServer")) === server);
          const pullers = entries
            .filter((reg) => lower(reg?.server) === server)
            .map((reg) => worn.find((w) => lower(w.id) === lower(reg?.identity))?.principalId)
            .filter((p): p is string => typeof p === "string");
          // By ARM ID: the CLI hands stack policies no provider IDs, so the registry is matched by group and name.
          return acrPulls.some(
            (g) =>
              pullers.includes(field(g, "principalId")) &&
              registry !== undefined &&
              isArmIdOf(field(g, "scope"), registry),
          );
        };
        return [
          ...images
            .filter(({ image }) => {
              const ref = byDigest(image);
              return !ref || !servers.includes(ref.server);
            })
            .map(({ image, at }) => ({
              resource: app,
              message:
                `${ref(app)} runs image ${show(image)}${at === FIRST ? "" : ` (${at})`}, not an image by digest ` +
                "(…@sha256:<64 hex>) in a registry of " +
                `this stack (${servers.map(show).join(", ") || "none"}). Fix: run the digest the deploy step pushed ` +
                "to the stack's own registry: a tag can change under the app, another registry is out of the " +
                "pack's sight.",
            })),
          // The image's own entrypoint runs the bundle the digest pins; a command or args would run something else
          // (`node -e …`) with the app's identity, as an inline deploy command would (command-runs-project-script).
          ...containers.flatMap(({ container, at }) =>
            (["command", "args"] as const)
              .filter((k) => container?.[k] !== undefined && container?.[k] !== null)
              .map((k) => ({
                resource: app,
                message:
                  `${ref(app)} overrides the image's entrypoint with ${k} ${show(container?.[k])} (${at}): ` +
                  "it would run code other than the pushed bundle, with the app's identity. Fix: remove command and " +
                  "args; the image starts the app itself.",
              })),
          ),
          ...pulls
            .filter((server) => !servers.includes(server))
            .map((server) => ({
              resource: app,
              message:
                `${ref(app)} pulls from ${show(server)}, which is not a registry of this stack. Fix: pull only from ` +
                "the stack's own registry.",
            })),
          ...pulls
            .filter((server) => servers.includes(server) && !granted(server))
            .map((server) => ({
              resource: app,
              message:
                `${ref(app)} pulls from ${show(server)}, but no AcrPull role assignment scoped to that registry ` +
                "names " +
                "the identity it pulls as (one the app wears): the first revision could not pull its image. Fix: " +
                "assign AcrPull on the registry to the app's identity (principalType ServicePrincipal) before the app.",
            })),
        ];
      });
  },
);

/**
 * A container app runs in a Container Apps environment of this stack: the environment decides where every app's
 * console and system logs go (managed-environment-no-shared-key keeps the stack's own on Azure Monitor), so another
 * one — another group's, another subscription's — could send them anywhere, with a shared key.
 */
export const containerAppOwnEnvironment: StackRule = stackRule(
  "containerapp-own-environment",
  "A container app runs in a Container Apps environment of this stack.",
  (resources) => {
    const environments = resources.filter((r) => isManagedEnvironment(r.type));
    return resources
      .filter((r) => isContainerApp(r.type))
      .flatMap((app) =>
        (["environmentId", "managedEnvironmentId"] as const)
          .map((key) => [key, field(app, key)] as const)
          .filter(([key, id]) => (id !== undefined && id !== null) || key === "environmentId")
          .filter(([, id]) => !environments.some((e) => isArmIdOf(id, e)))
          .map(([key, id]) => ({
            resource: app,
            message:
              `${ref(app)} has ${key} ${show(id)}, not a Container Apps environment of this stack: that ` +
              "environment decides where the app's logs go. Fix: set environmentId to the stack's own " +
              "ManagedEnvironment's ID.",
          })),
      );
  },
);
