import * as pulumi from "@pulumi/pulumi";
import { refuseInvalidArguments } from "../common/invalid-arguments";
import * as command from "@pulumi/command";
import { DEFAULT_READINESS_TIMEOUT_MINUTES } from "../contract/catalogue";
import { appPathProblem, readinessTimeoutProblem } from "../contract/rules";
import { DEFAULT_SLOT_AFTER_SWAP, type SlotAfterSwap, slotAfterSwapProblem } from "../contract/slots";

/** The package to deploy, as `packageApp()` (deploy/package-app.ts) returns it. */
export interface AppPackageRef {
  /** Path of the zip relative to the project root (where Pulumi runs the commands), e.g. `dist/app.zip`. */
  readonly zipPath: string;
  /** Lower-case hex sha256 of the zip. */
  readonly sha256: string;
}

/** Arguments of {@link AppDeployment}. */
export interface AppDeploymentArgs {
  /** Required. ARM resource ID of the web app; a new site re-runs the deployment. */
  readonly siteId: pulumi.Input<string>;
  /**
   * Required. The site's SCM (Kudu) host, from the site resource: use {@link scmHostNameOf}, never build it by hand.
   */
  readonly scmHostName: pulumi.Input<string>;
  /** Required. The site's default host name, where the readiness wait probes `/readyz`. */
  readonly defaultHostName: pulumi.Input<string>;
  /** Required. The package; a changed sha256 re-runs the deployment and the readiness wait. */
  readonly package: pulumi.Input<AppPackageRef>;
  /**
   * Required. The cloud's Azure Resource Manager scope (`clouds[cloud].resourceManagerScope`), for the deployer's
   * token.
   */
  readonly armScope: pulumi.Input<string>;
  /** Optional. How long to wait for `/readyz` to report ready, in whole minutes (1–120). Defaults to 10. */
  readonly readinessTimeoutMinutes?: pulumi.Input<number>;
  /** Optional. Wait for `/readyz` after deploying. Defaults to true. */
  readonly waitForReady?: boolean;
  /**
   * Optional. For an app other than the sample: wait on this path of the site instead, until it answers 200 (see
   * deploy/wait-ready.ts for what that can and cannot prove). Not with `stagingSlot`, whose swap is guarded by the
   * sample app's `/readyz` contract. Defaults to `/readyz` and its readiness contract.
   */
  readonly readinessPath?: pulumi.Input<string>;
  /**
   * Optional. Deploy through this staging slot of the site instead of in place: push the package to the slot's Kudu,
   * wait for the slot's `/readyz`, swap it into production and wait for production's `/readyz` (deploy/swap.ts). The
   * readiness waits are then the swap's guard and always run. Defaults to none: deploy in place.
   */
  readonly stagingSlot?: {
    /** The slot's name (`staging`). */
    readonly name: pulumi.Input<string>;
    /** The slot's SCM (Kudu) host, from the slot resource (`scmHostNameOf`). */
    readonly scmHostName: pulumi.Input<string>;
    /** The slot's default host name, where the swap first waits for `/readyz`. */
    readonly defaultHostName: pulumi.Input<string>;
    /** What happens to the slot, holding the previous version, after the swap. Defaults to `keep`. */
    readonly afterSwap?: pulumi.Input<SlotAfterSwap>;
  };
}

/**
 * The app settings a site needs to run what this component deploys; the site's owner writes them (App Service replaces
 * the whole settings collection on every write, so they cannot be added from here).
 * - `WEBSITE_RUN_FROM_PACKAGE=1`: OneDeploy stores the pushed zip under /home/data/SitePackages and names it in
 *   packagename.txt, and the site mounts it read-only as wwwroot after a restart: the whole new package or the old
 *   one, never a mix (learn.microsoft.com/azure/app-service/deploy-run-package).
 * - `SCM_DO_BUILD_DURING_DEPLOYMENT=false`: the zip is ready to run (one esbuild bundle, no node_modules), so the
 *   deployment must not run Oryx's `npm install` build.
 */
