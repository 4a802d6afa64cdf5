import * as pulumi from "@pulumi/pulumi";
import { type ConfigProblem, ConfigProblemsError } from "../common/config-problems";
import { ConfigReader } from "../common/config-reader";
import { environmentProblem, repositoryProblem } from "../contract/github";
import {
  blobContainerNameProblem,
  keyVaultKeyNameProblem,
  keyVaultNameProblem,
  locationProblem,
  objectIdProblem,
  oneOfProblem,
  resourceGroupNameProblem,
  stackNameProblem,
  storageAccountNameProblem,
} from "../contract/rules";

/**
 * The bootstrap project's configuration contract: every key declared in bootstrap/Pulumi.yaml, parsed and validated in
 * one pass before any resource registers, with the shared reader (common/config-reader.ts) and the rules of
 * contract/. Every problem is reported at once, each naming the key and the fix. The same rules guard
 * {@link CiBootstrap}'s arguments, so the component refuses bad input even when used without this parser.
 */

/** How much the deploy identity may do in the target resource group. */
export const deployAccessLevels = ["least", "contributor"] as const;
export type DeployAccess = (typeof deployAccessLevels)[number];

/** The validated bootstrap configuration. */
export interface BootstrapConfig {
  /**
   * The GitHub repository as `OWNER/REPO` or GitHub's immutable `OWNER@OWNER_ID/REPO@REPO_ID`, exactly as GitHub spells
   * it: the subjects are built from the form given (contract/github.ts).
   */
  repository: string;
  /** The GitHub environment the deploy job runs in: only `main` may deploy to it; its reviewers gate each deploy. */
  deployEnvironment: string;
  /** GitHub user IDs of the environment's required reviewers, set on the environment when a GitHub token is given. */
  deployReviewerIds: number[];
  location: string;
  /** The resource group the app stack deploys into; both identities are scoped to it. */
  targetResourceGroupName: string;
  /** The resource group holding the state storage account and the Key Vault. */
  stateResourceGroupName: string;
  stateStorageAccountName: string;
  stateContainerName: string;
  keyVaultName: string;
  stateKeyName: string;
  /** The app stack CI previews and deploys. */
  stackName: string;
  deployAccess: DeployAccess;
  /** An app registration created before CI took over; the deploy identity is made its owner. */
  appRegistrationObjectId?: string;
  /** A person who migrates the existing stack into the team backend; gets data access to state and key. */
  operatorObjectId?: string;
  tags: Record<string, string>;
}

/** Keys of the bootstrap project's namespace, exactly as declared in bootstrap/Pulumi.yaml (plus `tags`). */
export const bootstrapConfigKeys = [
  "repository",
  "deployEnvironment",
  "deployReviewerIds",
  "location",
  "targetResourceGroupName",
  "stateResourceGroupName",
  "stateStorageAccountName",
  "stateContainerName",
  "keyVaultName",
  "stateKeyName",
  "stackName",
  "deployAccess",
  "appRegistrationObjectId",
  "operatorObjectId",
  "tags",
] as const;
export type BootstrapConfigKey = (typeof bootstrapConfigKeys)[number];

/** bootstrap/Pulumi.yaml's defaults, stated once: the parser and CiBootstrap apply them; a test checks the file. */
export const bootstrapConfigDefaults = {
  deployEnvironment: "production",
  deployReviewerIds: "[]",
  targetResourceGroupName: "secretless-signin",
  stateResourceGroupName: "secretless-ci-state",
  stateContainerName: "pulumi-state",
  stateKeyName: "pulumi-state",
  stackName: "dev",
  deployAccess: "least",
} as const satisfies Partial<Record<BootstrapConfigKey, string>>;

/** Raw values as the Pulumi engine hands them over (strings; objects JSON-encoded). */
export type RawBootstrapConfig = Partial<Record<BootstrapConfigKey, string>>;

const SET = "pulumi -C bootstrap config set";

/** Thrown when the bootstrap configuration is invalid; lists every problem found. */
export class BootstrapConfigError extends ConfigProblemsError {
  constructor(problems: ConfigProblem[]) {
    super(
      "bootstrap configuration",
      problems,
      `Fix the keys above in bootstrap/Pulumi.${pulumi.getStack() || "<stack>"}.yaml or with \`${SET} <key> <value>\``,
    );
    this.name = "BootstrapConfigError";
  }
}

/** The plain-string names every rule below checks: the identity of everything the bootstrap creates. */
export type BootstrapNames = Omit<BootstrapConfig, "tags" | "deployAccess" | "stackName" | "deployReviewerIds"> & {
  deployAccess: string;
  /** The app stack's name; only the project's outputs use it, so the component leaves it out. */
  stackName?: string;
};

