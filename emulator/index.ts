/**
 * A local emulator of the parts of Microsoft Entra ID and of App Service's managed-identity (MI) endpoint that a
 * "secretless" web app's sign-in uses: OIDC discovery, JWKS, authorize (auth code + PKCE), token (FIC client
 * assertion), logout, and `IDENTITY_ENDPOINT`; plus a Microsoft Graph `/v1.0/me` stand-in for the user's access token.
 * See emulator/README.md.
 *
 * @example
 * const emu = await startEmulator();
 * emu.setRedirectUris([`http://localhost:${appPort}/signin-oidc`]);
 * const child = spawn("node", ["app.js"], { env: { ...process.env, ...emu.appEnv() } });
 * // …
 * await emu.close();
 */
import { createPrivateKey, randomUUID, X509Certificate } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  azureAdSettings,
  DEFAULT_CALLBACK_PATH,
  DEFAULT_FRONT_CHANNEL_LOGOUT_PATH,
  DEFAULT_TOKEN_EXCHANGE_URL,
  DownstreamApiSetting,
} from "../contract/settings";
import { createLocalhostCertificate, type SelfSignedCertificate } from "./certificate";
import { entraRouter } from "./entra";
import { createEntraState, revokeRefreshTokens, type EntraState } from "./entra/state";
import { addGraphRoutes, GRAPH_BASE_PATH } from "./graph";
import { SigningKeys } from "./keys";
import { managedIdentityRouter } from "./managed-identity";
import { jwtVerify } from "jose";
import {
  graphIssuer,
  mintGraphAccessToken,
  mintManagedIdentityToken,
  mintOperatorToken,
  TOKEN_EXCHANGE_URI,
  USER_TOKEN_LIFETIME_SECONDS,
} from "./tokens";
import type {
  EmulatorContext,
  EmulatorFaults,
  EmulatorOptions,
  EmulatorRegistration,
  EmulatorStats,
  IdTokenMode,
  MintGraphAccessTokenOptions,
  MintManagedIdentityTokenOptions,
  MintOperatorTokenOptions,
  RegistrationOverrides,
  RunningEmulator,
} from "./types";

export type * from "./types";
export { AZURE_CLI_APP_ID, GRAPH_APP_ID, GRAPH_RESOURCE, TOKEN_EXCHANGE_APP_ID, TOKEN_EXCHANGE_URI } from "./tokens";
export { DEFAULT_APPLICATION_OBJECT_ID } from "./graph-applications";
export { ALAN, GRACE, MALLORY, MARGARET, demoDirectory } from "./directory-users";

/**
 * Microsoft.Identity.Web's setting for Graph's base URL (the contract's name), which `appEnv()` points at the
 * emulator's Graph stand-in.
 */
export const GRAPH_BASE_URL_SETTING = DownstreamApiSetting.GraphBaseUrl;

/**
 * The default app registration: fixed, distinct test GUIDs (so a mix-up such as "FIC subject = UAMI client id" shows
 * up as a wrong value, not a lucky match), a FIC that trusts the UAMI, and the test user Ada Lovelace.
 * `fic.subject` follows `uami.principalId` unless given; `fic.issuer` is filled in by {@link startEmulator}.
 */
export function defaultRegistration(overrides: RegistrationOverrides = {}): EmulatorRegistration {
  const uami = {
    clientId: "6d2e4f80-1a3b-4c5d-9e6f-7a8b9c0d1e2f",
    principalId: "9f1c3e5a-7b2d-4f6e-8a0c-1d3e5f7a9b0c",
    resourceId:
      "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg-secretless-dev/providers/" +
      "Microsoft.ManagedIdentity/userAssignedIdentities/id-secretless-dev",
    ...overrides.uami,
  };
  return {
    tenantId: "b5f1e2d3-7a4c-4e8b-9f01-2c3d4e5f6a7b",
    clientId: "3a8c9d1e-5b2f-4c6d-8e7f-9a0b1c2d3e4f",
    displayName: "Secretless sample app",
    servicePrincipalId: "c7b6a5f4-e3d2-4c1b-a09f-8e7d6c5b4a39",
    redirectUris: [`http://localhost:3000${DEFAULT_CALLBACK_PATH}`],
    ...overrides,
    uami,
    fic: {
      name: "app-trusts-managed-identity",
      subject: uami.principalId,
      audiences: [TOKEN_EXCHANGE_URI],
      ...overrides.fic,
    },
    user: {
      oid: "e4d3c2b1-a0f9-4e8d-b7c6-5a4b3c2d1e0f",
      name: "Ada Lovelace",
      preferredUsername: "ada@contoso.example",
      jobTitle: "Mathematician",
      ...overrides.user,
    },
  };
}

