/**
 * The container image for real, on loopback: built from a copy of the sources (deploy/container-image.ts), pushed by
 * deploy/push-image.ts — spawned as the Pulumi command runs it — to Debian's docker-registry behind the ACR-style
 * token front end (local/container-registry.ts), signed in with the emulator's managed-identity token through
 * DefaultAzureCredential; then pulled back and checked, and run as the image would run it.
 *
 * The base image is synthetic and seeded by the harness (test/support/registry-harness.ts), standing in for ACR's
 * server-side import of node:22-bookworm-slim, which needs Azure.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { APP_IMAGE_REPOSITORY, type AppImage, buildAppImage } from "../../deploy/container-image";
import { type ImageConfig, type ImageManifest, MediaType, sha256Digest } from "../../deploy/oci-image";
import { imageTag } from "../../deploy/push-image";
import { appRegistrationFor, startEmulator, type RunningEmulator } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { ACR_TOKEN_AUDIENCE, type LocalContainerRegistry } from "../../local/container-registry";
import { childApp, freePort, type ChildApp } from "../../local/child-app";
import { UserAgent } from "../../local/user-agent";
import {
  fakeAz,
  GUARD_MARKER,
  type HttpsFake,
  json,
  type RunResult,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";
import {
  contentClient,
  copySources,
  describeWithRegistry,
  emulatorCredential,
  seedSyntheticBase,
  startRegistryFor,
  PULL_ONLY_PRINCIPAL,
  type SyntheticBase,
} from "../support/registry-harness";

let work: ReturnType<typeof scratch>;
let emu: RunningEmulator;
let registry: LocalContainerRegistry;
let base: SyntheticBase;
let image: AppImage;
let root: string;
let caBundle: string;

beforeAll(async () => {
  work = scratch();
  emu = await startEmulator();
  // The user agent below follows the app's redirects to the emulator.
  trustEmulatorCertificate(emu);
  registry = await startRegistryFor(emu);
  base = await seedSyntheticBase(registry, APP_IMAGE_REPOSITORY, work.dir);
  root = copySources(work.dir);
  image = await buildAppImage({ sourceRoot: root, baseImage: base.reference });
  // The push trusts the registry's front end (its managed-identity endpoint is plain http).
  caBundle = join(work.dir, "ca-bundle.pem");
  writeFileSync(caBundle, registry.caPem);
}, 120_000);

afterAll(async () => {
  await registry?.close();
  await emu?.close();
  work?.dispose();
});

/** push-image.ts with the registry and image inputs, and the given credential environment. */
function push(credentialEnv: Record<string, string>, overrides: Record<string, string> = {}): Promise<RunResult> {
  return runScript("push-image.ts", [], {
    NODE_EXTRA_CA_CERTS: caBundle,
    REGISTRY_LOGIN_SERVER: registry.loginServer,
    IMAGE_REPOSITORY: APP_IMAGE_REPOSITORY,
    BASE_IMAGE: base.reference,
    IMAGE_LAYOUT_DIR: join(root, image.layoutDir),
    IMAGE_CONTENT_SHA256: image.contentSha256,
    ...credentialEnv,
    ...overrides,
  });
}

/** DefaultAzureCredential → its managed-identity source → the emulator's MI endpoint (App Service protocol). */
const managedIdentityEnv = (): Record<string, string> => ({
  AZURE_TOKEN_CREDENTIALS: "ManagedIdentityCredential",
  AZURE_CLIENT_ID: emu.registration.uami.clientId,
  IDENTITY_ENDPOINT: emu.identityEndpoint,
  IDENTITY_HEADER: emu.identityHeader,
});

