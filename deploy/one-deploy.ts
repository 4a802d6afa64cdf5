/**
 * Pushes the app package to an App Service site with Kudu's OneDeploy API, authenticated with the deployer's own
 * Microsoft Entra token, and waits until the deployment succeeds or fails.
 *
 *   node --import tsx deploy/one-deploy.ts --scm-host <host> --zip dist/app.zip --sha256 <hex> [--scope <arm scope>]
 *
 * Every input can also come from the environment (DEPLOY_SCM_HOST, DEPLOY_ZIP_PATH, DEPLOY_ZIP_SHA256,
 * DEPLOY_ARM_SCOPE, DEPLOY_APPSERVICE_SCOPE, DEPLOY_TIMEOUT_MINUTES, DEPLOY_POLL_INTERVAL_MS, DEPLOY_CONFLICT_RETRIES,
 * DEPLOY_CONFLICT_WAIT_MS); none of them is secret.
 *
 * The token is obtained here, held in memory for the requests to the SCM host only, and never printed, logged or
 * passed on. Audience: the cloud's App Service audience first (`https://appservice.azure.com/.default` in the public
 * cloud; contract/clouds.ts `appServiceScope`), which Microsoft's clients now use for Kudu, and the cloud's Azure
 * Resource Manager audience once if Kudu answers 401 (or if Entra will not issue the first); the last line says which
 * one Kudu accepted. Credential: in a GitHub Actions job that may request OIDC tokens, a client-assertion credential
 * that presents a fresh GitHub token for every Entra request (`github-actions-credential.ts`), so a deploy late in a
 * long run still signs in; anywhere else `@azure/identity`'s DefaultAzureCredential (`az login` on a laptop).
 *
 * The Kudu protocol itself (publish, poll, failure log, error mapping) lives in `kudu.ts`; this file is the command:
 * inputs, the token, and the exit code `runMain` maps each failure to.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { appServiceScopeForResourceManagerScope } from "../contract/clouds";
import { DeployStepError, ExitCode, badInput, oneLine, positiveNumber, requireHost, runMain, sha256 } from "./cli";
import { gitHubActionsCredentialFromEnv } from "./github-actions-credential";
import { type OneDeployResult, publishZip } from "./kudu";
import { trackedFilesIn } from "./package-app";

export { KuduStatus, type OneDeployResult } from "./kudu";

/** The Azure Resource Manager scope of the public cloud; other clouds pass theirs (contract/clouds.ts). */
export const DEFAULT_ARM_SCOPE = "https://management.azure.com/.default";

export interface OneDeployOptions {
  /** The site's SCM (Kudu) host, as App Service reports it, e.g. `myapp-abc123.scm.westeurope-01.azurewebsites.net`. */
  readonly scmHost: string;
  /** Path of the zip (relative to the working directory, or absolute). */
  readonly zipPath: string;
  /** Expected lower-case hex sha256 of the zip; the upload is refused when the file does not match. */
  readonly sha256: string;
  /** Entra scope of the token: the cloud's Azure Resource Manager `/.default` scope. */
  readonly scope: string;
  /**
   * Entra scope asked for first: the cloud's App Service audience. Default: the App Service scope of the cloud whose
   * ARM scope is {@link scope}; `"none"` asks for the ARM scope only.
   */
  readonly appServiceScope?: string;
  /** Overall bound on waiting for the deployment to finish. Default 10 minutes. */
  readonly timeoutMs?: number;
  /** Pause between status polls. Default 2 s (what `az webapp deploy` uses). */
  readonly pollIntervalMs?: number;
  /** How many times to retry while another deployment is in progress (409). Default 10. */
  readonly conflictRetries?: number;
  /** Pause before each 409 retry. Default 15 s. */
  readonly conflictWaitMs?: number;
  /** Where the token comes from. Default: the GitHub Actions credential in such a job, else DefaultAzureCredential. */
  readonly credential?: TokenCredential;
  /** Progress lines. Default: stdout. */
  readonly log?: (line: string) => void;
}

const NAME = "one-deploy";

/** What {@link oneDeploy} reports: Kudu's result and the token audience Kudu accepted. */
export interface OneDeployOutcome extends OneDeployResult {
  /** The Entra scope of the token Kudu accepted. */
  readonly acceptedScope: string;
}

