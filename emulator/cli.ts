/**
 * Runs the emulator from the command line until Ctrl+C:
 *
 *   npx tsx emulator/cli.ts [--app-url http://localhost:3000] [--port 0] [--mi-port 0]
 *
 * It registers `<app-url>/signin-oidc` as redirect URI and `<app-url>/signout-oidc` as front-channel logout URL, then
 * prints the endpoints and the environment an app needs (as `export` lines, ready to paste into a shell): the
 * emulator's settings plus PUBLIC_BASE_URL (the app URL), PORT (its port) and, for a loopback URL, HOST=127.0.0.1,
 * so `npm run app:start` (or `npx tsx app/server.ts`) in that shell serves the app at exactly that URL.
 */
import { parseArgs } from "node:util";
import { HostingSetting } from "../contract/settings";
import { appRegistrationFor, startEmulator } from "./index";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      "app-url": { type: "string", default: "http://localhost:3000" },
      port: { type: "string", default: "0" },
      "mi-port": { type: "string", default: "0" },
    },
  });
  const parsed = URL.canParse(values["app-url"]) ? new URL(values["app-url"]) : undefined;
  if (!parsed || !/^https?:$/.test(parsed.protocol) || parsed.pathname !== "/" || parsed.search || parsed.hash) {
    const given = values["app-url"];
    throw new Error(`--app-url "${given}" must be an origin such as http://localhost:3000 (no path or query)`);
  }
  const appUrl = parsed.origin;
  const appPort = parsed.port || (parsed.protocol === "https:" ? "443" : "80");
  const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(parsed.hostname);
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
  const appEnv = {
    ...emu.appEnv(),
    [HostingSetting.PublicBaseUrl]: appUrl,
    PORT: appPort,
    // The app listens on 0.0.0.0 by default; a local URL needs only loopback.
    ...(loopback ? { HOST: "127.0.0.1" } : {}),
  };
  for (const [name, value] of Object.entries(appEnv)) console.log(`export ${name}=${shellQuote(value)}`);
  console.log(`\nPress Ctrl+C to stop.`);

  const stop = () => {
    void emu.close().then(() => process.exit(0));
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
