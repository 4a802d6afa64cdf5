/**
 * The Container Apps guardrails: the project's own stack with `hosting: containerApps` passes every rule, and each
 * way of giving the container app, its environment, its registry or the AcrPull grant a secret, a second credential
 * or a way around the pack fails with its message (at least one variant per Container Apps rule), as do the shared
 * app-host rules a container app answers to.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { AzureAdSetting } from "../../contract/settings";
import { evaluateRecorded } from "../../policy/offline";
import { CONTAINER_APP_RULE_NAMES } from "../../policy/rules/container-apps";
import { type RegisteredResource, SUBSCRIPTION_ID, T, guidFrom } from "../../offline/azure-mocks";
import {
  type BrokenVariant,
  editResource as edit,
  expectBrokenVariant,
  handMade,
  oneOf as one,
  planMainStack,
} from "../support/policy";

let acaStack: RegisteredResource[];
beforeAll(async () => {
  // With telemetry: the environment's diagnostic setting, and the connection string in the container's environment.
  acaStack = await planMainStack({ hosting: "containerApps", webAppName: "secretless-aca-dev", telemetry: "true" });
});

const compliant = (): RegisteredResource[] => structuredClone(acaStack);
const app = (rs: RegisteredResource[]) => one(rs, T.containerApp);
const container = (p: Record<string, any>) => p.template.containers[0];
const setEnv = (p: Record<string, any>, name: string, value: string) => {
  const env = container(p).env as { name: string; value?: string }[];
  const found = env.find((e) => e.name === name);
  if (found) found.value = value;
  else env.push({ name, value });
};
const push = (rs: RegisteredResource[]) =>
  rs.find((r) => r.type === T.command && r.inputs.create === "node --import tsx deploy/push-image.ts")!;
const OTHER_GROUP = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-elsewhere`;

const variants: BrokenVariant[] = [
  {
    rule: "containerapp-https-only",
    broken: "plain http allowed at the ingress",
    break: (rs) => edit(app(rs), (p) => (p.configuration.ingress.allowInsecure = true)),
    message: /^ContainerApp "secretless-aca-app" has ingress\.allowInsecure true: .* Fix: set configuration\.ingress\./,
  },
  {
    rule: "containerapp-https-only",
    broken: "allowInsecure left unset (the platform's default is not a promise)",
    break: (rs) => edit(app(rs), (p) => delete p.configuration.ingress.allowInsecure),
    message: /has ingress\.allowInsecure unset/,
  },
  {
    rule: "containerapp-https-only",
    broken: "TCP transport, which Container Apps does not terminate TLS for",
    break: (rs) => edit(app(rs), (p) => (p.configuration.ingress.transport = "tcp")),
    message: /has ingress\.transport "tcp": .* Fix: set configuration\.ingress\.transport: "auto"\.$/,
  },
  {
    rule: "containerapp-https-only",
    broken: "an extra TCP port mapping",
    break: (rs) =>
      edit(app(rs), (p) => (p.configuration.ingress.additionalPortMappings = [{ external: true, targetPort: 9229 }])),
    message: /exposes additional ports .*9229.* Fix: remove configuration\.ingress\.additionalPortMappings\.$/,
  },
  {
    rule: "containerapp-user-assigned-identity",
    broken: "a system-assigned identity beside the user-assigned one",
    break: (rs) => edit(app(rs), (p) => (p.identity.type = "SystemAssigned,UserAssigned")),
    message: /has identity .*SystemAssigned,UserAssigned.* Fix: set identity: \{ type: "UserAssigned"/,
  },
  {
    rule: "containerapp-registry-by-identity",
    broken: "the registry pulled with a user name and a password secret",
    break: (rs) =>
      edit(app(rs), (p) => {
        p.configuration.registries[0] = {
          server: p.configuration.registries[0].server,
          username: "admin",
          passwordSecretRef: "registry-password",
        };
      }),
    message: /pulls from ".*\.azurecr\.io" with a user name and password .* Fix: remove username and passwordSecretRef/,
    // The generic scan sees "passwordSecretRef" too; the pull identity is gone, so no grant covers the pull.
    alsoTrips: ["no-secret-inputs", "containerapp-image-own-registry"],
  },
  {
    rule: "containerapp-registry-by-identity",
    broken: "the registry pulled as the system identity",
    break: (rs) => edit(app(rs), (p) => (p.configuration.registries[0].identity = "system")),
    message:
      /pulls from ".*" as identity "system" \(configuration\.registries\[0\]\), not a user-assigned identity it wears/,
    // "system" names no worn identity, so no AcrPull grant covers the pull either.
    alsoTrips: ["containerapp-image-own-registry"],
  },
  {
    rule: "containerapp-no-secrets",
    broken: "a secret in configuration.secrets, read by an environment variable",
    break: (rs) =>
      edit(app(rs), (p) => {
        p.configuration.secrets = [{ name: "graph-client-secret", value: "x" }];
        container(p).env.push({ name: "GRAPH_CLIENT_SECRET", secretRef: "graph-client-secret" });
      }),
    message: /declares secrets \["graph-client-secret"\] in configuration\.secrets/,
    // The generic scan sees the secret-looking names too.
    alsoTrips: ["no-secret-inputs"],
  },
  {
    rule: "containerapp-no-secrets",
    broken: "an environment variable read from a Key Vault-backed secret reference",
    break: (rs) => edit(app(rs), (p) => container(p).env.push({ name: "REDIS_AUTH", secretRef: "kv-redis" })),
    message: /sets environment variable "REDIS_AUTH" from secret "kv-redis"\. Fix: remove it/,
  },
  {
    rule: "containerapp-no-secrets",
    broken: "a storage connection string as a plain environment variable",
    break: (rs) =>
      edit(app(rs), (p) =>
        container(p).env.push({ name: "SESSIONS_BLOB", value: "DefaultEndpointsProtocol=https;AccountKey=abc=" }),
      ),
    message: /has app setting "SESSIONS_BLOB" that looks like a secret: its value looks like a storage/,
  },
  {
    rule: "managed-environment-no-shared-key",
    broken: "logs sent to Log Analytics with the workspace's shared key",
    break: (rs) =>
      edit(one(rs, T.environment), (p) => {
        p.appLogsConfiguration = {
          destination: "log-analytics",
          logAnalyticsConfiguration: { customerId: guidFrom("ws"), sharedKey: "c2hhcmVkLWtleQ==" },
        };
      }),
    message:
      /has appLogsConfiguration\.destination "log-analytics": the log-analytics destination takes the workspace's/,
    alsoTrips: ["no-secret-inputs"],
  },
  {
    rule: "registry-admin-off",
    broken: "the registry's admin user on",
    break: (rs) => edit(one(rs, T.registry), (p) => (p.adminUserEnabled = true)),
    message: /^Registry "secretless-aca-registry" has adminUserEnabled true: .* Fix: set adminUserEnabled: false/,
  },
  {
    rule: "registry-admin-off",
    broken: "anonymous pull on",
    break: (rs) => edit(one(rs, T.registry), (p) => (p.anonymousPullEnabled = true)),
    message: /has anonymousPullEnabled true: anyone could pull the app's image/,
  },
  {
    rule: "containerapp-image-own-registry",
    broken: "a mutable tag instead of the pushed digest",
    break: (rs) =>
      edit(app(rs), (p) => {
        const image = container(p).image as string;
        container(p).image = `${image.split("@")[0]}:latest`;
      }),
    message: /runs image ".*:latest", not an image by digest/,
  },
  {
    rule: "containerapp-image-own-registry",
    broken: "an image from a public registry",
    break: (rs) => edit(app(rs), (p) => (container(p).image = `docker.io/library/node@sha256:${"e".repeat(64)}`)),
    message: /runs image "docker\.io\/library\/node@sha256:e+", not an image by digest .* in a registry of this stack/,
  },
  {
    rule: "containerapp-image-own-registry",
    broken: "the AcrPull grant gone, so the first revision cannot pull",
    break: (rs) => rs.splice(rs.indexOf(one(rs, T.roleAssignmentArm, "secretless-aca-acr-pull")), 1),
    message: /no AcrPull role assignment scoped to that registry names the identity it pulls as/,
  },
  {
    rule: "role-assignment-allowed",
    broken: "AcrPull for the app's identity on a registry of another group",
    break: (rs) =>
      edit(
        one(rs, T.roleAssignmentArm, "secretless-aca-acr-pull"),
        (p) => (p.scope = `${OTHER_GROUP}/providers/Microsoft.ContainerRegistry/registries/shared`),
      ),
    message: /gives role AcrPull at scope ".*\/registries\/shared", which is not a container registry of this stack/,
    // The grant no longer covers the stack's registry either.
    alsoTrips: ["containerapp-image-own-registry"],
  },
  {
    rule: "role-assignment-allowed",
    broken: "AcrPush instead of AcrPull for the app's identity",
    break: (rs) =>
      edit(one(rs, T.roleAssignmentArm, "secretless-aca-acr-pull"), (p) => {
        p.roleDefinitionId = String(p.roleDefinitionId).replace(/[^/]+$/, "8311e382-0749-4cb8-b61a-304f252e45ec");
      }),
    message:
      /gives the app's identity ".*" role "8311e382-0749-4cb8-b61a-304f252e45ec", which it may not hold .allowed: /,
    alsoTrips: ["containerapp-image-own-registry"],
  },
  // Second look as an attacker (review-attack): shapes that once passed every rule.
  {
    rule: "containerapp-image-own-registry",
    broken: "an init container running a public image by tag before the app, wearing the same identity",
    break: (rs) =>
      edit(app(rs), (p) => (p.template.initContainers = [{ name: "init", image: "docker.io/library/alpine:3" }])),
    message: /runs image "docker\.io\/library\/alpine:3" \(template\.initContainers\[0\]\), not an image by digest/,
  },
  {
    rule: "containerapp-image-own-registry",
    broken: "the app's own image told to run inline code instead of its entrypoint",
    break: (rs) =>
      edit(app(rs), (p) => (container(p).command = ["node", "-e", "fetch(process.env.IDENTITY_ENDPOINT)"])),
    message: /overrides the image's entrypoint with command \["node","-e",.* Fix: remove command and args/,
  },
  {
    rule: "containerapp-image-own-registry",
    broken: "an init container of the app's own image with arguments of its own",
    break: (rs) =>
      edit(app(rs), (p) => (p.template.initContainers = [{ name: "i", image: container(p).image, args: ["x.js"] }])),
    message: /overrides the image's entrypoint with args \["x\.js"\] \(template\.initContainers\[0\]\)/,
  },
  {
    rule: "containerapp-own-environment",
    broken: "the container app placed in another subscription's environment (its logs go where that one sends them)",
    break: (rs) =>
      edit(app(rs), (p) => {
        const elsewhere = `/subscriptions/${guidFrom("other-sub")}/resourceGroups/x`;
        p.environmentId = `${elsewhere}/providers/Microsoft.App/managedEnvironments/e`;
      }),
    message: /has environmentId ".*\/managedEnvironments\/e", not a Container Apps environment of this stack/,
  },
  {
    rule: "containerapp-no-secrets",
    broken: "a service bind, which injects the bound service's connection values into the environment at run time",
    break: (rs) => edit(app(rs), (p) => (p.template.serviceBinds = [{ name: "redis", serviceId: `${OTHER_GROUP}/x` }])),
    message: /binds services \["redis"\] \(template\.serviceBinds\)/,
  },
  {
    rule: "managed-environment-no-shared-key",
    broken: "the environment's OpenTelemetry agent exporting logs and traces to an outside collector",
    break: (rs) =>
      edit(one(rs, T.environment), (p) => {
        p.openTelemetryConfiguration = {
          destinationsConfiguration: { otlpConfigurations: [{ name: "o", endpoint: "https://otel.example" }] },
          logsConfiguration: { destinations: ["o"] },
          tracesConfiguration: { destinations: ["o"] },
        };
      }),
    message: /sets openTelemetryConfiguration: the environment's agent would export the apps' logs/,
  },
  {
    rule: "command-targets-own-resources",
    broken: "the push step's login server another host, which would get the deployer's token in ACR's exchange",
    break: (rs) => edit(push(rs), (p) => (p.environment.REGISTRY_LOGIN_SERVER = "evilacr.azurecr.io")),
    message: /sends the deployer's token to REGISTRY_LOGIN_SERVER "evilacr\.azurecr\.io", not the login server of a/,
  },
  {
    rule: "command-targets-own-resources",
    broken: "the push step importing into another registry",
    break: (rs) =>
      edit(
        push(rs),
        (p) => (p.environment.REGISTRY_ID = `${OTHER_GROUP}/providers/Microsoft.ContainerRegistry/registries/x`),
      ),
    message: /has REGISTRY_ID ".*\/registries\/x", not a container registry of this stack/,
  },
  {
    rule: "command-runs-project-script",
    broken: "the push step building on a base image by tag",
    break: (rs) => edit(push(rs), (p) => (p.environment.BASE_IMAGE = "docker.io/library/node:22")),
    message: /has BASE_IMAGE "docker\.io\/library\/node:22", not an image pinned by digest/,
  },
  {
    rule: "command-runs-project-script",
    broken: "the push step reading its layers from outside the project",
    break: (rs) => edit(push(rs), (p) => (p.environment.IMAGE_LAYOUT_DIR = "/tmp/layers")),
    message: /has IMAGE_LAYOUT_DIR "\/tmp\/layers", not a folder inside the project/,
  },
  {
    rule: "webapp-client-credentials",
    broken: "a client secret source in the container's environment",
    break: (rs) => edit(app(rs), (p) => setEnv(p, AzureAdSetting.SourceType, "ClientSecret")),
    message: /^ContainerApp "secretless-aca-app" has AzureAd__ClientCredentials__0__SourceType "ClientSecret"/,
  },
  {
    rule: "webapp-identity-matches-fic",
    broken: "the container told another identity's client ID",
    break: (rs) => edit(app(rs), (p) => setEnv(p, AzureAdSetting.ManagedIdentityClientId, guidFrom("other-uami"))),
    message: /^ContainerApp "secretless-aca-app" has AzureAd__ClientCredentials__0__ManagedIdentityClientId/,
  },
  {
    rule: "fic-trusts-webapp-identity",
    broken: "the FIC trusting an identity the container app does not wear",
    break: (rs) => edit(one(rs, T.fic), (p) => (p.subject = guidFrom("someone-else"))),
    message:
      /trusts subject ".*", which is not the principal ID of an identity ContainerApp "secretless-aca-app" wears/,
    alsoTrips: ["fic-trust-allowed"],
  },
  {
    rule: "redirect-uris-own-host",
    broken: "a redirect URI on a host that is not the container app's FQDN",
    break: (rs) =>
      edit(one(rs, T.redirect), (p) => (p.redirectUris = ["https://secretless-aca-dev.evil.example/signin-oidc"])),
    message:
      /points at host "secretless-aca-dev\.evil\.example", not one of this stack's web apps .*"secretless-aca-dev/,
  },
];

describe("on this project's Container Apps stack", () => {
  it("every policy passes: registry, AcrPull, environment, container app, push and readiness wait", () => {
    const types = acaStack.map((r) => r.type);
    for (const type of [T.registry, T.roleAssignmentArm, T.environment, T.containerApp, T.diagnosticSetting]) {
      expect(types).toContain(type);
    }
    expect(types).not.toContain(T.site);
    expect(evaluateRecorded(compliant())).toEqual([]);
  });

  it("every policy passes as the CLI sees it too, without provider IDs (AcrPull found by group and name)", () => {
    const withoutIds = compliant().map(({ id: _id, ...r }) => r as RegisteredResource);
    expect(evaluateRecorded(withoutIds)).toEqual([]);
  });

  it("holds no registry password, shared key or secret anywhere in its inputs", () => {
    const text = JSON.stringify(acaStack.map((r) => r.inputs));
    expect(text).not.toMatch(/passwordSecretRef|sharedKey|"secrets"|secretRef|adminUserEnabled":true/);
  });
});

describe.each(variants)("$rule fails on $broken", (v) => {
  it("with its message, naming the resource and the fix", () => expectBrokenVariant(compliant, v));
});

describe("the table", () => {
  it("breaks every Container Apps rule at least once", () => {
    expect(CONTAINER_APP_RULE_NAMES.filter((name) => !variants.some((v) => v.rule === name))).toEqual([]);
  });
});

describe("a hand-made container app outside the stack's registry and identity", () => {
  it("is refused for its image, its registry and its identity", () => {
    const rs = compliant();
    const foreign = handMade(T.containerApp, "foreign", {
      resourceGroupName: "rg",
      identity: { type: "SystemAssigned" },
      configuration: { ingress: { external: true, allowInsecure: false }, registries: [{ server: "x.azurecr.io" }] },
      template: { containers: [{ name: "c", image: "x.azurecr.io/app:1" }] },
    });
    rs.push(foreign);
    const policies = new Set(evaluateRecorded(rs).map((v) => v.policy));
    for (const p of [
      "containerapp-user-assigned-identity",
      "containerapp-registry-by-identity",
      "containerapp-image-own-registry",
    ]) {
      expect(policies).toContain(p);
    }
  });
});