/** Uploads the zip with OneDeploy and waits for the result. Throws {@link DeployStepError} with the fix on failure. */
export async function oneDeploy(options: OneDeployOptions): Promise<OneDeployOutcome> {
  const log = options.log ?? ((line: string) => console.log(`${NAME}: ${line}`));
  const scmHost = requireHost(options.scmHost, "--scm-host", "DEPLOY_SCM_HOST");
  const armScope = requireScope(options.scope, "--scope");
  const appServiceScope =
    options.appServiceScope === "none"
      ? undefined
      : options.appServiceScope
        ? requireScope(options.appServiceScope, "--appservice-scope")
        : appServiceScopeForResourceManagerScope(armScope);
  const zip = readVerifiedZip(options.zipPath, options.sha256);
  const credential = options.credential ?? defaultCredential();

  // The App Service audience first; if Entra will not issue it (a cloud without it), ARM straight away.
  let firstScope = appServiceScope ?? armScope;
  let token: string;
  try {
    token = await getToken(credential, firstScope);
  } catch (error) {
    if (!appServiceScope) throw error;
    log(`no token for the App Service audience (${(error as DeployStepError).message}); using Azure Resource Manager`);
    firstScope = armScope;
    token = await getToken(credential, armScope);
  }
  const fallback = firstScope === armScope ? undefined : async () => `Bearer ${await getToken(credential, armScope)}`;

  log(`uploading ${options.zipPath} (${zip.length} bytes, sha256 ${options.sha256}) to ${scmHost} with OneDeploy`);
  const result = await publishZip(zip, {
    scmHost,
    authorization: `Bearer ${token}`,
    ...(fallback ? { fallbackAuthorization: fallback } : {}),
    timeoutMs: options.timeoutMs ?? 10 * 60_000,
    pollIntervalMs: options.pollIntervalMs ?? 2000,
    conflictRetries: options.conflictRetries ?? 10,
    conflictWaitMs: options.conflictWaitMs ?? 15_000,
    log,
  });
  const acceptedScope = result.usedFallback ? armScope : firstScope;
  log(
    acceptedScope === appServiceScope
      ? `Kudu accepted the App Service audience (${acceptedScope})`
      : `Kudu accepted the Azure Resource Manager audience (${acceptedScope})` +
          (result.usedFallback ? " after refusing the App Service audience (401)" : ""),
  );
  return { ...result, acceptedScope };
}

/** In a GitHub Actions job that may request OIDC tokens, the fresh-assertion credential; else the default chain. */
export function defaultCredential(): TokenCredential {
  try {
    return gitHubActionsCredentialFromEnv(process.env) ?? new DefaultAzureCredential();
  } catch (error) {
    throw new DeployStepError(
      oneLine((error as Error).message),
      "Set ARM_CLIENT_ID and ARM_TENANT_ID (or AZURE_CLIENT_ID and AZURE_TENANT_ID) on the job to the deploy " +
        "identity's client ID and tenant, as .github/workflows/deploy.yml does.",
      ExitCode.NotLoggedIn,
    );
  }
}

async function getToken(credential: TokenCredential, scope: string): Promise<string> {
  try {
    const token = await credential.getToken(scope);
    if (token?.token) return token.token;
  } catch (error) {
    throw notLoggedIn(error, scope);
  }
  throw notLoggedIn(undefined, scope);
}

export function notLoggedIn(error: unknown, scope: string): DeployStepError {
  const detail = ` for ${scope}${error instanceof Error ? `: ${oneLine(error.message, 400)}` : ""}`;
  return new DeployStepError(
    `could not get a Microsoft Entra token${detail}`,
    "On a laptop run `az login` (and `az account set -s <subscription>`); in CI sign in with OIDC (azure/login with " +
      "client-id, tenant-id and subscription-id, or AZURE_CLIENT_ID, " +
      "AZURE_TENANT_ID and AZURE_FEDERATED_TOKEN_FILE for " +
      "workload identity). No secret is needed.",
    ExitCode.NotLoggedIn,
  );
}

function requireScope(scope: string, flag: string): string {
  if (!/^https:\/\/[a-z0-9.-]+\/\.default$/i.test(scope ?? "")) {
    const [example, key] =
      flag === "--scope"
        ? [DEFAULT_ARM_SCOPE, "resourceManagerScope"]
        : ["https://appservice.azure.com/.default", "appServiceScope"];
    const got = JSON.stringify(String(scope).slice(0, 100));
    throw badInput(
      `${flag} must be an Entra scope such as ${example}, got ${got}`,
      `pass the cloud's scope (contract/clouds.ts ${key})`,
    );
  }
  return scope;
}

