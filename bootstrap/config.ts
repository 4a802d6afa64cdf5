import * as pulumi from "@pulumi/pulumi";
import { locationProblem, resourceGroupNameProblem } from "../contract/rules";
import { isGuid } from "../contract/settings";
import { type ConfigProblem, ConfigProblemsError } from "../components/configError";

/**
 * The bootstrap project's configuration contract: every key declared in bootstrap/Pulumi.yaml, parsed and validated in
 * one pass before any resource registers. Every problem is reported at once, each naming the key and the fix. The same
 * rules guard {@link CiBootstrap}'s arguments, so the component refuses bad input even when used without this parser.
 */

/** How much the deploy identity may do in the target resource group. */
export const deployAccessLevels = ["least", "contributor"] as const;
export type DeployAccess = (typeof deployAccessLevels)[number];

/** The validated bootstrap configuration. */
export interface BootstrapConfig {
  /** The GitHub repository as `OWNER/REPO`, exactly as GitHub spells it (the token's `sub` is case-exact). */
  repository: string;
  /** The GitHub environment the deploy job runs in; its protection rules (reviewers) gate every `pulumi up`. */
  deployEnvironment: string;
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

/** The defaults bootstrap/Pulumi.yaml declares; a test keeps the two in step. */
export const bootstrapConfigDefaults: Partial<Record<BootstrapConfigKey, string>> = {
  deployEnvironment: "production",
  targetResourceGroupName: "secretless-signin",
  stateResourceGroupName: "secretless-ci-state",
  stateContainerName: "pulumi-state",
  stateKeyName: "pulumi-state",
  stackName: "dev",
  deployAccess: "least",
};

/** Raw values as the Pulumi engine hands them over (strings; objects JSON-encoded). */
export type RawBootstrapConfig = Partial<Record<BootstrapConfigKey, string>>;

/** Thrown when the bootstrap configuration (or CiBootstrap's arguments) is invalid; lists every problem found. */
export class BootstrapConfigError extends ConfigProblemsError {
  constructor(problems: ConfigProblem[]) {
    super(
      "bootstrap configuration",
      problems,
      `Fix the keys above in bootstrap/Pulumi.${pulumi.getStack() || "<stack>"}.yaml or with \`pulumi -C bootstrap config set <key> <value>\``,
    );
    this.name = "BootstrapConfigError";
  }
}

// GitHub owners: 1-39 letters, digits or single hyphens, not at either end. Repositories: 1-100 of letters, digits,
// ".", "_" or "-", and never "." or "..".
const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;
const REPO = /^[A-Za-z0-9._-]{1,100}$/;
// The token's subject is `repo:OWNER/REPO:environment:NAME`; a ":" or a space in NAME would change its shape, and the
// federated credential matches it character for character. Keep to a conservative, URL-safe set.
const ENVIRONMENT = /^[A-Za-z0-9._-]{1,255}$/;
const STORAGE_ACCOUNT = /^[a-z0-9]{3,24}$/;
const CONTAINER = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;
const KEY_VAULT = /^(?=.{3,24}$)[A-Za-z](?:[A-Za-z0-9]|-(?=[A-Za-z0-9]))*$/;
const KEY_NAME = /^[A-Za-z0-9-]{1,127}$/;
const STACK = /^[A-Za-z0-9_.-]{1,100}$/;

/** The arguments every rule below checks: the plain-string identity of everything the bootstrap creates. */
export type BootstrapNames = Omit<BootstrapConfig, "tags" | "deployAccess" | "stackName"> & {
  deployAccess: string;
  /** The app stack's name; only the project's outputs use it, so the component leaves it out. */
  stackName?: string;
};

/** Every problem with `names`, each naming the key and the fix; empty when all are valid. */
export function bootstrapProblems(names: BootstrapNames): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const problem = (key: string, message: string) => problems.push({ key, message });

