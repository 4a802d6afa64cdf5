// Entry point: App Service runs `node server.js` (the bundle of this file). Everything testable lives in app.ts.
import { createApp } from "./app";
import { ConfigError, loadConfig, type AppConfig } from "./app-config";
import { createManagedIdentityTokenSource } from "./auth/managed-identity";
import { startupFailure } from "./startup";
import { TELEMETRY_OFF } from "./telemetry/telemetry";

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // Readable on a terminal; a JSON line like every other log line otherwise (App Service's log stream).
      const readable = `${error.message}\nTo run it locally with the emulator's settings: npm run dev`;
      process.stderr.write(
        startupFailure(
          { level: 50, msg: error.message, problems: error.problems },
          readable,
          process.stderr.isTTY === true,
        ),
      );
      process.exit(1);
    }
    throw error;
  }

  // Telemetry's SDK is loaded only when a connection string turns it on (esbuild keeps this import lazy).
  const settings = config.telemetry;
  const telemetry = settings
    ? (await import("./telemetry/start-telemetry.js")).startAppTelemetry(config, settings, (steps) =>
        createManagedIdentityTokenSource({
          managedIdentityClientId: settings.identityClientId,
          identityEndpoint: config.identityEndpoint,
          telemetrySteps: steps,
        }),
      )
    : TELEMETRY_OFF;
  const app = createApp(config, { telemetry });
  // App Service forwards to the container on PORT; 0.0.0.0 so its front end can reach it. HOST narrows it locally.
  const host = process.env.HOST || "0.0.0.0";
  // The socket's address (127.0.0.1, 0.0.0.0) is not where browsers reach the app: name the public origin too.
  const publicUrl = `${config.publicOrigins[0]}/`;
  const listenTextResolver = (address: string): string => `listening on ${address}; open ${publicUrl}`;
  await app.listen({ port: config.port, host, listenTextResolver });
  app.log.info(
    {
      authority: config.authority,
      clientId: config.clientId,
      managedIdentityClientId: config.managedIdentityClientId,
      callbackPath: config.callbackPath,
    },
    "sample app ready",
  );

  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, "shutting down");
    const timer = setTimeout(() => {
      app.log.error("graceful shutdown timed out");
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    app.close().then(
      // What is queued still goes out, for at most half the shutdown budget: a hanging ingestion never turns a
      // graceful stop into a timed-out one.
      () => {
        const budget = new Promise((resolve) => setTimeout(resolve, SHUTDOWN_TIMEOUT_MS / 2).unref());
        Promise.race([telemetry.shutdown(), budget]).finally(() => process.exit(0));
      },
      (error: unknown) => {
        app.log.error({ err: error }, "error during shutdown");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
}

main().catch((error: unknown) => {
  const entry = { level: 60, msg: "sample app failed to start", err: String(error) };
  process.stderr.write(startupFailure(entry, `${entry.msg}: ${entry.err}`, process.stderr.isTTY === true));
  process.exit(1);
});
