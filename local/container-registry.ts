/**
 * A real container registry on loopback standing in for Azure Container Registry with Microsoft Entra sign-in, for the
 * image tests: Debian's `docker-registry` (CNCF Distribution 2.8, the code ACR's data plane grew from) on a Unix
 * socket in a temp folder, behind an HTTPS front end on `127.0.0.1:0` that plays ACR's token service.
 *
 * The front end (Azure/acr docs/AAD-OAuth.md):
 * - `POST /oauth2/exchange` (form: grant_type=access_token, service, access_token[, tenant]) accepts ONLY a valid
 *   Entra access token from the emulator: signature against the emulator's JWKS (fetched over HTTPS, trusting its
 *   certificate), `iss` the emulator's issuer, `aud` ACR's audience `https://containerregistry.azure.net`, `tid` the
 *   emulator's tenant, not expired; and `service` this registry. It answers `{ refresh_token }`, an ACR refresh token.
 * - `POST /oauth2/token` (form: grant_type=refresh_token, service, scope…, refresh_token) answers `{ access_token }`:
 *   a registry token whose `access` is the requested `repository:<name>:<actions>` scopes narrowed to what the
 *   principal holds — pull and push for the principals given in `roles` (the stand-in for AcrPush / AcrPull role
 *   assignments), nothing for anyone else.
 * - everything under `/v2/` is passed to the registry unchanged. The registry itself checks each request's token
 *   (its `auth.token` configuration: issuer, service, and the signing certificate this front end made) and answers
 *   401 with `WWW-Authenticate: Bearer realm="https://…/oauth2/token",service="…",scope="repository:…:pull,push"`,
 *   the challenge ACR sends. `relativeurls` makes upload Locations relative, as ACR's are (the Azure SDK requires it).
 *
 * The registry listens on a Unix socket in its own temp folder (no port to race for), and runs under a shell that
 * kills it when this process's end of a pipe closes: it stops by itself even if the test process is killed.
 * Nothing here is a secret: the signing key lives in memory and in the temp folder for the registry's lifetime.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createPrivateKey, randomUUID, sign, verify, X509Certificate } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer, get as httpsGet } from "node:https";
import { connect, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from "jose";
import { createLocalhostCertificate } from "../emulator/certificate";

/** Where Debian puts the registry; PATH is searched too. */
const REGISTRY_CANDIDATES = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"];

/** ACR's Entra audience: the `aud` of the tokens `/oauth2/exchange` accepts. */
export const ACR_TOKEN_AUDIENCE = "https://containerregistry.azure.net";

/** The `iss` of the registry tokens, as ACR's own say (Azure/acr docs/AAD-OAuth.md "token claim sets"). */
const TOKEN_ISSUER = "Azure Container Registry";

/** The registry binary, or undefined when none is installed. */
export function findDockerRegistry(): string | undefined {
  const onPath = spawnSync("sh", ["-c", "command -v docker-registry"], { encoding: "utf8" }).stdout.trim();
  return [onPath, ...REGISTRY_CANDIDATES].find((path) => path && existsSync(path));
}

/** The Entra side the token exchange trusts: the emulator's issuer, tenant, JWKS and certificate. */
export interface TrustedEntra {
  /** `iss` of its tokens. */
  readonly issuer: string;
  readonly tenantId: string;
  /** Its JWKS URL (`…/discovery/v2.0/keys`). */
  readonly jwksUri: string;
  /** Its TLS certificate, PEM, to fetch the JWKS. */
  readonly caCertPem: string;
}

export interface LocalContainerRegistryOptions {
  readonly entra: TrustedEntra;
  /** Principals (Entra object IDs, `oid`) and the actions they hold on every repository: the role assignments. */
  readonly roles: Readonly<Record<string, readonly ("pull" | "push")[]>>;
  /** The registry binary. Default: {@link findDockerRegistry}. */
  readonly binary?: string;
}

export interface LocalContainerRegistry {
  /** `localhost:<port>`: the login server (the certificate is valid for localhost). */
  readonly loginServer: string;
  /** The front end's certificate, PEM, and a file holding it (for NODE_EXTRA_CA_CERTS). */
  readonly caPem: string;
  readonly caPath: string;
  /** Requests the front end answered, by kind, for the tests. */
  readonly stats: { exchanges: number; exchangesRefused: number; tokens: number; proxied: number };
  /**
   * A registry token for `access` signed as the front end signs them, for the test harness (seeding a base image
   * straight into the registry, as ACR's import would). Not reachable over HTTP.
   */
  issueToken(access: readonly RegistryAccess[]): string;
  close(): Promise<void>;
}

