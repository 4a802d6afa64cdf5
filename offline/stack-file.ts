import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { distance } from "fastest-levenshtein";
import { load } from "js-yaml";

/**
 * Reads a stack file (`Pulumi.<stack>.yaml`) the way the Pulumi CLI hands its `config:` block to a program, for the
 * offline plans. A missing or malformed file, or a key the program does not read, gets a message that names the file
 * and the fix: a plan-only user has no Pulumi CLI to ask.
 */

/** A stack file that cannot be read, with a message fit for the terminal (no stack trace needed). */
export class StackFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StackFileError";
  }
}

/** What a program reads from its stack files: its own namespace's keys, and the providers' namespaces it uses. */
export interface ConfigSchema {
  /** The project name of Pulumi.yaml: its keys are `<project>:<key>`. */
  readonly project: string;
  /** Every key of the project namespace the program reads. */
  readonly keys: readonly string[];
  /** Provider namespaces (e.g. `azure-native`) and their settings. Other namespaces the program never reads. */
  readonly providers: Readonly<Record<string, readonly string[]>>;
}

/** A stack file's configuration, flattened as the engine hands it over, and the keys nothing will read. */
export interface StackFile {
  /** The file, relative to the working directory, e.g. `Pulumi.dev.yaml`. */
  readonly file: string;
  /** Values as strings; arrays and objects JSON-encoded. */
  readonly config: Record<string, string>;
  /** One line per key the program does not read, with the close match it probably meant. */
  readonly warnings: string[];
}

/**
 * The stack name in `arg`: a stack name (`dev`), or a stack file's name or path (`Pulumi.dev.yaml`,
 * `./Pulumi.dev.yml`), which people pass as often as the name.
 */
export function stackNameOf(arg: string): string {
  return /(?:^|[\\/])Pulumi\.(.+)\.ya?ml$/.exec(arg)?.[1] ?? arg;
}

/**
 * Reads `<dir>/Pulumi.<stack>.yaml` (`stack` may also be that file's name), or `configFile` when given (the CLI's
 * `--config-file`, which it documents as "Use the configuration values in the specified file rather than detecting the
 * file name": https://www.pulumi.com/docs/iac/cli/commands/pulumi_config/), checking its keys against `schema`.
 */
export function readStackFile(dir: string, stackArg: string, schema: ConfigSchema, configFile?: string): StackFile {
  const stack = stackNameOf(stackArg);
  const path = configFile === undefined ? join(dir, `Pulumi.${stack}.yaml`) : resolve(configFile);
  const file = relative(process.cwd(), path) || path;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    const stacks = readdirSync(dir).flatMap((name) => /^Pulumi\.(.+)\.yaml$/.exec(name)?.[1] ?? []);
    const source = stacks.includes("dev") ? "dev" : stacks[0];
    const create =
      source !== undefined
        ? `Create it by copying one (cp ${
            relative(process.cwd(), join(dir, `Pulumi.${source}.yaml`)) || `Pulumi.${source}.yaml`
          } ${file}) and editing its values.`
        : `Create it with its values, e.g.:\ncat > ${file} <<'YAML'\nconfig:\n` +
          (schema.keys.includes("location") && schema.keys.includes("webAppName")
            ? `  ${schema.project}:location: westeurope\n  ${schema.project}:webAppName: contoso-signin\n`
            : `  ${schema.project}:<key>: <value>\n`) +
          "YAML";
    throw new StackFileError(
      `There is no stack file ${file} for the stack "${stack}".\n` +
        (stacks.length > 0 ? `Stacks with a file here: ${stacks.join(", ")}.\n` : "") +
        create,
    );
  }
  let parsed: unknown;
  try {
    parsed = load(text);
  } catch (error) {
    throw new StackFileError(`${file} is not valid YAML: ${(error as Error).message}`);
  }
  const block = parsed === undefined || parsed === null ? {} : (parsed as { config?: unknown }).config;
  if (
    typeof parsed !== "object" ||
    block === null ||
    (block !== undefined && (typeof block !== "object" || Array.isArray(block)))
  ) {
    throw new StackFileError(
      `${file} must be a map with a \`config:\` map of keys, ` +
        `e.g.\nconfig:\n  ${schema.project}:location: westeurope`,
    );
  }
  const config = Object.fromEntries(
    Object.entries(block ?? {}).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
  );
  const warnings = Object.keys(config).flatMap((key) => {
    const problem = unknownKey(key, schema);
    return problem ? [`${file}: ${problem}`] : [];
  });
  return { file, config, warnings };
}

/** Why the program would never read `key` (with the close match it probably meant), or undefined when it would. */
export function unknownKey(key: string, schema: ConfigSchema): string | undefined {
  const colon = key.indexOf(":");
  const namespace = colon < 0 ? schema.project : key.slice(0, colon);
  const name = key.slice(colon + 1);
  if (namespace === "pulumi") return undefined; // the engine's own settings (pulumi:tags, …)
  const known: Record<string, readonly string[]> = { [schema.project]: schema.keys, ...schema.providers };
  const keys = known[namespace];
  if (keys === undefined) {
    const guess = closeMatch(namespace, Object.keys(known));
    return (
      `"${key}" is in the namespace "${namespace}", which this ` +
      `program does not read; it is ignored.` +
      (guess ? ` Did you mean "${guess}:${name}"?` : "")
    );
  }
  if (keys.includes(name)) return undefined;
  const guess = closeMatch(name, keys);
  return (
    `"${key}" is not a setting this program ` +
    `reads; it is ignored.` +
    (guess ? ` Did you mean "${namespace}:${guess}"?` : "")
  );
}

/** The candidate `word` is probably a misspelling of: same letters in another case, or a few edits away. */
function closeMatch(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  let best: { candidate: string; score: number } | undefined;
  for (const candidate of candidates) {
    const score = distance(lower, candidate.toLowerCase());
    if (score <= Math.max(2, Math.floor(candidate.length / 3)) && (best === undefined || score < best.score))
      best = { candidate, score };
  }
  return best?.candidate;
}