export const RUN_FROM_PACKAGE_SETTINGS = {
  WEBSITE_RUN_FROM_PACKAGE: "1",
  SCM_DO_BUILD_DURING_DEPLOYMENT: "false",
} as const;

/** The command lines, relative to the project root: the same on every machine, so they never show as a diff. */
export const DEPLOY_COMMAND = "node --import tsx deploy/one-deploy.ts";
export const WAIT_READY_COMMAND = "node --import tsx deploy/wait-ready.ts";
export const SWAP_COMMAND = "node --import tsx deploy/swap.ts";

/**
 * Deploys the bundled app to an App Service site and waits until it proves the secretless chain works.
 *
 * Two local commands, run by `@pulumi/command` on the machine running `pulumi up`:
 * 1. `deploy/one-deploy.ts` pushes the zip with Kudu's OneDeploy API, authenticated with the deployer's own Entra
 *    token (DefaultAzureCredential), which the script obtains itself: no token, key or publishing credential is an
 *    input, an environment variable or an output of either command.
 * 2. `deploy/wait-ready.ts` polls `https://{defaultHostName}/readyz` until the app reports ready (bounded).
 * With `stagingSlot`, the zip goes to the slot's Kudu instead, and the second command is `deploy/swap.ts`: the slot's
 * `/readyz`, the swap into production (ARM, the deployer's token again), production's `/readyz`.
 *
 * Both re-run exactly when the package's sha256 or the site ID changes (their `triggers`). Pass the site, its settings
 * and the basic-auth-off resources as `dependsOn`: the deploy waits for all of them.
 */
export class AppDeployment extends pulumi.ComponentResource {
  /** The sha256 of the deployed package, known once the deploy command has run. */
  public readonly deployedSha256: pulumi.Output<string>;
  /** True once `/readyz` reported ready (immediately true when the wait is off). */
  public readonly ready: pulumi.Output<boolean>;

  constructor(name: string, args: AppDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
    super("secretless:index:AppDeployment", name, {}, opts);
    const pkg = pulumi.output(args.package).apply(validatePackage);
    const siteId = pulumi.output(args.siteId);
    const triggers = [pkg.sha256, siteId];
    // The caller's dependencies hold for the commands themselves, not just for this component's registration.
    const dependsOn = opts?.dependsOn;
    const slot = args.stagingSlot;
    if (slot && args.readinessPath !== undefined) {
      refuseInvalidArguments("AppDeployment", [
        {
          propertyPath: "readinessPath",
          reason: "is set with stagingSlot, whose swap is guarded by the sample app's /readyz contract; remove one.",
        },
      ]);
    }
    const readinessTimeout = () =>
      pulumi.output(args.readinessTimeoutMinutes ?? DEFAULT_READINESS_TIMEOUT_MINUTES).apply(requireTimeout);

    // Push the zip with OneDeploy, after the site, its settings and basic auth off.
    const deploy = new command.local.Command(
      `${name}-deploy`,
      {
        create: DEPLOY_COMMAND,
        environment: {
          // With a staging slot the package goes to the slot's own Kudu; production keeps serving meanwhile.
          DEPLOY_SCM_HOST: pulumi
            .output(slot ? slot.scmHostName : args.scmHostName)
            .apply((h) => requireHostName(h, "scmHostName")),
          DEPLOY_ZIP_PATH: pkg.zipPath,
          DEPLOY_ZIP_SHA256: pkg.sha256,
          DEPLOY_ARM_SCOPE: pulumi.output(args.armScope).apply(requireArmScope),
        },
        triggers,
        logging: command.types.enums.local.Logging.StdoutAndStderr,
        // The previous run's output is not needed, and keeping the environment to the four values above keeps it
        // auditable.
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn },
    );

    // Wait for the app to prove the chain, after the deploy: in place, or on the slot and on production around a swap.
    const ready = slot
      ? this.swap(name, args, slot, triggers, readinessTimeout(), deploy)
      : args.waitForReady === false
        ? undefined
        : new command.local.Command(
            `${name}-ready`,
            {
              create: WAIT_READY_COMMAND,
              environment: {
                READY_HOST: pulumi.output(args.defaultHostName).apply((h) => requireHostName(h, "defaultHostName")),
                READY_TIMEOUT_MINUTES: readinessTimeout(),
                // Only for an app of your own: the sample app's wait keeps exactly the inputs it always had.
                ...(args.readinessPath === undefined
                  ? {}
                  : { READY_PATH: pulumi.output(args.readinessPath).apply(requireReadinessPath) }),
              },
              triggers,
              logging: command.types.enums.local.Logging.StdoutAndStderr,
              addPreviousOutputInEnv: false,
            },
            { parent: this, dependsOn: [deploy] },
          );

    this.deployedSha256 = pulumi.all([deploy.stdout, pkg.sha256]).apply(([, sha]) => sha);
    this.ready = ready ? ready.stdout.apply(() => true) : pulumi.output(true);
    this.registerOutputs({ deployedSha256: this.deployedSha256, ready: this.ready });
  }