/** The rule of each plain-string key: one table for the parser and the component. */
const nameRules: { [K in keyof BootstrapNames]-?: (value: string) => string | undefined } = {
  repository: repositoryProblem,
  deployEnvironment: environmentProblem,
  location: locationProblem,
  targetResourceGroupName: (v) => resourceGroupNameProblem(v)?.replace(" — or unset it to create a new group", ""),
  stateResourceGroupName: (v) => resourceGroupNameProblem(v)?.replace(" — or unset it to create a new group", ""),
  stateStorageAccountName: storageAccountNameProblem,
  stateContainerName: blobContainerNameProblem,
  keyVaultName: keyVaultNameProblem,
  stateKeyName: keyVaultKeyNameProblem,
  stackName: stackNameProblem,
  deployAccess: (v) =>
    oneOfProblem(
      v,
      deployAccessLevels,
      "an access level",
      " (least: the narrow roles; contributor: Contributor there)",
    ),
  appRegistrationObjectId: (v) => objectIdProblem(v, "az ad app show --id <client id> --query id -o tsv"),
  operatorObjectId: (v) => objectIdProblem(v, "az ad signed-in-user show --query id -o tsv"),
};

/** Every problem with `names`, each naming the key and the fix; empty when all are valid. */
export function bootstrapProblems(names: BootstrapNames): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [key, rule] of Object.entries(nameRules) as [keyof BootstrapNames, (v: string) => string | undefined][]) {
    const value = names[key];
    const message = value === undefined ? undefined : rule(value);
    if (message) problems.push({ key, message });
  }
  if (names.targetResourceGroupName.toLowerCase() === names.stateResourceGroupName.toLowerCase()) {
    problems.push({
      key: "stateResourceGroupName",
      message:
        `is the same group as targetResourceGroupName ("${names.targetResourceGroupName}"); keep state apart so the ` +
        "deploy identity's rights in the app's group never reach the state account or the key. Pick another name.",
    });
  }
  return problems;
}

/** A GitHub user ID as `gh api users/LOGIN --jq .id` prints it. */
function reviewerIdProblem(id: string): string | undefined {
  return /^[1-9][0-9]{0,19}$/.test(id)
    ? undefined
    : `"${id}" is not a GitHub user ID; use the number gh api users/<login> --jq .id prints.`;
}

/**
 * Parses and validates the raw bootstrap configuration. Defaults from bootstrap/Pulumi.yaml fill unset keys. Throws a
 * {@link BootstrapConfigError} listing every problem; returns the typed configuration otherwise.
 */
export function parseBootstrapConfig(raw: RawBootstrapConfig): BootstrapConfig {
  const r = new ConfigReader<BootstrapConfigKey>(raw, bootstrapConfigDefaults, SET);
  const required = (key: BootstrapConfigKey, example: string) =>
    r.required(key, `set it (${SET} ${key} ${example}).`, () => undefined) ?? "";
  const repository = required("repository", "contoso/secretless-signin");
  const location = required("location", "westeurope");
  const stateStorageAccountName = required("stateStorageAccountName", "contosopulumistate");
  const keyVaultName = required("keyVaultName", "contoso-pulumi-kv");
  const ok = () => undefined;
  const names: BootstrapNames = {
    repository,
    deployEnvironment: r.withDefault("deployEnvironment", undefined, ok),
    location,
    targetResourceGroupName: r.withDefault("targetResourceGroupName", undefined, ok),
    stateResourceGroupName: r.withDefault("stateResourceGroupName", undefined, ok),
    stateStorageAccountName,
    stateContainerName: r.withDefault("stateContainerName", undefined, ok),
    keyVaultName,
    stateKeyName: r.withDefault("stateKeyName", undefined, ok),
    stackName: r.withDefault("stackName", undefined, ok),
    deployAccess: r.withDefault("deployAccess", undefined, ok),
    appRegistrationObjectId: r.value("appRegistrationObjectId"),
    operatorObjectId: r.value("operatorObjectId"),
  };
  const reviewerFix =
    `a list of GitHub user IDs; set items with ${SET} --path 'deployReviewerIds[0]' <id> ` +
    "(gh api users/<login> --jq .id).";
  const rawReviewers = r.json("deployReviewerIds", reviewerFix) ?? [];
  let reviewers: string[] = [];
  if (!Array.isArray(rawReviewers) || rawReviewers.some((id) => typeof id !== "string" && typeof id !== "number")) {
    if (!r.failed("deployReviewerIds")) {
      r.report("deployReviewerIds", `"${r.value("deployReviewerIds")}" is not ${reviewerFix}`);
    }
  } else {
    // `config set --path 'deployReviewerIds[0]' 123` stores a number; a quoted ID arrives as a string.
    reviewers = rawReviewers.map(String);
    const bad = reviewers.map(reviewerIdProblem).filter((p): p is string => p !== undefined);
    r.report("deployReviewerIds", bad.length > 0 ? bad.join(" ") : undefined);
  }
  const tags = r.tags("tags");
  // A missing required key is reported once, as missing, not again as malformed.
  for (const p of bootstrapProblems(names)) {
    if (!r.failed(p.key) || p.key === "stateResourceGroupName") r.report(p.key, p.message);
  }
  if (r.problems.length > 0) throw new BootstrapConfigError(r.problems);
  return {
    ...names,
    stackName: names.stackName!,
    deployAccess: names.deployAccess as DeployAccess,
    deployReviewerIds: reviewers.map(Number),
    tags,
  };
}
