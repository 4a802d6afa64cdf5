/**
 * Runs the emulator from the command line until Ctrl+C:
 *
 *   npx tsx emulator/cli.ts [--app-url http://localhost:3000] [--port 0] [--mi-port 0]
 *
 * It registers `<app-url>/signin-oidc` as redirect URI and `<app-url>/signout-oidc` as front-channel logout URL, then
 * prints the endpoints and the environment an app needs (as `export` lines, ready to paste into a shell).
 */
import { parseArgs } from "node:util";
import { appRegistrationFor, startEmulator } from "./index";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "app-url": { type: "string", default: "http://localhost:3000" },
      port: { type: "string", default: "0" },
      "mi-port": { type: "string", default: "0" },
    },
  });
  const appUrl = values["app-url"].replace(/\/$/, "");
  const emu = await startEmulator({
    port: Number(values.port),
    miPort: Number(values["mi-port"]),
    registration: appRegistrationFor(appUrl),
  });

  const shellQuote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  console.log(`Entra emulator      ${emu.instance}`);
  console.log(`  tenant            ${emu.tenantId}`);
  console.log(`  client id         ${emu.registration.clientId}`);
  console.log(`  test user         ${emu.registration.user.name} <${emu.registration.user.preferredUsername}>`);
  console.log(`  redirect URI      ${emu.registration.redirectUris.join(", ")}`);
  console.log(`Graph stand-in      ${emu.graphBaseUrl}/me`);
  console.log(`MI endpoint         ${emu.identityEndpoint}`);
  console.log(`\nApp environment:`);
  for (const [name, value] of Object.entries(emu.appEnv())) console.log(`export ${name}=${shellQuote(value)}`);
  console.log(`\nPress Ctrl+C to stop.`);

  const stop = () => {
    void emu.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