/**
 * Starts the Entra emulator (HTTPS, self-signed certificate for localhost) and the MI endpoint (HTTP), both on
 * loopback only. Ports default to 0 (any free port); read the URLs from the result.
 */
/**
 * The registration entries for an app served at `appUrl` (e.g. `http://localhost:3000`): its callback at the default
 * path as the only redirect URI, and its front-channel logout URL, as the stack would register them for a deployed app.
 */
export function appRegistrationFor(
  appUrl: string,
): Pick<EmulatorRegistration, "redirectUris" | "frontChannelLogoutUrl"> {
  return {
    redirectUris: [`${appUrl}${DEFAULT_CALLBACK_PATH}`],
    frontChannelLogoutUrl: `${appUrl}${DEFAULT_FRONT_CHANNEL_LOGOUT_PATH}`,
  };
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = new Emulator(
    defaultRegistration(options.registration),
    await SigningKeys.create(),
    options.certificate ? checkedCertificate(options.certificate) : await createLocalhostCertificate(),
    options.tokenLifetimeSeconds ?? 86_400,
    options.accessTokenLifetimeSeconds ?? USER_TOKEN_LIFETIME_SECONDS,
  );
  try {
    await emulator.start(options.port ?? 0, options.miPort ?? 0);
  } catch (err) {
    await emulator.close(); // e.g. a fixed port in use: release whatever did start
    throw err;
  }
  return emulator;
}

/** A given certificate, once it is known to parse, to be current and to match its key: else a TLS error later. */
function checkedCertificate(certificate: SelfSignedCertificate): SelfSignedCertificate {
  const x509 = new X509Certificate(certificate.certPem);
  if (!x509.checkPrivateKey(createPrivateKey(certificate.keyPem))) {
    throw new Error("emulator certificate: the key does not match it");
  }
  if (Date.parse(x509.validTo) <= Date.now()) throw new Error(`emulator certificate: expired on ${x509.validTo}`);
  return certificate;
}

/** Every fault switch off, as at start. */
function noFaults(): EmulatorFaults {
  return {
    mi: null,
    miDown: false,
    graph: null,
    graphDown: false,
    ficNotPropagated: false,
    tokenEndpointDown: false,
    authorizeError: null,
    consentMissing: false,
  };
}

/** The running emulator: the public {@link RunningEmulator} and, for the request handlers, their context. */
class Emulator implements RunningEmulator, EmulatorContext {
  instance = "";
  authority = "";
  issuer = "";
  identityEndpoint = "";
  graphBaseUrl = "";
  caCertPath = "";
  readonly caCertPem: string;
  readonly tenantId: string;
  readonly identityHeader = randomUUID();
  readonly faults: EmulatorFaults = noFaults();
  idTokenMode: IdTokenMode = "valid";
  readonly stats: EmulatorStats = {
    miRequests: 0,
    tokenRequests: 0,
    clientCredentialsRequests: 0,
    authorizeRequests: 0,
    refreshTokenRequests: 0,
    graphRequests: 0,
  };
  accessTokenLifetimeSeconds: number;

  private readonly servers: Server[] = [];
  private readonly tlsKeyPem: string;
  private readonly entraState: EntraState = createEntraState(this);

  constructor(
    readonly registration: EmulatorRegistration,
    readonly keys: SigningKeys,
    certificate: SelfSignedCertificate,
    readonly tokenLifetimeSeconds: number,
    private readonly startAccessTokenLifetimeSeconds: number,
  ) {
    this.tenantId = registration.tenantId;
    this.caCertPem = certificate.certPem;
    this.tlsKeyPem = certificate.keyPem;
    this.accessTokenLifetimeSeconds = startAccessTokenLifetimeSeconds;
  }