  /**
   * Proves the slot, swaps it into production and proves production (deploy/swap.ts), with the deployer's own Entra
   * token for Azure Resource Manager. Nothing it is given is secret: hosts, the site's ARM ID, the ARM scope.
   */
  private swap(
    name: string,
    args: AppDeploymentArgs,
    slot: NonNullable<AppDeploymentArgs["stagingSlot"]>,
    triggers: pulumi.Input<unknown>[],
    readinessTimeout: pulumi.Output<string>,
    deploy: command.local.Command,
  ): command.local.Command {
    return new command.local.Command(
      `${name}-swap`,
      {
        create: SWAP_COMMAND,
        environment: {
          SWAP_SITE_ID: pulumi.output(args.siteId).apply(requireSiteId),
          SWAP_SLOT: pulumi.output(slot.name).apply(requireSlotName),
          SWAP_SLOT_HOST: host(slot.defaultHostName, "stagingSlot.defaultHostName"),
          SWAP_SLOT_SCM_HOST: host(slot.scmHostName, "stagingSlot.scmHostName"),
          SWAP_PRODUCTION_HOST: pulumi.output(args.defaultHostName).apply((h) => requireHostName(h, "defaultHostName")),
          SWAP_ARM_SCOPE: pulumi.output(args.armScope).apply(requireArmScope),
          SWAP_AFTER: pulumi.output(slot.afterSwap ?? DEFAULT_SLOT_AFTER_SWAP).apply(requireAfterSwap),
          READY_TIMEOUT_MINUTES: readinessTimeout,
        },
        triggers,
        logging: command.types.enums.local.Logging.StdoutAndStderr,
        addPreviousOutputInEnv: false,
      },
      { parent: this, dependsOn: [deploy] },
    );
  }
}

/**
 * The SCM host of a site, from the outputs App Service reports; never built by hand (unique host names carry a hash).
 */
export function scmHostNameOf(site: {
  readonly hostNameSslStates: pulumi.Output<readonly { hostType?: string; name?: string }[] | undefined>;
  readonly enabledHostNames: pulumi.Output<readonly string[] | undefined>;
}): pulumi.Output<string> {
  return pulumi
    .all([site.hostNameSslStates, site.enabledHostNames])
    .apply(([states, enabled]) => pickScmHostName(states, enabled));
}

/**
 * Picks the SCM host: the `hostNameSslStates` entry whose `hostType` is `Repository` (what `az webapp deploy` uses),
 * else the enabled host name with a `.scm.` label.
 */
export function pickScmHostName(
  states: readonly { hostType?: string; name?: string }[] | undefined,
  enabled: readonly string[] | undefined,
): string {
  const repository = states?.find((s) => s.hostType?.toLowerCase() === "repository" && s.name)?.name;
  const fallback = enabled?.find((h) => h.toLowerCase().includes(".scm."));
  const host = repository ?? fallback;
  if (!host) {
    throw new Error(
      "The web app reports no SCM (Repository) host name in hostNameSslStates or " +
        "enabledHostNames, so the app cannot be deployed. " +
        "Check the site is an App Service web app (not a container-only or static site) and run `pulumi refresh`.",
    );
  }
  return host.toLowerCase();
}

