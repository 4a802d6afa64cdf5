/**
 * `npm run migrate -- <phase> [flags]`: walks an app registration and its Linux web app off a client secret
 * (README "Migrate off a client secret"; the logic is in migrate/). Authenticates as the operator with
 * DefaultAzureCredential (`az login` on a laptop). Prints names, hints and expiry dates, never a secret value.
 */
import { DefaultAzureCredential } from "@azure/identity";
import { DeployStepError, ExitCode, oneLine } from "../deploy/cli";
import { runMigration } from "../migrate/migration";
import { parseMigrateArgs, USAGE } from "../migrate/options";

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function main(): Promise<void> {
  if (process.argv.includes("--help") || process.argv.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const options = parseMigrateArgs(process.argv.slice(2));
  await runMigration(options, {
    credential: new DefaultAzureCredential(),
    log: (line) => console.log(line),
    readSecret: readStdin,
  });
}

main().then(
  () => {
    process.exitCode = ExitCode.Ok;
  },
  (error: unknown) => {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
      console.error(`migrate: error: ${oneLine((error as Error).message)}`);
      console.error(`migrate: usage: ${USAGE}`);
      process.exitCode = ExitCode.BadInput;
    } else if (error instanceof DeployStepError) {
      console.error(`migrate: error: ${error.message}`);
      console.error(`migrate: fix: ${error.fix}`);
      process.exitCode = error.exitCode;
    } else {
      console.error(`migrate: unexpected error: ${oneLine(error instanceof Error ? error.message : String(error))}`);
      process.exitCode = ExitCode.Unexpected;
    }
  },
);