/** The az CLI credential, answering with `token`. */
const azWith = (token: string): Record<string, string> => {
  const dir = join(work.dir, `az-${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { recursive: true });
  const az = fakeAz(dir, token);
  return { PATH: `${az.binDir}:${process.env.PATH}` };
};

function parseResult(result: RunResult): { digest: string; image: string } {
  expect(result.stderr).not.toContain(GUARD_MARKER);
  expect(result.code, result.stderr).toBe(0);
  // One line on stdout: the digest, and the image pinned by it in this registry.
  const lines = result.stdout.trim().split("\n");
  expect(lines).toHaveLength(1);
  const printed = JSON.parse(lines[0] ?? "") as { digest: string; image: string };
  expect(Object.keys(printed)).toEqual(["digest", "image"]);
  return printed;
}

describeWithRegistry("push-image against a real registry behind an ACR-style token exchange", () => {
  let pushed: { digest: string; image: string };

  it("pushes with the emulator's Entra token and prints the digest the registry stored", async () => {
    const exchangesBefore = registry.stats.exchanges;
    pushed = parseResult(await push(managedIdentityEnv()));
    expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(pushed.image).toBe(`${registry.loginServer}/${APP_IMAGE_REPOSITORY}@${pushed.digest}`);
    expect(registry.stats.exchanges).toBeGreaterThan(exchangesBefore);
    expect(registry.stats.exchangesRefused).toBe(0);
    // Its tag, derived from the digest, names the same manifest.
    const client = contentClient(registry, APP_IMAGE_REPOSITORY, emulatorCredential(emu));
    expect((await client.getManifest(imageTag(pushed.digest))).digest).toBe(pushed.digest);
  });

  it("leaves a manifest, config and layers that say how the app runs", async () => {
    const client = contentClient(registry, APP_IMAGE_REPOSITORY, emulatorCredential(emu));
    const pulled = await client.getManifest(pushed.digest);
    expect(pulled.mediaType).toBe(MediaType.OciManifest);
    expect(sha256Digest(pulled.content)).toBe(pushed.digest);
    const manifest = pulled.manifest as unknown as ImageManifest;
    // The amd64 base's layers (never arm64's), then the app layer exactly as built.
    expect(manifest.layers.map((l) => l.digest)).toEqual([
      ...base.amd64.layers.map((l) => l.digest),
      image.layerDigest,
    ]);
    expect(manifest.layers.at(-1)).toEqual({
      mediaType: MediaType.OciLayerGzip,
      digest: image.layerDigest,
      size: image.layerSize,
    });
    const config = JSON.parse((await readBlob(manifest.config.digest)).toString("utf8")) as ImageConfig;
    expect(config.architecture).toBe("amd64");
    expect(config.created).toBe("1970-01-01T00:00:00Z");
    expect(config.config?.Entrypoint).toEqual(["node"]);
    expect(config.config?.Cmd).toEqual(["server.js"]);
    expect(config.config?.WorkingDir).toBe("/app");
    expect(config.config?.User).toBe("1000:1000");
    expect(config.config?.ExposedPorts).toEqual({ "8080/tcp": {} });
    expect(config.config?.Env).toEqual([...base.amd64.env, "NODE_ENV=production", "PORT=8080"]);
    expect(config.rootfs?.diff_ids.at(-1)).toBe(image.layerDiffId);
    expect(config.rootfs?.diff_ids).toHaveLength(manifest.layers.length);
  });

  it("pushes nothing the second time and prints the same digest", async () => {
    const result = await push(managedIdentityEnv());
    expect(parseResult(result)).toEqual(pushed);
    expect(result.stderr).toContain("is already in the registry; nothing to push");
  });

  it("uploads no blob the repository holds when only the manifest is missing", async () => {
    // A push interrupted after its blobs: the manifest (and so its tag) deleted behind the pusher's back.
    const token = registry.issueToken([{ type: "repository", name: APP_IMAGE_REPOSITORY, actions: ["*"] }]);
    const deleted = await fetch(
      `https://${registry.loginServer}/v2/${APP_IMAGE_REPOSITORY}/manifests/${pushed.digest}`,
      {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(deleted.status).toBe(202);
    const result = await push(managedIdentityEnv());
    expect(parseResult(result)).toEqual(pushed);
    expect(result.stderr).toContain(`app layer ${image.layerDigest} is already in the registry`);
    expect(result.stderr).toMatch(/config sha256:[0-9a-f]{64} is already in the registry/);
    expect(result.stderr).not.toContain("uploading");
    const client = contentClient(registry, APP_IMAGE_REPOSITORY, emulatorCredential(emu));
    expect((await client.getManifest(imageTag(pushed.digest))).digest).toBe(pushed.digest);
  });

  it("answers an unauthenticated request with ACR's Bearer challenge", async () => {
    const response = await fetch(
      `https://${registry.loginServer}/v2/${APP_IMAGE_REPOSITORY}/manifests/${pushed.digest}`,
    );
    expect(response.status).toBe(401);
    expect(response.headers.get("www-authenticate")).toBe(
      `Bearer realm="https://${registry.loginServer}/oauth2/token",service="${registry.loginServer}",` +
        `scope="repository:${APP_IMAGE_REPOSITORY}:pull"`,
    );
  });

  it("refuses an Entra token for another audience", async () => {
    const refusedBefore = registry.stats.exchangesRefused;
    const token = await emu.mintManagedIdentityToken({ resource: "https://management.azure.com" });
    const result = await push(azWith(token));
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/push-image: error: .*refused to let this identity/);
    expect(result.stderr).toContain("AcrPush");
    expect(registry.stats.exchangesRefused).toBe(refusedBefore + 1);
  });

  it("refuses a token the emulator did not sign", async () => {
    const refusedBefore = registry.stats.exchangesRefused;
    const genuine = await emu.mintManagedIdentityToken({ resource: ACR_TOKEN_AUDIENCE });
    const [header, payload] = genuine.split(".");
    const forged = `${header}.${payload}.${Buffer.alloc(256, 7).toString("base64url")}`;
    const result = await push(azWith(forged));
    expect(result.code).toBe(4);
    expect(registry.stats.exchangesRefused).toBe(refusedBefore + 1);
  });

  it("refuses a valid token of a principal with no role on the registry", async () => {
    const token = await emu.mintManagedIdentityToken({
      resource: ACR_TOKEN_AUDIENCE,
      claims: { oid: "0badc0de-0000-4000-8000-000000000000" },
    });
    const result = await push(azWith(token));
    expect(result.code).toBe(4);
    expect(result.stderr).toContain("refused to let this identity read the manifest");
  });

  it("refuses to push a layout that changed after the stack planned it", async () => {
    const result = await push(managedIdentityEnv(), { IMAGE_CONTENT_SHA256: "0".repeat(64) });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("but the stack planned to push");
  });

  describeWithRegistry("the token front end, as an attacker sees it", () => {
    const post = async (path: string, form: Record<string, string>) => {
      const response = await fetch(`https://${registry.loginServer}${path}`, {
        method: "POST",
        body: new URLSearchParams(form),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const exchange = async (accessToken: string, service = registry.loginServer) =>
      post("/oauth2/exchange", { grant_type: "access_token", service, access_token: accessToken });
    const accessFor = async (refreshToken: string, scope: string) => {
      const answer = await post("/oauth2/token", {
        grant_type: "refresh_token",
        service: registry.loginServer,
        scope,
        refresh_token: refreshToken,
      });
      const token = String(answer.body.access_token ?? "");
      const claims = token ? JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString()) : undefined;
      return { status: answer.status, access: (claims as { access?: unknown } | undefined)?.access };
    };
    const acrToken = (claims?: Record<string, unknown>) =>
      emu.mintManagedIdentityToken({ resource: ACR_TOKEN_AUDIENCE, ...(claims ? { claims } : {}) });

    it("refuses a token of the right issuer and audience from another tenant", async () => {
      const answer = await exchange(await acrToken({ tid: "00000000-0000-4000-8000-0000000000aa" }));
      expect(answer.status).toBe(401);
      expect(JSON.stringify(answer.body)).toContain("another tenant");
    });

    it("refuses an expired token", async () => {
      const past = Math.floor(Date.now() / 1000) - 3600;
      expect((await exchange(await acrToken({ iat: past - 3600, nbf: past - 3600, exp: past }))).status).toBe(401);
    });

    it("refuses an exchange for another registry", async () => {
      expect((await exchange(await acrToken(), "contoso.azurecr.io")).status).toBe(400);
    });

    it("refuses its refresh token as an Entra token, and an Entra token as a refresh token", async () => {
      const { body } = await exchange(await acrToken());
      const refresh = String(body.refresh_token);
      expect((await exchange(refresh)).status).toBe(401);
      expect((await accessFor(await acrToken(), `repository:${APP_IMAGE_REPOSITORY}:pull`)).status).toBe(401);
    });

    it("grants only the actions the principal holds, whatever scope it asks for", async () => {
      const scope = `repository:${APP_IMAGE_REPOSITORY}:pull,push`;
      const pullOnly = await exchange(await acrToken({ oid: PULL_ONLY_PRINCIPAL }));
      expect(await accessFor(String(pullOnly.body.refresh_token), scope)).toEqual({
        status: 200,
        access: [{ type: "repository", name: APP_IMAGE_REPOSITORY, actions: ["pull"] }],
      });
      const pusher = await exchange(await acrToken());
      expect((await accessFor(String(pusher.body.refresh_token), scope)).access).toEqual([
        { type: "repository", name: APP_IMAGE_REPOSITORY, actions: ["pull", "push"] },
      ]);
    });
  });

  describeWithRegistry("a base not in the registry yet", () => {
    const repository = "imported/secretless-signin";
    let arm: HttpsFake;
    let armCa: string;
    const operations: string[] = [];

    beforeAll(async () => {
      // A stand-in for ARM's Import Image: checks the request, then copies the base in (seeds it) and reports the
      // long-running operation done through Azure-AsyncOperation.
      arm = await startHttps(work.dir, (req, res, host) => {
        const path = req.url.split("?", 1)[0] ?? "";
        operations.push(`${req.method} ${path}`);
        if (req.method === "POST" && path.endsWith("/importImage")) {
          void seedSyntheticBase(registry, repository, join(work.dir, "import")).then(() =>
            json(res, 202, {}, { "azure-asyncoperation": `https://${host}/operations/1`, "retry-after": "0" }),
          );
        } else if (req.method === "GET" && path === "/operations/1") {
          json(res, 200, { status: "Succeeded" });
        } else {
          json(res, 404, { error: { code: "NotFound", message: "no such operation" } });
        }
      });
      armCa = join(work.dir, "ca-bundle-arm.pem");
      writeFileSync(armCa, `${registry.caPem}\n${readFileSync(arm.caPath, "utf8")}`);
    });

    afterAll(async () => {
      await arm?.close();
    });

    it("says how to import it when no registry ID is given", async () => {
      const result = await push(managedIdentityEnv(), { IMAGE_REPOSITORY: repository });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain("is not in");
      expect(result.stderr).toContain("az acr import");
    });

    it("imports it server-side by digest through ARM, then pushes on top of it", async () => {
      const registryId =
        "/subscriptions/8c1d9f4e-2b7a-4c3e-9d51-0f6a7b8c9d0e/resourceGroups/rg-secretless/providers/" +
        "Microsoft.ContainerRegistry/registries/acrsecretless";
      const result = await push(managedIdentityEnv(), {
        IMAGE_REPOSITORY: repository,
        REGISTRY_ID: registryId,
        REGISTRY_ARM_SCOPE: `https://${arm.host}/.default`,
        NODE_EXTRA_CA_CERTS: armCa,
      });
      const pushedHere = parseResult(result);
      expect(operations).toEqual([`POST ${registryId}/importImage`, "GET /operations/1"]);
      const request = arm.received.find((r) => r.method === "POST");
      expect(JSON.parse(request?.body.toString("utf8") ?? "{}")).toEqual({
        source: { registryUri: "docker.io", sourceImage: `library/node@${base.digest}` },
        untaggedTargetRepositories: [repository],
        mode: "NoForce",
      });
      expect(request?.headers.authorization).toMatch(/^Bearer eyJ/);
      // The same base and layer: the same image as in the first repository.
      expect(pushedHere.digest).toBe(pushed.digest);
    });
  });

  describeWithRegistry("the app started as the image starts it", () => {
    let app: ChildApp;
    const output: string[] = [];

    beforeAll(async () => {
      // The image's filesystem: the app layer pulled from the registry, unpacked by the system's tar.
      const rootfs = join(work.dir, "rootfs");
      mkdirSync(rootfs, { recursive: true });
      const client = contentClient(registry, APP_IMAGE_REPOSITORY, emulatorCredential(emu));
      const manifest = (await client.getManifest(pushed.digest)).manifest as unknown as ImageManifest;
      const config = JSON.parse((await readBlob(manifest.config.digest)).toString()) as ImageConfig;
      const layerPath = join(work.dir, "app-layer.tar.gz");
      writeFileSync(layerPath, await readBlob(image.layerDigest));
      const untar = spawnSync("tar", ["-xzf", layerPath, "-C", rootfs], { encoding: "utf8" });
      expect(untar.status, untar.stderr).toBe(0);

      // Entrypoint + Cmd, Env and WorkingDir from the pulled config; `node` is this Node (the base's is synthetic).
      const [entry, ...entryArgs] = config.config?.Entrypoint ?? [];
      expect(entry).toBe("node");
      const imageEnv = Object.fromEntries(
        (config.config?.Env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]),
      );
      const miPort = new URL(emu.identityEndpoint).port;
      app = await childApp({
        args: [...entryArgs, ...(config.config?.Cmd ?? [])],
        cwd: join(rootfs, config.config?.WorkingDir ?? "/"),
        env: imageEnv,
        // Container Apps' managed-identity endpoint: http://localhost:42356/msi/token, api-version 2019-08-01
        // (learn.microsoft.com/azure/container-apps/managed-identity, "REST endpoint reference").
        overrides: async () => ({ IDENTITY_ENDPOINT: `http://localhost:${miPort}/msi/token` }),
        port: await freePort(),
        output,
      })(emu);
      Object.assign(emu.registration, appRegistrationFor(app.url));
    }, 60_000);

    afterAll(async () => {
      await app?.close();
    });

    it("signs a user in with the managed identity's token as its credential", async () => {
      const miBefore = emu.stats.miRequests;
      const page = await new UserAgent().navigate(`${app.url}/signin`);
      expect(page.status, output.join("")).toBe(200);
      expect(page.body).toContain('<span id="user-name">Ada Lovelace</span>');
      expect(emu.stats.miRequests).toBeGreaterThan(miBefore);
    });

    it("reports ready on /readyz", async () => {
      const response = await fetch(`${app.url}/readyz`, { headers: { accept: "application/json" } });
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ reason: "ok" });
    });
  });
});

async function readBlob(digest: string): Promise<Buffer> {
  const client = contentClient(registry, APP_IMAGE_REPOSITORY, emulatorCredential(emu));
  const { content } = await client.downloadBlob(digest);
  const chunks: Buffer[] = [];
  for await (const chunk of content) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}
