/**
 * The local world a migration off a client secret runs against: the emulator holding a registration with a client
 * secret and no federated credential, the fake ARM holding a Linux web app whose settings sign in with that secret,
 * and the sample app running with exactly the site's settings (plus what App Service itself adds: the
 * managed-identity endpoint once the site wears an identity). A settings write restarts the app with the new
 * settings, as App Service does.
 */
import { spawn, type ChildProcess } from "node:child_process";
import type { FastifyInstance } from "fastify";
import { createApp } from "../../app/app";
import { loadConfig } from "../../app/app-config";
import { HEALTH_CHECK_PATH } from "../../contract/routes";
import { DEFAULT_CALLBACK_PATH, DownstreamApiSetting, HostingSetting } from "../../contract/settings";
import { appRegistrationFor, startEmulator, type RunningEmulator } from "../../emulator";
import { createLocalhostCertificate, type SelfSignedCertificate } from "../../emulator/certificate";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { freePort } from "../../local/child-app";
import { type FakeArm, type FakeSite, startFakeArm } from "../../local/fake-arm";
import { operatorCredential } from "../../local/operator-credential";
import { type MigrateOptions, parseMigrateArgs } from "../../migrate/options";

export const SECRET = "Xq7~legacy-client-secret-value-0123456789";
export const SECRET_KEY_ID = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0";
export const OPERATOR = "7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9";
const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg-contoso";
export const SITE_ID = `${SUB}/providers/Microsoft.Web/sites/app-contoso`;
export const IDENTITY_ID = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-app-contoso`;

/** Runs the app with `env` on `port`; how depends on the test tier. */
export type AppRunner = (env: Record<string, string>, port: number) => Promise<{ close(): Promise<void> }>;

export interface MigrationWorld {
  readonly emu: RunningEmulator;
  readonly arm: FakeArm;
  readonly site: FakeSite;
  readonly appUrl: string;
  /** Every line the command printed, and every message of an error it stopped with. */
  readonly output: string[];
  /** Options for a phase, with the world's endpoints; `extra` are more flags. */
  options(phase: string, ...extra: string[]): MigrateOptions;
  /** The operator's credential (owner of the registration, roles on the site and identity group by default). */
  credential: ReturnType<typeof operatorCredential>;
  /**
   * Puts the world back as it started (registration, site, identities, role assignments, output) and restarts the
   * app. msal-node reads the managed-identity endpoint once per process, so an in-process app needs one emulator per
   * file: reset between tests instead of starting another world.
   */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The app in this process (integration tier): createApp on the port, the emulator trusted here. */
export const inProcessRunner: AppRunner = async (env, port) => {
  for (const name of ["IDENTITY_ENDPOINT", "IDENTITY_HEADER"]) {
    if (env[name]) process.env[name] = env[name];
    else delete process.env[name];
  }
  const fastify: FastifyInstance = createApp(loadConfig(env), { logger: false });
  await fastify.listen({ host: "127.0.0.1", port });
  return { close: () => fastify.close() };
};

/** The built app as a child process (e2e tier), as App Service runs it. */
export function childRunner(server: string, output: string[]): AppRunner {
  return async (env, port) => {
    const child: ChildProcess = spawn(process.execPath, [server], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (c: Buffer) => output.push(c.toString("utf8")));
    child.stderr!.on("data", (c: Buffer) => output.push(c.toString("utf8")));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    for (let i = 0; i < 200; i++) {
      if (child.exitCode !== null) throw new Error(`the app exited:\n${output.join("")}`);
      if (
        await fetch(`http://127.0.0.1:${port}${HEALTH_CHECK_PATH}`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    return {
      close: async () => {
        if (child.exitCode === null) child.kill("SIGTERM");
        await exited;
      },
    };
  };
}

/** One certificate for every world of a process: fetch keeps trusting the first one it was given. */
let certificate: Promise<SelfSignedCertificate> | undefined;

