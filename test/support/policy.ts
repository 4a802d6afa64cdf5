import {
  type RegisteredResource,
  SUBSCRIPTION_ID,
  TENANT_ID,
  attachMocks,
  guidFrom,
  runProgram,
} from "../../offline/azure-mocks";
import { expect } from "vitest";
import { evaluateRecorded } from "../../policy/offline";
import { GITHUB_ISSUER, type RuleContext } from "../../policy/rules";

/**
 * The main stack, as the real program (index.ts) registers it under the offline mocks with the dev stack's values and
 * `config`. The program is imported once per test file, so one file plans one stack.
 */
export async function planMainStack(config: Record<string, string> = {}): Promise<RegisteredResource[]> {
  const mocks = await attachMocks({
    location: "westeurope",
    webAppName: "secretless-signin-dev",
    tags: JSON.stringify({ environment: "dev", workload: "secretless-signin" }),
    ...config,
  });
  await runProgram(mocks, () => import("../../index.js"));
  return mocks.resources;
}

const ciPrincipal = guidFrom("ci-deployer:uami-principal");

/** The repository the hand-made CI identity trusts, as the pack's config names it (`fic-trust-allowed`). */
export const CI_REPOSITORY = "contoso/secretless-signin";
/** What `--policy-pack-config` tells the pack for the stacks these tests plan. */
export const PACK_CONTEXT = { repository: CI_REPOSITORY } as const;

/** A resource as the mocks would record it: the state echoes the inputs. */
export function handMade(
  type: string,
  name: string,
  inputs: Record<string, any>,
  computed: Record<string, any> = {},
): RegisteredResource {
  return { type, name, inputs, custom: true, id: `${name}-id`, state: { ...inputs, ...computed } };
}

/**
 * Compliant resources of the kinds the CI bootstrap project adds: a CI identity trusting GitHub, its role assignment,
 * the state storage account and its key vault. (The deploy step's commands are the main stack's own.)
 */
export function bootstrapLike(): RegisteredResource[] {
  const rg = `/subscriptions/${SUBSCRIPTION_ID}/resourceGroups/rg-ci`;
  return [
    handMade(
      "azure-native:resources:ResourceGroup",
      "rg-ci",
      { resourceGroupName: "rg-ci", location: "westeurope" },
      { name: "rg-ci" },
    ),
    handMade(
      "azure-native:managedidentity:UserAssignedIdentity",
      "ci-deployer",
      { resourceGroupName: "rg-ci", resourceName: "ci-deployer", location: "westeurope" },
      {
        name: "ci-deployer",
        clientId: guidFrom("ci-deployer:uami-client"),
        principalId: ciPrincipal,
        tenantId: TENANT_ID,
      },
    ),
    handMade("azure-native:managedidentity:FederatedIdentityCredential", "ci-deployer-production", {
      resourceGroupName: "rg-ci",
      resourceName: "ci-deployer",
      issuer: GITHUB_ISSUER,
      subject: "repo:contoso/secretless-signin:environment:production",
      audiences: ["api://AzureADTokenExchange"],
    }),
    handMade("azure-native:authorization:RoleAssignment", "ci-deployer-contributor", {
      scope: rg,
      principalId: ciPrincipal,
      principalType: "ServicePrincipal",
      roleDefinitionId:
        `/subscriptions/${SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/` +
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
    }),
    handMade("azure-native:storage:StorageAccount", "state", {
      resourceGroupName: "rg-ci",
      kind: "StorageV2",
      sku: { name: "Standard_ZRS" },
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
    }),
    handMade("azure-native:storage:BlobServiceProperties", "state-blob-service", {
      resourceGroupName: "rg-ci",
      accountName: "state",
      blobServicesName: "default",
      isVersioningEnabled: true,
      deleteRetentionPolicy: { enabled: true, days: 30, allowPermanentDelete: false },
      containerDeleteRetentionPolicy: { enabled: true, days: 30 },
    }),
    // The deploy environment on GitHub (GITHUB_TOKEN set): the environment the CI identity trusts, main only.
    handMade("pulumi:providers:github", "ci-github", { owner: "contoso", baseUrl: "https://api.github.com/" }),
    handMade("github:index/repositoryEnvironment:RepositoryEnvironment", "ci-environment", {
      repository: "secretless-signin",
      environment: "production",
      canAdminsBypass: false,
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    }),
    handMade(
      "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
      "ci-main-only",
      {
        repository: "secretless-signin",
        environment: "production",
        branchPattern: "main",
      },
    ),
    handMade("azure-native:keyvault:Vault", "state-vault", {
      resourceGroupName: "rg-ci",
      properties: { enableRbacAuthorization: true, enablePurgeProtection: true, tenantId: TENANT_ID },
    }),
  ];
}

/** The single resource of `type` (and `name`, when given) in a plan; throws when there is none or more than one. */
export function oneOf(rs: readonly RegisteredResource[], type: string, name?: string): RegisteredResource {
  const found = rs.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  return found[0]!;
}

/** Changes a resource's inputs and state together, as the mocks record them. */
export function editResource(r: RegisteredResource, change: (props: Record<string, any>) => void): void {
  change(r.inputs);
  change(r.state);
}

/** A deliberately broken variant of a compliant plan, and what the pack must say about it. */
export interface BrokenVariant {
  /** The rule this variant breaks. */
  readonly rule: string;
  /** What is broken. */
  readonly broken: string;
  break(rs: RegisteredResource[]): void;
  /** The message the rule must report. */
  readonly message: RegExp;
  /** Other rules the same break also trips, by design. */
  readonly alsoTrips?: readonly string[];
}

/**
 * Breaks a fresh copy of a compliant plan as `variant` says and checks the pack's answer: the rule reports the message,
 * and no rule but it and the ones it also trips says anything.
 */
export function expectBrokenVariant(
  compliant: () => RegisteredResource[],
  variant: BrokenVariant,
  context?: RuleContext,
): void {
  const rs = compliant();
  variant.break(rs);
  const violations = evaluateRecorded(rs, context);
  expect(violations.filter((x) => x.policy === variant.rule).map((x) => x.message)).toContainEqual(
    expect.stringMatching(variant.message),
  );
  expect([...new Set(violations.map((x) => x.policy))].sort()).toEqual(
    [variant.rule, ...(variant.alsoTrips ?? [])].sort(),
  );
}
