// Entry point: App Service runs `node server.js` (the bundle of this file). Everything testable lives in app.ts.
import { createApp } from "./app";
import { ConfigError, loadConfig, type AppConfig } from "./config";

const SHUTDOWN_TIMEOUT_MS = 10_000;

async function main(): Promise<void> {
  let config: AppConfig;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      // A JSON line like every other log line, so App Service's log stream shows it plainly.
      process.stderr.write(`${JSON.stringify({ level: 50, time: Date.now(), msg: error.message, problems: error.problems })}\n`);
      process.exit(1);
    }
    throw error;
  }

  const app = createApp(config);
  // App Service forwards to the container on PORT; 0.0.0.0 so its front end can reach it. HOST narrows it locally.
  const host = process.env.HOST || "0.0.0.0";
  await app.listen({ port: config.port, host });
  app.log.info(
    { authority: config.authority, clientId: config.clientId, managedIdentityClientId: config.managedIdentityClientId, callbackPath: config.callbackPath },
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
      () => process.exit(0),
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
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: "sample app failed to start", err: String(error) })}\n`);
  process.exit(1);
});