export async function startMigrationWorld(run: AppRunner): Promise<MigrationWorld> {
  certificate ??= createLocalhostCertificate();
  const emu = await startEmulator({
    certificate: await certificate,
    registration: {
      federatedCredentials: [],
      passwordCredentials: [
        {
          keyId: SECRET_KEY_ID,
          displayName: "web app secret",
          secretText: SECRET,
          endDateTime: new Date(Date.now() + 90 * 86_400_000).toISOString(),
        },
      ],
      owners: [OPERATOR],
    },
  });
  trustEmulatorCertificate(emu);
  const port = await freePort();
  const appUrl = `http://localhost:${port}`;
  Object.assign(emu.registration, appRegistrationFor(appUrl));

  let app: { close(): Promise<void> } | undefined;
  const envOf = (s: FakeSite): Record<string, string> => ({
    ...s.appSettings,
    // What App Service adds itself: the managed-identity endpoint only while the site wears an identity.
    ...(s.identity.type === "None"
      ? {}
      : { IDENTITY_ENDPOINT: emu.identityEndpoint, IDENTITY_HEADER: emu.identityHeader }),
    NODE_EXTRA_CA_CERTS: emu.caCertPath,
    PORT: String(port),
    HOST: "127.0.0.1",
    [HostingSetting.PublicBaseUrl]: appUrl,
  });
  const restart = async (s: FakeSite) => {
    await app?.close();
    app = await run(envOf(s), port);
  };
  const arm = await startFakeArm({
    verify: (token, audience) => emu.verifyAccessToken(token, audience),
    tenantId: emu.tenantId,
    // The identity the command creates is the one the emulator's managed-identity endpoint serves.
    newIdentityIds: () => ({
      clientId: emu.registration.uami.clientId,
      principalId: emu.registration.uami.principalId,
    }),
    onSettingsChanged: restart,
  });
  const site = arm.addSite({
    id: SITE_ID,
    kind: "app,linux",
    location: "westeurope",
    linuxFxVersion: "NODE|22-lts",
    serverFarmId: `${SUB}/providers/Microsoft.Web/serverfarms/plan-contoso`,
    appSettings: {
      AzureAd__Instance: emu.instance,
      AzureAd__TenantId: emu.tenantId,
      AzureAd__ClientId: emu.registration.clientId,
      AzureAd__CallbackPath: DEFAULT_CALLBACK_PATH,
      AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__0__ClientSecret: SECRET,
      [DownstreamApiSetting.GraphBaseUrl]: emu.graphBaseUrl,
      WEBSITE_RUN_FROM_PACKAGE: "1",
    },
  });
  const grantRoles = () => {
    arm.unassign(OPERATOR);
    arm.assign(OPERATOR, "Website Contributor", SITE_ID);
    arm.assign(OPERATOR, "Managed Identity Contributor", SUB);
    arm.assign(OPERATOR, "Managed Identity Operator", SUB);
  };
  grantRoles();
  const startRegistration = structuredClone(emu.registration);
  const startSettings = { ...site.appSettings };
  await restart(site);

  const output: string[] = [];
  const world: MigrationWorld = {
    emu,
    arm,
    site,
    appUrl,
    output,
    credential: operatorCredential(emu, { oid: OPERATOR }),
    options: (phase, ...extra) =>
      parseMigrateArgs([
        phase,
        "--client-id",
        emu.registration.clientId,
        "--site-id",
        SITE_ID,
        "--identity-id",
        IDENTITY_ID,
        "--arm-url",
        arm.url,
        "--graph-url",
        emu.graphBaseUrl,
        "--instance",
        emu.instance,
        "--proof-timeout-seconds",
        "20",
        "--proof-interval-ms",
        "200",
        ...extra,
      ]),
    async reset() {
      const { registration } = emu;
      for (const key of Object.keys(registration)) delete (registration as unknown as Record<string, unknown>)[key];
      Object.assign(registration, structuredClone(startRegistration));
      emu.resetFaults();
      site.appSettings = { ...startSettings };
      site.identity = { type: "None", userAssignedIdentityIds: [] };
      arm.identities.clear();
      arm.requests.splice(0);
      for (const id of arm.assignedPrincipals()) arm.unassign(id);
      grantRoles();
      output.splice(0);
      world.credential = operatorCredential(emu, { oid: OPERATOR });
      await restart(site);
    },
    async close() {
      await app?.close();
      await arm.close();
      await emu.close();
    },
  };
  return world;
}
