/**
 * Bring your own app, on the configuration side: `appPackagePath` (a zip or a folder of your built app),
 * `runtimeStack` (the Linux runtime it runs on), `startupCommand` (App Service's `appCommandLine`) and `readinessPath`
 * (where the deploy step waits for a 200). Unset, the stack deploys the bundled sample app exactly as before.
 *
 * Every combination that cannot work is refused here, before anything registers, each with its fix: a package without
 * a runtime, a runtime without a package (unless deployApp is false: provisioning for a package you deploy yourself),
 * a start command another runtime's image would have to run, a readiness wait with nowhere to wait, and the options
 * that are built around the sample app's `/readyz` contract (a staging slot's swap guard; Easy Auth's excluded paths).
 */
import { type NodeVersion, DEFAULT_NODE_VERSION } from "../contract/catalogue";
import type { RuntimeStack } from "../contract/runtimes";
import { AdoptKey } from "../contract/adopt";
import { EASY_AUTH_EXCLUDED_PATHS } from "../contract/easy-auth";
import { READINESS_PATH } from "../contract/readiness";
import { appPathProblem } from "../contract/rules";
import { runtimeStackProblem, startupCommandProblem } from "../contract/runtimes";
import { ownAppPackageProblem } from "../deploy/package-own-app";
import type { Reader } from "./stack-config-keys";

/** What the stack deploys and how it starts and waits for it. */
export interface OwnAppConfig {
  /** A zip or folder of your own, relative to the project folder; undefined deploys the bundled sample app. */
  appPackagePath?: string;
  /** `siteConfig.linuxFxVersion` of your own app; undefined: the sample app's `NODE|<nodeVersion>-lts`. */
  runtimeStack?: RuntimeStack;
  /**
   * `siteConfig.appCommandLine` of your own app: the configured command, or "" for the image's own start-up
   * detection; undefined: the sample app's `node server.js`.
   */
  startupCommand?: string;
  /**
   * Where the deploy step waits: undefined for the sample app's `/readyz` and its readiness contract; a path of your
   * app, ready on a 200; (with waitForReady false) no wait at all.
   */
  readinessPath?: string;
}

/** The sample app's start command: its esbuild bundle. */
export const SAMPLE_STARTUP_COMMAND = "node server.js";

/** The keys that describe your own app; set without a runtime stack, they would describe the sample app. */
const OWN_APP_KEYS = ["startupCommand", "readinessPath"] as const;

/** Reads the own-app keys against the rest of the configuration. */
export function readOwnApp(
  r: Reader,
  o: { deployApp: boolean; waitForReady: boolean; stagingSlot: boolean; nodeVersion: NodeVersion },
): OwnAppConfig {
  // An adopted site runs its owner's app: components/adopt-config.ts refuses every own-app key there, with the fix.
  if (r.value(AdoptKey.WebAppName) !== undefined) return {};
  const appPackagePath = r.optional("appPackagePath", (p) => ownAppPackageProblem(p));
  const runtimeStack = r.optional("runtimeStack", runtimeStackProblem);
  if (runtimeStack === undefined) {
    if (appPackagePath !== undefined) {
      r.report(
        "runtimeStack",
        "is unset, but appPackagePath names your own package: say what it runs on, e.g. " +
          "pulumi config set runtimeStack 'DOTNETCORE|8.0' (or NODE|22-lts, PYTHON|3.12).",
      );
    }
    for (const key of OWN_APP_KEYS) {
      if (r.value(key) !== undefined && appPackagePath === undefined) {
        r.report(
          key,
          `is set, but the stack deploys the bundled sample app (no appPackagePath and runtimeStack), which starts ` +
            `with ${SAMPLE_STARTUP_COMMAND} and is ready at ${READINESS_PATH}; remove it (pulumi config rm ${key}).`,
        );
      }
    }
    return {};
  }

  // Your own app: what it runs on, how it starts and where the deploy step waits for it.
  if (appPackagePath === undefined && o.deployApp) {
    r.report(
      "runtimeStack",
      "is set but appPackagePath is not, so there is no package of yours to deploy on it: set appPackagePath to " +
        "your zip or build folder (pulumi config set appPackagePath publish), or set deployApp to false to " +
        "provision the site for a package you deploy yourself.",
    );
  }
  if (appPackagePath !== undefined && !o.deployApp) {
    r.report(
      "appPackagePath",
      "is set but deployApp is false, so nothing would deploy it; set deployApp to true, or remove appPackagePath " +
        "(pulumi config rm appPackagePath) to provision only.",
    );
  }
  if (o.nodeVersion !== DEFAULT_NODE_VERSION) {
    r.report(
      "nodeVersion",
      `is ${o.nodeVersion}, but it picks the sample app's runtime; your app runs on runtimeStack ` +
        `(${runtimeStack}). Remove nodeVersion (pulumi config rm nodeVersion) and set runtimeStack, e.g. ` +
        `NODE|${o.nodeVersion}-lts.`,
    );
  }
  const startupCommand = r.optional("startupCommand", (c) => startupCommandProblem(c, runtimeStack)) ?? "";
  const readinessPath = r.optional("readinessPath", (p) => appPathProblem(p, "/healthz"));
  if (appPackagePath !== undefined && o.deployApp && o.waitForReady && readinessPath === undefined) {
    r.report(
      "readinessPath",
      "is unset, so the deploy step has nowhere to wait for your app: set a path your app answers 200 on without " +
        "sign-in once it can sign users in (pulumi config set readinessPath /ready), or set waitForReady to false.",
    );
  }
  if (o.stagingSlot) {
    r.report(
      "stagingSlot",
      `is true, but the swap is guarded by the sample app's ${READINESS_PATH} readiness contract (and App ` +
        "Service's swap warm-up pings it), which your app does not answer; set stagingSlot to false to deploy " +
        "your app in place.",
    );
  }
  const authMode = r.value("authMode");
  const excluded: readonly string[] = EASY_AUTH_EXCLUDED_PATHS;
  if (authMode === "easyAuth" && readinessPath !== undefined && !excluded.includes(readinessPath)) {
    r.report(
      "readinessPath",
      `is "${readinessPath}", but with authMode easyAuth every path except ${excluded.join(" and ")} is behind ` +
        "sign-in, so the wait would only ever see a redirect; serve readiness at /readyz " +
        "(pulumi config set readinessPath /readyz) or set waitForReady to false.",
    );
  }
  return { appPackagePath, runtimeStack: runtimeStack as RuntimeStack, startupCommand, readinessPath };
}