  const [owner, repo, ...rest] = names.repository.split("/");
  if (rest.length > 0 || owner === undefined || repo === undefined || !OWNER.test(owner) || !REPO.test(repo) || repo === "." || repo === "..") {
    problem(
      "repository",
      `"${names.repository}" is not OWNER/REPO; set it to the repository exactly as GitHub spells it, case included ` +
        "(gh repo view --json nameWithOwner -q .nameWithOwner), e.g. contoso/secretless-signin.",
    );
  }
  if (!ENVIRONMENT.test(names.deployEnvironment)) {
    problem(
      "deployEnvironment",
      `"${names.deployEnvironment}" is not a usable GitHub environment name here; use 1-255 letters, digits, ".", "_" or "-" ` +
        '(no spaces or ":", which would change the token subject), e.g. production — and use the same name in deploy.yml.',
    );
  }
  const locationIssue = locationProblem(names.location);
  if (locationIssue) problem("location", locationIssue);
  for (const key of ["targetResourceGroupName", "stateResourceGroupName"] as const) {
    const groupIssue = resourceGroupNameProblem(names[key]);
    if (groupIssue) problem(key, groupIssue.replace(" — or unset it to create a new group", ""));
  }
  if (names.targetResourceGroupName.toLowerCase() === names.stateResourceGroupName.toLowerCase()) {
    problem(
      "stateResourceGroupName",
      `is the same group as targetResourceGroupName ("${names.targetResourceGroupName}"); keep state apart so the deploy identity's rights in the app's group never reach the state account or the key. Pick another name.`,
    );
  }
  if (!STORAGE_ACCOUNT.test(names.stateStorageAccountName)) {
    problem("stateStorageAccountName", `"${names.stateStorageAccountName}" is not a storage account name; use 3-24 lower-case letters and digits, unique across Azure, e.g. contosopulumistate.`);
  }
  if (!CONTAINER.test(names.stateContainerName)) {
    problem("stateContainerName", `"${names.stateContainerName}" is not a blob container name; use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit.`);
  }
  if (!KEY_VAULT.test(names.keyVaultName)) {
    problem("keyVaultName", `"${names.keyVaultName}" is not a Key Vault name; use 3-24 letters, digits and single hyphens, starting with a letter and ending with a letter or digit, unique across Azure.`);
  }
  if (!KEY_NAME.test(names.stateKeyName)) {
    problem("stateKeyName", `"${names.stateKeyName}" is not a Key Vault key name; use 1-127 letters, digits and hyphens.`);
  }
  if (names.stackName !== undefined && !STACK.test(names.stackName)) {
    problem("stackName", `"${names.stackName}" is not a Pulumi stack name; use letters, digits, "_", "." or "-", e.g. dev.`);
  }
  if (!(deployAccessLevels as readonly string[]).includes(names.deployAccess)) {
    problem("deployAccess", `"${names.deployAccess}" is not an access level; use least (the four narrow roles) or contributor (Contributor on the group).`);
  }
  for (const key of ["appRegistrationObjectId", "operatorObjectId"] as const) {
    const id = names[key];
    if (id !== undefined && !isGuid(id)) {
      const how = key === "operatorObjectId" ? "az ad signed-in-user show --query id -o tsv" : "az ad app show --id <client id> --query id -o tsv";
      problem(key, `"${id}" is not an object ID; set a GUID (${how}) or unset it.`);
    }
  }
  return problems;
}

/**
 * Parses and validates the raw bootstrap configuration. Defaults from bootstrap/Pulumi.yaml fill unset keys. Throws a
 * {@link BootstrapConfigError} listing every problem; returns the typed configuration otherwise.
 */
export function parseBootstrapConfig(raw: RawBootstrapConfig): BootstrapConfig {
  const value = (key: BootstrapConfigKey): string | undefined => {
    const v = raw[key] ?? bootstrapConfigDefaults[key];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };
  const problems: ConfigProblem[] = [];
  const required = (key: BootstrapConfigKey, example: string): string => {
    const v = value(key);
    if (v === undefined) problems.push({ key, message: `is required; set it (pulumi -C bootstrap config set ${key} ${example}).` });
    return v ?? "";
  };

  const repository = required("repository", "contoso/secretless-signin");
  const location = required("location", "westeurope");
  const stateStorageAccountName = required("stateStorageAccountName", "contosopulumistate");
  const keyVaultName = required("keyVaultName", "contoso-pulumi-kv");

  let tags: Record<string, string> = {};
  const rawTags = value("tags");
  if (rawTags !== undefined) {
    try {
      const parsed: unknown = JSON.parse(rawTags);
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== "string")) {
        throw new Error("not a map of strings");
      }
      tags = parsed as Record<string, string>;
    } catch {
      problems.push({ key: "tags", message: `"${rawTags}" is not a map of string tags; set each with pulumi -C bootstrap config set --path 'tags.<name>' <value>.` });
    }
  }

  // Optional keys with a default fall back to it when set to an empty string.
  const withDefault = (key: BootstrapConfigKey): string => value(key) ?? bootstrapConfigDefaults[key] ?? "";
  const names: BootstrapNames = {
    repository,
    deployEnvironment: withDefault("deployEnvironment"),
    location,
    targetResourceGroupName: withDefault("targetResourceGroupName"),
    stateResourceGroupName: withDefault("stateResourceGroupName"),
    stateStorageAccountName,
    stateContainerName: withDefault("stateContainerName"),
    keyVaultName,
    stateKeyName: withDefault("stateKeyName"),
    stackName: withDefault("stackName"),
    deployAccess: withDefault("deployAccess"),
    appRegistrationObjectId: value("appRegistrationObjectId"),
    operatorObjectId: value("operatorObjectId"),
  };
  // A missing required key is reported once, as missing, not again as malformed.
  const missing = new Set(problems.map((p) => p.key));
  problems.push(...bootstrapProblems(names).filter((p) => !missing.has(p.key)));
  if (problems.length > 0) throw new BootstrapConfigError(problems);
  return { ...names, stackName: names.stackName!, deployAccess: names.deployAccess as DeployAccess, tags };
}