/** One entry of a registry token's `access` claim (distribution `docs/spec/auth/jwt.md`). */
export interface RegistryAccess {
  readonly type: "repository";
  readonly name: string;
  readonly actions: readonly string[];
}

/** Starts the registry and its front end. */
export async function startLocalContainerRegistry(
  options: LocalContainerRegistryOptions,
): Promise<LocalContainerRegistry> {
  const binary = options.binary ?? findDockerRegistry();
  if (!binary) throw new Error("docker-registry is not installed: apt-get install -y docker-registry");
  const dir = await mkdtemp(join(tmpdir(), "secretless-registry-"));
  const { certPem, keyPem } = await createLocalhostCertificate({ commonName: "secretless local registry" });
  const caPath = join(dir, "front-end.pem");
  await writeFile(caPath, certPem);
  const privateKey = createPrivateKey(keyPem);
  const x5c = [new X509Certificate(certPem).raw.toString("base64")];
  const socketPath = join(dir, "registry.sock");
  const stats = { exchanges: 0, exchangesRefused: 0, tokens: 0, proxied: 0 };

  // The front end first: the registry's configuration names its URL.
  const server = createServer({ cert: certPem, key: keyPem });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const loginServer = `localhost:${(server.address() as AddressInfo).port}`;

  /** A JWS (ES256, the certificate in `x5c`) the registry verifies against its root bundle (that same certificate). */
  const signToken = (claims: Record<string, unknown>): string => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const input = `${encode({ alg: "ES256", typ: "JWT", x5c })}.${encode(claims)}`;
    const signature = sign("sha256", Buffer.from(input), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${input}.${signature.toString("base64url")}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const issueToken = (access: readonly RegistryAccess[], subject = "test-harness"): string =>
    signToken({
      iss: TOKEN_ISSUER,
      sub: subject,
      aud: loginServer,
      exp: now() + 300,
      nbf: now() - 5,
      iat: now(),
      jti: randomUUID(),
      access,
    });

  const entra = new EntraKeys(options.entra);
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?", 1)[0] ?? "/";
    if (req.method === "POST" && path === "/oauth2/exchange") {
      void exchange(req, res);
    } else if (req.method === "POST" && path === "/oauth2/token") {
      void token(req, res);
    } else if (path === "/v2" || path.startsWith("/v2/")) {
      stats.proxied++;
      proxy(req, res, socketPath);
    } else {
      sendJson(res, 404, { errors: [{ code: "NOT_FOUND", message: "no such endpoint" }] });
    }
  });

  /** AAD access token → ACR refresh token. */
  const exchange = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.exchanges++;
    const form = await readForm(req);
    const refuse = (status: number, message: string) => {
      stats.exchangesRefused++;
      sendJson(res, status, { errors: [{ code: "UNAUTHORIZED", message }] });
    };
    if (form.get("grant_type") !== "access_token") return refuse(400, "grant_type must be access_token");
    if (form.get("service") !== loginServer) return refuse(400, `service must be ${loginServer}`);
    const accessToken = form.get("access_token") ?? "";
    let oid: string;
    try {
      const { payload } = await jwtVerify(accessToken, await entra.keySet(), {
        issuer: options.entra.issuer,
        audience: ACR_TOKEN_AUDIENCE,
        algorithms: ["RS256"],
      });
      if (payload.tid !== options.entra.tenantId) throw new Error("the token is from another tenant");
      if (typeof payload.oid !== "string") throw new Error("the token names no principal (oid)");
      oid = payload.oid;
    } catch (error) {
      return refuse(401, `the Entra access token is not valid here: ${(error as Error).message}`);
    }
    const refreshToken = signToken({
      iss: TOKEN_ISSUER,
      sub: oid,
      aud: loginServer,
      exp: now() + 3 * 3600,
      nbf: now() - 5,
      iat: now(),
      jti: randomUUID(),
      grant_type: "refresh_token",
      tenant: options.entra.tenantId,
      version: "1.0",
    });
    sendJson(res, 200, { refresh_token: refreshToken });
  };

  /** ACR refresh token → registry access token for the requested scopes, narrowed to the principal's roles. */
  const token = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    stats.tokens++;
    const form = await readForm(req);
    const refuse = (status: number, message: string) =>
      sendJson(res, status, { errors: [{ code: "UNAUTHORIZED", message }] });
    if (form.get("grant_type") !== "refresh_token") return refuse(400, "grant_type must be refresh_token");
    if (form.get("service") !== loginServer) return refuse(400, `service must be ${loginServer}`);
    const subject = verifyOwnToken(form.get("refresh_token") ?? "", loginServer, certPem);
    if (!subject) return refuse(401, "the refresh token is not valid");
    const held = new Set(options.roles[subject] ?? []);
    const access: RegistryAccess[] = [];
    for (const scope of form.getAll("scope").flatMap((s) => s.split(" "))) {
      const match = /^repository:([a-z0-9._/-]+):([a-z*,]+)$/.exec(scope);
      if (!match) continue;
      const actions = (match[2] ?? "").split(",").filter((a) => held.has(a as "pull" | "push"));
      if (actions.length > 0) access.push({ type: "repository", name: match[1] ?? "", actions });
    }
    sendJson(res, 200, { access_token: issueToken(access, subject) });
  };

  // The registry, configured to trust tokens signed with the front end's certificate.
  const bundlePath = join(dir, "token-signer.pem");
  await writeFile(bundlePath, certPem);
  const configPath = join(dir, "config.yml");
  await writeFile(
    configPath,
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "  delete:",
      "    enabled: true",
      "http:",
      "  net: unix",
      `  addr: ${socketPath}`,
      "  relativeurls: true",
      "auth:",
      "  token:",
      `    realm: https://${loginServer}/oauth2/token`,
      `    service: ${loginServer}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${bundlePath}`,
      "",
    ].join("\n"),
  );
  // `cat` returns when this process's end of stdin closes (also when it dies): the shell then stops the registry and
  // removes its folder.
  const child: ChildProcess = spawn(
    "sh",
    [
      "-c",
      `"$0" serve "$1" & pid=$!; cat >/dev/null; kill "$pid" 2>/dev/null; wait "$pid"; rm -rf "$2"`,
      binary,
      configPath,
      dir,
    ],
    { stdio: ["pipe", "ignore", "pipe"] },
  );
  let output = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitForSocket(socketPath, exited, () => output);
  } catch (error) {
    child.stdin?.end();
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    loginServer,
    caPem: certPem,
    caPath,
    stats,
    issueToken: (access) => issueToken(access),
    async close() {
      child.stdin?.end();
      await exited;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The emulator's signing keys, fetched over HTTPS and fetched again when a token names a key not seen yet. */
class EntraKeys {
  private jwks: JSONWebKeySet | undefined;
  constructor(private readonly entra: TrustedEntra) {}

  async keySet(): Promise<ReturnType<typeof createLocalJWKSet>> {
    this.jwks = await this.fetch();
    return createLocalJWKSet(this.jwks);
  }

  private fetch(): Promise<JSONWebKeySet> {
    return new Promise((resolve, reject) => {
      httpsGet(this.entra.jwksUri, { ca: this.entra.caCertPem, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")) as JSONWebKeySet);
          } catch (error) {
            reject(error);
          }
        });
      }).on("error", reject);
    });
  }
}