/** Reads the zip and checks it is the package the stack planned to deploy. */
function readVerifiedZip(zipPath: string, expected: string): Buffer {
  if (!zipPath)
    throw badInput("--zip (or DEPLOY_ZIP_PATH) is required", "pass the package path, e.g. --zip dist/app.zip");
  if (!/^[0-9a-f]{64}$/.test(expected ?? ""))
    throw badInput(
      "--sha256 (or DEPLOY_ZIP_SHA256) must be 64 lower-case hex digits",
      "pass the sha256 `npm run app:package` printed",
    );
  const path = resolve(zipPath);
  const tracked = trackedFilesIn(dirname(path));
  if (tracked.length > 0) {
    throw new DeployStepError(
      `refusing to deploy: git tracks ${tracked.length} file(s) in the package's folder ${dirname(zipPath) || "."}/ ` +
        `(${tracked
          .slice(0, 3)
          .map((f) => oneLine(f, 80))
          .join(", ")}${tracked.length > 3 ? ", …" : ""})`,
      "The package is build output (dist/ is in .gitignore); a committed zip or cache record would be deployed " +
        "instead of your sources. Run `git rm -r --cached dist`, commit, and run `pulumi up` again.",
      ExitCode.BadInput,
    );
  }
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new DeployStepError(
      `the package ${zipPath} does not exist`,
      "Run `npm run app:package` (`pulumi up` does this itself) and try again.",
      ExitCode.BadInput,
    );
  }
  const zip = readFileSync(path);
  if (zip.subarray(0, 4).toString("latin1") !== "PK\u0003\u0004") {
    throw new DeployStepError(
      `${zipPath} is not a zip file`,
      "Rebuild it with `npm run app:package`.",
      ExitCode.BadInput,
    );
  }
  const actual = sha256(zip);
  if (actual !== expected) {
    throw new DeployStepError(
      `${zipPath} has sha256 ${actual}, but the stack planned to deploy ${expected}`,
      "The package changed after the preview computed its hash (another build ran in between). Run `pulumi up` again.",
      ExitCode.BadInput,
    );
  }
  return zip;
}

/** Reads the options from argv, falling back to the environment. */
export function optionsFromCommandLine(argv: string[], env: NodeJS.ProcessEnv): OneDeployOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      "scm-host": { type: "string" },
      zip: { type: "string" },
      sha256: { type: "string" },
      scope: { type: "string" },
      "appservice-scope": { type: "string" },
      "timeout-minutes": { type: "string" },
      "poll-interval-ms": { type: "string" },
      "conflict-retries": { type: "string" },
      "conflict-wait-ms": { type: "string" },
    },
    strict: true,
  });
  const appServiceScope = values["appservice-scope"] ?? env.DEPLOY_APPSERVICE_SCOPE;
  return {
    scmHost: values["scm-host"] ?? env.DEPLOY_SCM_HOST ?? "",
    zipPath: values.zip ?? env.DEPLOY_ZIP_PATH ?? "",
    sha256: values.sha256 ?? env.DEPLOY_ZIP_SHA256 ?? "",
    scope: values.scope ?? env.DEPLOY_ARM_SCOPE ?? DEFAULT_ARM_SCOPE,
    ...(appServiceScope ? { appServiceScope } : {}),
    timeoutMs:
      positiveNumber(values["timeout-minutes"] ?? env.DEPLOY_TIMEOUT_MINUTES, "--timeout-minutes", 10) * 60_000,
    pollIntervalMs: positiveNumber(
      values["poll-interval-ms"] ?? env.DEPLOY_POLL_INTERVAL_MS,
      "--poll-interval-ms",
      2000,
    ),
    conflictRetries: Math.floor(
      positiveNumber(values["conflict-retries"] ?? env.DEPLOY_CONFLICT_RETRIES, "--conflict-retries", 10),
    ),
    conflictWaitMs: positiveNumber(
      values["conflict-wait-ms"] ?? env.DEPLOY_CONFLICT_WAIT_MS,
      "--conflict-wait-ms",
      15_000,
    ),
  };
}

if (require.main === module) {
  runMain(NAME, async () => {
    const result = await oneDeploy(optionsFromCommandLine(process.argv.slice(2), process.env));
    console.log(`${NAME}: deployed${result.deploymentId ? ` (Kudu deployment ${result.deploymentId})` : ""}`);
  });
}
