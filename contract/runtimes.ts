/**
 * The catalogue of Linux runtime stacks an app of your own may run on (components/own-app-config.ts), and the rules
 * that check a runtime stack against it and a start command against that runtime's image. Written once, applied by
 * the stack parser, the component's argument checks and the policy pack. Apart from catalogue.ts and rules.ts, which
 * the sample app bundles: esbuild's minifier renames symbols by what a module declares, so even a list the app never
 * reads would change the sample package's bytes, and with them its hash and a redeploy nobody asked for.
 */

/**
 * The Linux runtime stacks (`siteConfig.linuxFxVersion`) a package of your own may run on, by family. The format is
 * `<STACK>|<version>` as App Service's configuration pages set it (`az webapp config set --linux-fx-version
 * "PYTHON|3.11"`, learn.microsoft.com/azure/app-service/configure-language-python#configure-python-version; likewise
 * `NODE|<major>-lts` and `DOTNETCORE|<major>.0` in configure-language-nodejs and configure-language-dotnetcore). The
 * versions are those `az webapp list-runtimes --os linux` lists (App Service's web app stacks API) that are still in
 * community support (learn.microsoft.com/azure/app-service/language-support-policy follows each language's own
 * timeline); check that command again before a release, as for the Node versions in catalogue.ts.
 *
 * Java (`JAVA|…`, `TOMCAT|…`, `JBOSSEAP|…`) is left out on purpose: its packages are a jar or war, which OneDeploy
 * takes as `type=jar`/`type=war` (learn.microsoft.com/azure/app-service/deploy-zip#kudu-publish-api-reference),
 * while the deploy step pushes a zip (`type=zip`). PHP is left out too: nothing here checks how its image starts an
 * app. Either can join in a reviewed change, with the start programs below.
 */
export const runtimeStacks = {
  NODE: ["NODE|20-lts", "NODE|22-lts", "NODE|24-lts"],
  DOTNETCORE: ["DOTNETCORE|8.0", "DOTNETCORE|9.0", "DOTNETCORE|10.0"],
  PYTHON: ["PYTHON|3.10", "PYTHON|3.11", "PYTHON|3.12", "PYTHON|3.13", "PYTHON|3.14"],
} as const;
export type RuntimeFamily = keyof typeof runtimeStacks;
export type RuntimeStack = (typeof runtimeStacks)[RuntimeFamily][number];

/**
 * Every runtime stack of the catalogue, in one list: what the stack and the policy pack accept. A function, so the
 * sample app's bundle (which imports this file for other values) does not carry the list.
 */
export function allRuntimeStacks(): readonly RuntimeStack[] {
  return Object.values(runtimeStacks).flat();
}

/**
 * The programs a family's built-in image starts an app with, as the first word of a start command (App Service's
 * `appCommandLine`): a command naming another family's program is refused, since each built-in image is made for
 * its own language and nothing promises the other's program in it. A shell running a script of the package
 * (`sh start.sh`, `./start.sh`) is allowed for every family.
 * - Node: `node`, the package managers `npm`, `npx`, `yarn`, and PM2 (`pm2`, `pm2-runtime`), which the Node image
 *   documents for process management (learn.microsoft.com/azure/app-service/configure-language-nodejs).
 * - Python: `python`, `python3`, Gunicorn (the image's default server) and the ASGI servers a package vendors
 *   (`uvicorn`, `hypercorn`, `daphne`) (learn.microsoft.com/azure/app-service/configure-language-python: "Python apps
 *   must be deployed with all the required pip modules", and its "Customize startup command").
 * - .NET: `dotnet <app>.dll`: "ASP.NET Core apps must be deployed to Azure App Service as compiled binaries"
 *   (learn.microsoft.com/azure/app-service/configure-language-dotnetcore).
 */
export const runtimeStartPrograms: { readonly [family in RuntimeFamily]: readonly string[] } = {
  NODE: ["node", "npm", "npx", "yarn", "pm2", "pm2-runtime"],
  DOTNETCORE: ["dotnet"],
  PYTHON: ["python", "python3", "gunicorn", "uvicorn", "hypercorn", "daphne"],
};

/** The shells every built-in Linux image has, which may run a start script of the package. */
export const START_SHELLS = ["sh", "bash"] as const;
/** The family (`NODE`, `DOTNETCORE`, `PYTHON`) of a catalogue runtime stack in ARM's spelling; else undefined. */
export function runtimeFamilyOf(stack: string): RuntimeFamily | undefined {
  return (Object.keys(runtimeStacks) as RuntimeFamily[]).find((family) =>
    (runtimeStacks[family] as readonly string[]).includes(stack),
  );
}

/** A Linux runtime stack (`linuxFxVersion`) of the catalogue, matched exactly as App Service spells it. */
export function runtimeStackProblem(stack: string): string | undefined {
  if (runtimeFamilyOf(stack)) return undefined;
  const near = allRuntimeStacks().find((s) => s.toLowerCase() === stack.toLowerCase().replace(/\s+/g, ""));
  const hint = near
    ? ` App Service spells it ${near}.`
    : /^(JAVA|TOMCAT|JBOSSEAP)\|/i.test(stack)
      ? " Java packages are jar or war files, which this stack's zip deployment does not push."
      : "";
  const all = allRuntimeStacks().join(", ");
  return `"${stack}" is not a Linux runtime stack this project deploys to.${hint} Use one of ${all}.`;
}

/** The longest start command accepted: a command line, not a script (put a script in the package). */
export const MAX_STARTUP_COMMAND_LENGTH = 512;

/**
 * A start command (`appCommandLine`) for a runtime stack of the catalogue: one line of printable characters whose
 * program (its first word) is one the stack's image starts apps with, or a shell or script of the package. Naming
 * another family's program (`node` on `PYTHON|3.12`, `dotnet` on `NODE|22-lts`) cannot start, so it is refused.
 */
export function startupCommandProblem(command: string, stack: string): string | undefined {
  if (command.length > MAX_STARTUP_COMMAND_LENGTH) {
    return (
      `is ${command.length} characters long; keep it to ${MAX_STARTUP_COMMAND_LENGTH} and put longer start logic in ` +
      "a script of the package (sh start.sh)."
    );
  }
  if (/[\u0000-\u001f\u007f]/.test(command)) {
    return "holds a line break or another control character; a start command is one line (use a script for more).";
  }
  const family = runtimeFamilyOf(stack);
  if (!family) return undefined;
  const program = (command.trim().split(/\s+/)[0] ?? "").replace(/^.*\//, "");
  const ownPrograms = runtimeStartPrograms[family];
  if (ownPrograms.includes(program) || (START_SHELLS as readonly string[]).includes(program)) return undefined;
  const other = (Object.keys(runtimeStartPrograms) as RuntimeFamily[]).find(
    (f) => f !== family && runtimeStartPrograms[f].includes(program),
  );
  if (other) {
    return (
      `"${command}" starts ${program}, which is not a program of the ${stack} image; start the app with ` +
      `${ownPrograms.join(", ")} (or a script of the package), or set runtimeStack to a ${other} stack ` +
      `(${runtimeStacks[other].at(-1)}).`
    );
  }
  // Anything else is a program of the package itself (./MyApp, a script): the image cannot tell, nor can this check.
  return undefined;
}