function validatePackage(pkg: AppPackageRef): AppPackageRef {
  const problems: string[] = [];
  if (
    typeof pkg?.zipPath !== "string" ||
    !/^[A-Za-z0-9._/-]+\.zip$/.test(pkg.zipPath) ||
    pkg.zipPath.startsWith("/") ||
    pkg.zipPath.split("/").includes("..")
  ) {
    problems.push(
      `package.zipPath must be a relative path to a .zip inside the project (e.g. ` +
        `dist/app.zip), got ${JSON.stringify(pkg?.zipPath)}`,
    );
  }
  if (typeof pkg?.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(pkg.sha256)) {
    problems.push(`package.sha256 must be 64 lower-case hex digits, got ${JSON.stringify(pkg?.sha256)}`);
  }
  refuseInvalidArguments(
    "AppDeployment",
    problems.map((reason) => ({ propertyPath: "package", reason: `${reason}. Pass what packageApp() returns.` })),
  );
  return { zipPath: pkg.zipPath, sha256: pkg.sha256 };
}

function requireHostName(host: string, field: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+$/i.test(host ?? "")) {
    refuseInvalidArguments("AppDeployment", [
      { propertyPath: field, reason: `${field} must be a bare host name, got ${JSON.stringify(host)}.` },
    ]);
  }
  return host.toLowerCase();
}

function requireArmScope(scope: string): string {
  if (!/^https:\/\/[a-z0-9.-]+\/\.default$/i.test(scope ?? "")) {
    refuseInvalidArguments("AppDeployment", [
      {
        propertyPath: "armScope",
        reason:
          `armScope must be an Azure Resource Manager scope such as ` +
          `https://management.azure.com/.default, got ${JSON.stringify(scope)}.`,
      },
    ]);
  }
  return scope;
}

function requireSiteId(id: string): string {
  const group = "\\/resourceGroups\\/[\\w.()-]{1,90}";
  const site = "\\/providers\\/Microsoft\\.Web\\/sites\\/[A-Za-z0-9-]{2,60}";
  if (!new RegExp(`^\\/subscriptions\\/[0-9a-f-]{36}${group}${site}$`, "i").test(id ?? "")) {
    const got = JSON.stringify(id);
    throw new Error(`Invalid AppDeployment arguments: siteId must be a web app's ARM resource ID, got ${got}.`);
  }
  return id;
}

/** A host name input, checked once it resolves. */
function host(value: pulumi.Input<string>, field: string): pulumi.Output<string> {
  return pulumi.output(value).apply((h) => requireHostName(h, field));
}

function requireSlotName(slot: string): string {
  if (!/^[a-z0-9][a-z0-9-]{0,58}$/i.test(slot ?? "")) {
    const got = JSON.stringify(slot);
    throw new Error(`Invalid AppDeployment arguments: stagingSlot.name must be a slot name, got ${got}.`);
  }
  return slot;
}

function requireAfterSwap(mode: string): string {
  const problem = slotAfterSwapProblem(mode);
  if (problem) throw new Error(`Invalid AppDeployment arguments: stagingSlot.afterSwap ${problem}`);
  return mode;
}

function requireReadinessPath(path: string): string {
  const problem = typeof path === "string" ? appPathProblem(path, "/healthz") : "must be a path such as /healthz.";
  if (problem) refuseInvalidArguments("AppDeployment", [{ propertyPath: "readinessPath", reason: problem }]);
  return path;
}

function requireTimeout(minutes: number): string {
  const problem = readinessTimeoutProblem(minutes);
  if (problem) refuseInvalidArguments("AppDeployment", [{ propertyPath: "readinessTimeoutMinutes", reason: problem }]);
  return String(minutes);
}