/** The subject of a refresh token this front end signed for `service`, or undefined. */
function verifyOwnToken(token: string, service: string, certPem: string): string | undefined {
  const [header, payload, signature] = token.split(".");
  if (!header || !payload || !signature) return undefined;
  const ok = verify(
    "sha256",
    Buffer.from(`${header}.${payload}`),
    { key: new X509Certificate(certPem).publicKey, dsaEncoding: "ieee-p1363" },
    Buffer.from(signature, "base64url"),
  );
  if (!ok) return undefined;
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
  const valid =
    claims.grant_type === "refresh_token" &&
    claims.aud === service &&
    typeof claims.exp === "number" &&
    claims.exp > Date.now() / 1000;
  return valid && typeof claims.sub === "string" ? claims.sub : undefined;
}

/** Passes a `/v2/` request to the registry's socket and its answer back, both streamed. */
function proxy(req: IncomingMessage, res: ServerResponse, socketPath: string): void {
  const upstream = httpRequest({ socketPath, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (error) => {
    if (!res.headersSent) sendJson(res, 502, { errors: [{ code: "UNAVAILABLE", message: error.message }] });
    else res.destroy(error);
  });
  req.pipe(upstream);
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) break;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Waits until the registry accepts connections on its socket, or fails with its output if it exits first. */
async function waitForSocket(path: string, exited: Promise<void>, output: () => string): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let attempt = 0; attempt < 200; attempt++) {
    if (gone) throw new Error(`docker-registry exited before it listened:\n${output()}`);
    const ready = await new Promise<boolean>((resolve) => {
      const socket = connect(path);
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`docker-registry did not listen on ${path} within 10 s:\n${output()}`);
}
