/**
 * The app in this process with telemetry on, against the emulator, sending to the emulator's ingestion stand-in (or
 * to the ingestion endpoint a test names): what the telemetry tests share.
 */
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import type { RunningEmulator, TelemetryEnvelope } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { createApp } from "../../app/app";
import { loadConfig } from "../../app/app-config";
import { createManagedIdentityTokenSource } from "../../app/auth/managed-identity";
import { startAppTelemetry, type ExportLimits } from "../../app/telemetry/start-telemetry";
import type { Telemetry } from "../../app/telemetry/telemetry";
import { HostingSetting } from "../../contract/settings";
import { TelemetrySetting } from "../../contract/telemetry";
import { freePort } from "../../local/child-app";
import { startLocalStack, type LocalStack, type InProcessApp } from "../../local/stack";
import { logLines } from "./app-stack";

export interface TelemetryStack {
  readonly emu: RunningEmulator;
  readonly baseUrl: string;
  readonly telemetry: Telemetry;
  /** Every JSON log line the app wrote locally. */
  readonly logs: string[];
}

export interface TelemetryStackOptions {
  readonly limits?: Partial<ExportLimits>;
  /** Another ingestion endpoint than the emulator's (an outage), given the emulator. */
  readonly ingestionEndpoint?: () => string;
}

/** Starts the emulator and the app with telemetry on before the file's first test, and stops both after its last. */
export function useTelemetryStack(options: TelemetryStackOptions = {}): TelemetryStack {
  const logs: string[] = [];
  const logStream = logLines(logs);
  let running: LocalStack<InProcessApp> | undefined;
  let telemetry: Telemetry | undefined;
  beforeAll(async () => {
    running = await startLocalStack(async (emu) => {
      trustEmulatorCertificate(emu);
      const env = { ...emu.appEnv(), ...emu.telemetryEnv() };
      if (options.ingestionEndpoint) {
        env[TelemetrySetting.ConnectionString] = env[TelemetrySetting.ConnectionString]!.replace(
          /IngestionEndpoint=[^;]*/,
          `IngestionEndpoint=${options.ingestionEndpoint()}`,
        );
      }
      process.env.IDENTITY_ENDPOINT = env.IDENTITY_ENDPOINT;
      process.env.IDENTITY_HEADER = env.IDENTITY_HEADER;
      const url = `http://127.0.0.1:${await freePort()}`;
      const config = loadConfig({ ...env, [HostingSetting.PublicBaseUrl]: url });
      const settings = config.telemetry!;
      const tokens = (steps: Telemetry) =>
        createManagedIdentityTokenSource({
          managedIdentityClientId: settings.identityClientId,
          identityEndpoint: config.identityEndpoint,
          telemetrySteps: steps,
        });
      telemetry = startAppTelemetry(config, settings, tokens, options.limits);
      const fastify = createApp(config, { telemetry, logStream, jwksCooldownMs: 0 });
      await fastify.listen({ host: "127.0.0.1", port: Number(new URL(url).port) });
      return {
        fastify,
        url: `http://127.0.0.1:${(fastify.server.address() as AddressInfo).port}`,
        close: async () => {
          await fastify.close();
          await telemetry?.shutdown();
        },
      };
    });
  }, 30_000);
  afterAll(async () => {
    await running?.close();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error("the stack is not running: use it inside a test");
    return value;
  };
  return {
    get emu() {
      return started(running).emu;
    },
    get baseUrl() {
      return started(running).app.url;
    },
    get telemetry() {
      return started(telemetry);
    },
    logs,
  };
}

/** The envelopes of one kind (`RequestData`, `RemoteDependencyData`, `MessageData`, `MetricData`). */
export function envelopesOf(emu: RunningEmulator, baseType: string): TelemetryEnvelope[] {
  return emu.telemetry.envelopes.filter((envelope) => envelope.data?.baseType === baseType);
}
