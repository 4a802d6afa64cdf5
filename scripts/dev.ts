// `npm run dev`: the sample app against the local Entra + managed-identity emulator, no Azure needed.
//
//   npm run dev                 app/server.ts through tsx (no build)
//   npm run dev -- --built      the App Service bundle, dist/app/server.js (run `npm run app:build` first)
//   PORT=4000 npm run dev       another port (default 3000)
//   npm run dev -- --redis      sessions in a local Redis (Debian's redis-server, TLS, ACL user = the identity's
//                               object ID, password = its managed-identity token), as the app runs scaled out
//                               (DEV_REDIS=1 does the same)
//   npm run dev -- --easy-auth  Easy Auth mode: the app behind a local stand-in for App Service's built-in
//                               authentication (local/easy-auth-proxy.ts), which signs in with the emulator and
//                               injects the platform's X-MS-CLIENT-PRINCIPAL headers; open the stand-in's URL
//
// The emulator registers http://localhost:<PORT>/signin-oidc as redirect URI and /signout-oidc as front-channel
// logout URL; the app gets the emulator's settings (AzureAd__*, IDENTITY_ENDPOINT/HEADER, NODE_EXTRA_CA_CERTS) and
// PUBLIC_BASE_URL=http://localhost:<PORT>, the one origin it builds URLs from and answers at (local/child-app.ts).
// Ctrl+C stops both.
//
// The emulator's certificate and key, and its port, are kept in .local-dev/ (git-ignored, local/dev-certificate.ts):
// the browser asks about the certificate on the first run only. Delete the folder to start afresh (LOCAL_DEV_DIR
// moves it).
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative, resolve } from "node:path";
import { trustEmulatorCertificate } from "../emulator/trust-certificate";
import { childApp, freePort } from "../local/child-app";
import { startEasyAuthProxy, type EasyAuthProxy } from "../local/easy-auth-proxy";
import { startRedisForApp } from "../local/redis";
import { loadDevEmulatorState, rememberDevEmulatorPort } from "../local/dev-certificate";
import { startLocalStack } from "../local/stack";
import { demoDirectory } from "../emulator/directory-users";

const ROOT = resolve(__dirname, "..");
// LOCAL_DEV_DIR moves it (the tests keep theirs out of the repository).
const DEV_STATE_DIR = process.env.LOCAL_DEV_DIR ? resolve(process.env.LOCAL_DEV_DIR) : join(ROOT, ".local-dev");

async function main(): Promise<void> {
  const built = process.argv.includes("--built");
  const port = Number(process.env.PORT || 3000);
  const entry = built ? join(ROOT, "dist", "app", "server.js") : join(ROOT, "app", "server.ts");
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run \`npm run app:build\` first`);
  await ensurePortFree(port);

  const args = built ? ["--enable-source-maps", entry] : ["--import", "tsx", entry];
  const easyAuth = process.argv.includes("--easy-auth");
  // Easy Auth mode: the stand-in takes PORT, the app a free port behind it that only the stand-in calls.
  const appPort = easyAuth ? await freePort() : port;
  const env = {
    ...process.env,
    LOG_LEVEL: process.env.LOG_LEVEL ?? "info",
    ...(easyAuth ? { SignIn__AuthMode: "easyAuth", EASY_AUTH_LOCAL_STAND_IN: "true" } : {}),
  };
  const withRedis = process.argv.includes("--redis") || process.env.DEV_REDIS === "1";
  let redis: Awaited<ReturnType<typeof startRedisForApp>> | undefined;
  // Telemetry goes to the emulator's Application Insights stand-in unless --no-telemetry (or DEV_TELEMETRY=0).
  const withTelemetry = !process.argv.includes("--no-telemetry") && process.env.DEV_TELEMETRY !== "0";
  const overrides = async (emu: Parameters<typeof startRedisForApp>[0]): Promise<Record<string, string>> => {
    if (withRedis) redis = await startRedisForApp(emu);
    return { ...(withTelemetry ? emu.telemetryEnv() : {}), ...redis?.env };
  };
  const launch = childApp({ args, port: appPort, env, cwd: ROOT, overrides });
  const kept = await loadDevEmulatorState(DEV_STATE_DIR);
  const { certificate } = kept;
  // The demo directory: the sign-in page lets you pick a user with another role (emulator/directory-users.ts).
  const registration = demoDirectory();
  const stack = await startLocalStack(launch, { certificate, registration, port: kept.port ?? 0 }).catch(
    (error: unknown) =>
      // Last run's port is taken now: any free port (the browser then asks once more, for the new port).
      (error as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? startLocalStack(launch, { certificate, registration })
        : Promise.reject(error),
  );
  const { emu, app } = stack;
  const emulatorPort = Number(new URL(emu.instance).port);
  await rememberDevEmulatorPort(DEV_STATE_DIR, emulatorPort);
  let proxy: EasyAuthProxy | undefined;
  if (easyAuth) {
    trustEmulatorCertificate(emu);
    proxy = await startEasyAuthProxy({ emu, upstream: app.url, port });
    // As the stack registers it in Easy Auth mode: Easy Auth's callback is the only redirect URI.
    emu.setRedirectUris([proxy.redirectUri]);
  }
  const close = async (): Promise<void> => {
    await proxy?.close();
    await stack.close();
    await redis?.close();
  };

  console.log(`Entra emulator   ${emu.instance} (tenant ${emu.tenantId}, app ${emu.registration.clientId})`);
  console.log(`MI endpoint      ${emu.identityEndpoint} (identity ${emu.registration.uami.clientId})`);
  console.log(
    withTelemetry
      ? `Telemetry        ${emu.instance}_emulator/telemetry (what the app sent to the Application Insights stand-in)`
      : "Telemetry        off (--no-telemetry)",
  );
  console.log(`Test user        ${emu.registration.user.name} <${emu.registration.user.preferredUsername}>`);
  if (redis)
    console.log(
      `Redis            rediss://${redis.redis.host}:${redis.redis.port} (user ` +
        `${redis.redis.username}, password: its managed-identity token)`,
    );
  console.log(`App              ${built ? "dist/app/server.js" : "app/server.ts"}\n`);
  if (kept.newCertificate || emulatorPort !== kept.port) {
    console.log(
      `The browser will warn once about ${emu.instance}: the emulator's self-signed certificate for localhost ` +
        `(kept in ${relative(ROOT, DEV_STATE_DIR) || "."}/ for the next runs). Accept it for localhost; it is not ` +
        `trusted anywhere else.\n`,
    );
  }
  // startLocalStack returns once the emulator listens and the app answers its health check: both are ready now.
  if (proxy)
    console.log(`Easy Auth        ${proxy.url} (local stand-in for App Service authentication) -> app ${app.url}\n`);
  console.log(`Open ${proxy?.url ?? app.url}/ and sign in. Ctrl+C stops the app and the emulator.\n`);

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await close();
    process.exit(code);
  };
  process.once("SIGINT", () => void stop(0));
  process.once("SIGTERM", () => void stop(0));
  void app.exited.then((code) => {
    if (!stopping) console.error(`app exited (${code ?? "signal"}); stopping the emulator`);
    void stop(code ?? 0);
  });
}

/** Fails with the fix when something already listens on the app's port (the app binds 127.0.0.1, as here). */
async function ensurePortFree(port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once("error", (error: NodeJS.ErrnoException) =>
      reject(
        error.code === "EADDRINUSE"
          ? new Error(
              `Port ${port} is already in use (another program, or an earlier npm run ` +
                `dev). Pick another: PORT=${port + 1} npm run dev`,
            )
          : error,
      ),
    );
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve()));
  });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