  async start(port: number, miPort: number): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "entra-emulator-"));
    this.caCertPath = join(dir, "localhost-ca.pem");
    await writeFile(this.caCertPath, this.caCertPem);

    const entra = addGraphRoutes(entraRouter(this, this.entraState), this).listener();
    const tlsOptions = { cert: this.caCertPem, key: this.tlsKeyPem };
    const entraPort = await this.listen(createHttpsServer(tlsOptions, entra), port, "127.0.0.1");
    // "localhost" may resolve to ::1 first (browsers, Node's fetch); answer there too when IPv6 loopback exists.
    await this.listen(createHttpsServer(tlsOptions, entra), entraPort, "::1").catch(() => undefined);

    // miDown resets connections rather than closing the listener, so it takes effect and recovers instantly.
    const mi = managedIdentityRouter(this).listener();
    const miServer = createHttpServer((req, res) => (this.faults.miDown ? req.socket.destroy() : mi(req, res)));
    miServer.on("connection", (socket) => this.faults.miDown && socket.destroy());
    const identityPort = await this.listen(miServer, miPort, "127.0.0.1");

    this.instance = `https://localhost:${entraPort}/`;
    this.authority = `${this.instance}${this.tenantId}`;
    this.issuer = `${this.authority}/v2.0`;
    this.identityEndpoint = `http://127.0.0.1:${identityPort}/msi/token`;
    this.graphBaseUrl = `https://localhost:${entraPort}${GRAPH_BASE_PATH}`;
    this.registration.fic.issuer ??= this.issuer;
  }

  private listen(server: Server, port: number, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => {
        server.off("error", reject);
        this.servers.push(server);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  setRedirectUris(redirectUris: string[]): void {
    this.registration.redirectUris = [...redirectUris];
  }

  appEnv(opts: { callbackPath?: string } = {}): Record<string, string> {
    return {
      ...azureAdSettings({
        instance: this.instance,
        tenantId: this.tenantId,
        clientId: this.registration.clientId,
        callbackPath: opts.callbackPath ?? DEFAULT_CALLBACK_PATH,
        managedIdentityClientId: this.registration.uami.clientId,
        tokenExchangeUrl: DEFAULT_TOKEN_EXCHANGE_URL,
      }),
      [GRAPH_BASE_URL_SETTING]: this.graphBaseUrl,
      IDENTITY_ENDPOINT: this.identityEndpoint,
      IDENTITY_HEADER: this.identityHeader,
      NODE_EXTRA_CA_CERTS: this.caCertPath,
    };
  }

  resetFaults(): void {
    Object.assign(this.faults, noFaults()); // in place: the object is live, callers may hold it
    this.idTokenMode = "valid";
    this.accessTokenLifetimeSeconds = this.startAccessTokenLifetimeSeconds;
  }

  revokeRefreshTokens(userOid?: string): number {
    return revokeRefreshTokens(this.entraState, userOid);
  }

  async mintGraphAccessToken(options: MintGraphAccessTokenOptions = {}): Promise<string> {
    const { user, clientId } = this.registration;
    return (await mintGraphAccessToken(this, { user, clientId, options })).token;
  }

  mintOperatorToken(options: MintOperatorTokenOptions): Promise<string> {
    return mintOperatorToken(this, options);
  }

  async verifyAccessToken(token: string, audience: string | string[]): Promise<Record<string, unknown>> {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        const key = this.keys.find(header.kid);
        if (!key) throw new Error("no published key has this kid");
        return key.publicKey;
      },
      {
        algorithms: ["RS256"],
        issuer: graphIssuer(this.tenantId),
        audience,
        clockTolerance: 300,
        requiredClaims: ["exp"],
      },
    );
    return payload;
  }

  rotateKeys(): Promise<void> {
    return this.keys.rotate();
  }

  async mintManagedIdentityToken(options: MintManagedIdentityTokenOptions = {}): Promise<string> {
    return (await mintManagedIdentityToken(this, options)).token;
  }

  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections(); // keep-alive sockets would otherwise hold close() open
          }),
      ),
    );
    if (this.caCertPath) await rm(join(this.caCertPath, ".."), { recursive: true, force: true });
  }
}
