/**
 * What the container-image tests share: the local registry behind its ACR-style token front end (local/
 * container-registry.ts), trusted by this process; a synthetic base image SEEDED STRAIGHT INTO THE REGISTRY by this
 * harness (standing in for ACR's server-side import of the real Node base, which needs Azure and Docker Hub); a copy
 * of the app's sources to build the image from; and an in-process registry client signed in with an emulator token,
 * to pull what the push left behind.
 *
 * If docker-registry is not installed the suite is skipped with a message, except in CI (CI=true), where .ci/run
 * installs it and a missing registry fails the file.
 */
import { cpSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { ContainerRegistryContentClient } from "@azure/container-registry";
import type { AccessToken, TokenCredential } from "@azure/identity";
import { describeWhenInstalled } from "./installed";
import type { RunningEmulator } from "../../emulator";
import { trustEmulatorCertificate } from "../../emulator/trust-certificate";
import { tarFolder } from "../../deploy/container-image";
import { type Descriptor, type ImageConfig, MediaType, sha256Digest } from "../../deploy/oci-image";
import {
  ACR_TOKEN_AUDIENCE,
  findDockerRegistry,
  type LocalContainerRegistry,
  startLocalContainerRegistry,
} from "../../local/container-registry";
import { REPO } from "./repo";

/** `describe`, or `describe.skip` with a message when docker-registry is absent outside CI. */
export const describeWithRegistry = describeWhenInstalled(findDockerRegistry(), "docker-registry", "image tests");

/** The object ID the registry grants pull only (an AcrPull-only principal), for the scope-narrowing test. */
export const PULL_ONLY_PRINCIPAL = "5ca1ab1e-0000-4000-8000-00000000a11d";

/**
 * The registry, trusting the emulator's tokens: pull and push for the emulator's managed identity, pull only for
 * {@link PULL_ONLY_PRINCIPAL}, nothing for anyone else.
 */
export async function startRegistryFor(emu: RunningEmulator): Promise<LocalContainerRegistry> {
  const registry = await startLocalContainerRegistry({
    entra: {
      issuer: emu.issuer,
      tenantId: emu.tenantId,
      jwksUri: `${emu.instance}${emu.tenantId}/discovery/v2.0/keys`,
      caCertPem: emu.caCertPem,
    },
    roles: { [emu.registration.uami.principalId]: ["pull", "push"], [PULL_ONLY_PRINCIPAL]: ["pull"] },
  });
  // This process pulls what the pushes left behind.
  trustEmulatorCertificate({ caCertPem: registry.caPem });
  return registry;
}

/** A credential that hands out the emulator's managed-identity token for ACR's audience. */
export function emulatorCredential(emu: RunningEmulator, claims?: Record<string, unknown>): TokenCredential {
  return {
    async getToken(): Promise<AccessToken> {
      const token = await emu.mintManagedIdentityToken({ resource: ACR_TOKEN_AUDIENCE, ...(claims ? { claims } : {}) });
      return { token, expiresOnTimestamp: Date.now() + 30 * 60_000 };
    },
  };
}

export function contentClient(registry: LocalContainerRegistry, repository: string, credential: TokenCredential) {
  return new ContainerRegistryContentClient(`https://${registry.loginServer}`, repository, credential);
}

/** A synthetic base image: one layer per platform, the Node image's PATH, Entrypoint and Cmd, in an OCI index. */
export interface SyntheticBase {
  /** The index digest: what BASE_IMAGE pins. */
  readonly digest: string;
  /** A pinned reference naming it, as the stack's default names the real base. */
  readonly reference: string;
  readonly amd64: { readonly manifestDigest: string; readonly layers: readonly Descriptor[]; readonly env: string[] };
}

/**
 * Pushes the synthetic base into `repository` with a token the front end signs for the harness (as if ACR's import
 * had put it there): blobs by monolithic upload, then the two platform manifests, then the index.
 */
export async function seedSyntheticBase(
  registry: LocalContainerRegistry,
  repository: string,
  scratchDir: string,
): Promise<SyntheticBase> {
  const token = registry.issueToken([{ type: "repository", name: repository, actions: ["pull", "push"] }]);
  const base = `https://${registry.loginServer}/v2/${repository}`;
  const send = async (method: string, url: string, body?: Buffer, contentType?: string): Promise<Response> => {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(contentType ? { "content-type": contentType } : {}) },
      ...(body ? { body } : {}),
    });
    if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
    return response;
  };
  // Distribution's two-step upload: POST opens a session (its Location is relative), PUT with ?digest= ends it.
  const blob = async (bytes: Buffer): Promise<string> => {
    const digest = sha256Digest(bytes);
    const session = await send("POST", `${base}/blobs/uploads/`);
    const location = new URL(session.headers.get("location") ?? "", `https://${registry.loginServer}`);
    location.searchParams.set("digest", digest);
    await send("PUT", location.href, bytes, "application/octet-stream");
    return digest;
  };
  const env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "NODE_VERSION=22.23.1"];
  const platformManifest = async (architecture: string) => {
    const folder = join(scratchDir, `base-${architecture}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "os-release"), `NAME="synthetic base for ${architecture}"\n`);
    const { tar } = await tarFolder(folder, "etc");
    const layerBytes = gzipSync(tar);
    const layer: Descriptor = {
      mediaType: MediaType.OciLayerGzip,
      digest: await blob(layerBytes),
      size: layerBytes.length,
    };
    const config: ImageConfig = {
      architecture,
      os: "linux",
      created: "2026-01-01T00:00:00Z",
      config: { Env: env, Entrypoint: ["docker-entrypoint.sh"], Cmd: ["node"], WorkingDir: "/" },
      rootfs: { type: "layers", diff_ids: [sha256Digest(tar)] },
      history: [{ created: "2026-01-01T00:00:00Z", created_by: "synthetic base (test harness)" }],
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: await blob(configBytes), size: configBytes.length },
        layers: [layer],
      }),
    );
    const digest = sha256Digest(manifest);
    await send("PUT", `${base}/manifests/${digest}`, manifest, MediaType.OciManifest);
    return { digest, size: manifest.length, layers: [layer] };
  };
  const amd64 = await platformManifest("amd64");
  const arm64 = await platformManifest("arm64");
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OciIndex,
      manifests: [
        // arm64 first: the push must pick by platform, not by position.
        {
          mediaType: MediaType.OciManifest,
          digest: arm64.digest,
          size: arm64.size,
          platform: { os: "linux", architecture: "arm64" },
        },
        {
          mediaType: MediaType.OciManifest,
          digest: amd64.digest,
          size: amd64.size,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    }),
  );
  const digest = sha256Digest(index);
  await send("PUT", `${base}/manifests/${digest}`, index, MediaType.OciIndex);
  return {
    digest,
    reference: `docker.io/library/node:22-bookworm-slim@${digest}`,
    amd64: { manifestDigest: amd64.digest, layers: amd64.layers, env },
  };
}

/** A copy of the app's sources (app/, contract/, the lockfile; node_modules linked) to build the image from. */
export function copySources(dir: string): string {
  const root = join(dir, "src");
  for (const part of ["app", "contract"]) cpSync(join(REPO, part), join(root, part), { recursive: true });
  cpSync(join(REPO, "package-lock.json"), join(root, "package-lock.json"));
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"), "dir");
  return root;
}
