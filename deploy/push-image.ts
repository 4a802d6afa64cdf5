/**
 * Pushes the app's container image to Azure Container Registry with the deployer's own Microsoft Entra token, and
 * prints the image's digest: the one line on stdout is `{"digest":"sha256:…","image":"<loginServer>/<repo>@sha256:…"}`
 * (progress goes to stderr), so the container app runs exactly that digest, never a mutable tag.
 *
 *   node --import tsx deploy/push-image.ts   (inputs from the environment, none of them secret)
 *
 * REGISTRY_LOGIN_SERVER   the registry's login server, from the registry resource (`myacr.azurecr.io`)
 * IMAGE_REPOSITORY        the repository (container-image.ts APP_IMAGE_REPOSITORY)
 * BASE_IMAGE              the base, pinned by digest (`docker.io/library/node:22-bookworm-slim@sha256:…`)
 * IMAGE_LAYOUT_DIR        the built layer and settings (default `dist/app-image`, from `buildAppImage()`)
 * IMAGE_CONTENT_SHA256    the sha256 of its image.json the stack planned with (`AppImage.contentSha256`)
 * REGISTRY_ID             optional: the registry's ARM resource ID, to import the base server-side when it is missing
 * REGISTRY_ARM_SCOPE      the cloud's Azure Resource Manager scope for that import (default the public cloud's)
 * REGISTRY_AUDIENCE       the Entra audience of the registry token (default `https://containerregistry.azure.net`)
 * plus AZURE_CLIENT_ID / AZURE_TENANT_ID (or ARM_*) in a GitHub Actions job, as for the other deploy scripts.
 *
 * How, with no Docker daemon and no registry password:
 * 1. The base gets into the registry server-side: if its manifest is not in the repository yet, ARM's Import Image
 *    (`POST …/registries/{name}/importImage`, REST reference "Registries - Import Image",
 *    learn.microsoft.com/rest/api/containerregistry/registries/import-image; `az acr import`) copies it from the
 *    public registry by digest into this repository, untagged (`untaggedTargetRepositories`). The deployer
 *    needs no credentials for a public base, and no base layer passes through this machine. Importing needs
 *    `Microsoft.ContainerRegistry/registries/importImage/action` (Contributor on the registry).
 * 2. The registry token: `@azure/container-registry`'s ContainerRegistryContentClient meets the registry's 401
 *    challenge (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`), exchanges the deployer's Entra access token
 *    for an ACR refresh token (`POST /oauth2/exchange`, grant_type=access_token) and that for a repository-scoped
 *    ACR access token (`POST /oauth2/token`, grant_type=refresh_token) — Azure/acr docs/AAD-OAuth.md. Pushing needs
 *    AcrPush on the registry. The Entra token's audience is ACR's (`https://containerregistry.azure.net`, the
 *    client's default; KnownContainerRegistryAudience).
 * 3. The image: the base manifest (for an index, its linux/amd64 entry) and config are read back, the app layer is
 *    stacked on top (oci-image.ts composeImage), and the app layer, the config and the manifest are pushed. A blob
 *    the repository already holds is not uploaded again, and when the manifest itself is there nothing is. The
 *    manifest goes with a tag derived from its digest ({@link imageTag}); the container app runs the digest.
 *
 * The token is held by the client for requests to the login server only (the SDK drops the Authorization header when
 * it follows a redirect, e.g. ACR's to blob storage), and never printed. Exit codes: cli.ts.
 */
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ContainerRegistryManagementClient } from "@azure/arm-containerregistry";
import { ContainerRegistryContentClient } from "@azure/container-registry";
import type { TokenCredential } from "@azure/identity";
import { DeployStepError, ExitCode, badInput, oneLine, requireHost, runMain, sha256 } from "./cli";
import { APP_IMAGE_DIR, type AppImageLayout, LAYER_FILE, PushImageEnv, SPEC_FILE } from "./container-image";
import {
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
  type PinnedReference,
  composeImage,
  isDigest,
  isIndex,
  parsePinnedReference,
  pickPlatform,
  repositoryProblem,
  sha256Digest,
} from "./oci-image";
import { DEFAULT_ARM_SCOPE, defaultCredential, notLoggedIn } from "./one-deploy";
import { trackedFilesIn } from "./package-app";

const NAME = "push-image";

/** ACR's Entra audience (the SDK's default; Azure/acr docs/AAD-OAuth.md). */
export const ACR_AUDIENCE = "https://containerregistry.azure.net";

export interface PushImageOptions {
  /** `myacr.azurecr.io` (or `host:port`). */
  readonly loginServer: string;
  readonly repository: string;
  /** `registry/repository[:tag]@sha256:…`. */
  readonly baseImage: string;
  /** Folder with layer.tar.gz and image.json. */
  readonly layoutDir: string;
  /** Hex sha256 of image.json the stack planned with. */
  readonly contentSha256: string;
  /** ARM ID of the registry, for the server-side import of a missing base. */
  readonly registryId?: string;
  readonly armScope?: string;
  readonly audience?: string;
  readonly credential?: TokenCredential;
  /** Progress lines. Default: stderr (stdout carries only the result). */
  readonly log?: (line: string) => void;
  /** Bound on the base import. Default 10 minutes. */
  readonly importTimeoutMs?: number;
}

/** What the push reports. */
export interface PushedImage {
  readonly digest: string;
  /** `<loginServer>/<repository>@<digest>`: what the container app runs. */
  readonly image: string;
  /** Blobs uploaded by this run (0 when everything was there already). */
  readonly uploadedBlobs: number;
  readonly baseImported: boolean;
}

/** Pushes the image and returns its digest. Throws {@link DeployStepError} with the fix on failure. */
export async function pushImage(options: PushImageOptions): Promise<PushedImage> {
  const log = options.log ?? ((line: string) => console.error(`${NAME}: ${line}`));
  const loginServer = requireHost(options.loginServer, "REGISTRY_LOGIN_SERVER", "REGISTRY_LOGIN_SERVER");
  const repoProblem = repositoryProblem(options.repository);
  if (repoProblem) throw badInput(`IMAGE_REPOSITORY ${repoProblem}`, "pass APP_IMAGE_REPOSITORY (secretless-signin)");
  const base = parsePinnedReference(options.baseImage);
  if (typeof base === "string") throw badInput(`BASE_IMAGE ${base}`, "pass the base image the stack built for");
  const { layout, layer } = readVerifiedLayout(options.layoutDir, options.contentSha256, options.baseImage);
  const credential = options.credential ?? defaultCredential();
  const audience = options.audience ?? ACR_AUDIENCE;
  if (!/^https:\/\/[a-z0-9.-]+(?::\d{1,5})?$/i.test(audience)) {
    throw badInput(
      `REGISTRY_AUDIENCE must be an https origin such as ${ACR_AUDIENCE}, ` +
        `got ${JSON.stringify(audience.slice(0, 100))}`,
      `leave it unset for ${ACR_AUDIENCE}`,
    );
  }
  const client = new ContainerRegistryContentClient(`https://${loginServer}`, options.repository, credential, {
    audience,
  });
  const registry = new Registry(client, loginServer, options.repository, audience);

  // 1. The base, in this repository.
  let baseImported = false;
  let baseTop = await registry.manifest(base.digest);
  if (!baseTop) {
    if (!options.registryId) {
      throw new DeployStepError(
        `the base image ${base.digest} is not in ${loginServer}/${options.repository}, and no REGISTRY_ID was given ` +
          "to import it",
        "Pass the registry's ARM resource ID as REGISTRY_ID (the stack does), or import it once with " +
          `\`az acr import -n <registry> --source ${options.baseImage} --image ${options.repository}\`.`,
        ExitCode.BadInput,
      );
    }
    log(`importing the base ${base.registry}/${base.repository}@${base.digest} into ${options.repository}`);
    await importBase(options.registryId, base, options.repository, credential, options.armScope, options);
    baseImported = true;
    baseTop = await registry.manifest(base.digest);
    if (!baseTop) {
      throw new DeployStepError(
        `the import finished but ${loginServer}/${options.repository} has no manifest ${base.digest}`,
        "Check the registry's repository in the portal; run `pulumi up` again.",
        ExitCode.Failed,
      );
    }
  }
  let baseManifest: ImageManifest;
  if (isIndex(baseTop.mediaType)) {
    const entry = pickPlatform(baseTop.manifest as unknown as ImageIndex);
    if (!entry) {
      throw new DeployStepError(
        `the base image ${options.baseImage} has no linux/amd64 image, which Container Apps runs`,
        "Choose a base image published for linux/amd64.",
        ExitCode.BadInput,
      );
    }
    const platform = await registry.manifest(entry.digest);
    if (!platform || isIndex(platform.mediaType)) {
      throw new DeployStepError(
        `the base image's linux/amd64 manifest ${entry.digest} is missing from ${options.repository}`,
        "Import the base again (`az acr import … --force`), then run `pulumi up`.",
        ExitCode.Failed,
      );
    }
    baseManifest = { ...(platform.manifest as unknown as ImageManifest), mediaType: platform.mediaType };
  } else {
    baseManifest = { ...(baseTop.manifest as unknown as ImageManifest), mediaType: baseTop.mediaType };
  }
  const baseConfig = JSON.parse((await registry.blob(baseManifest.config.digest)).toString("utf8")) as ImageConfig;

  // 2. The new image, composed locally: its digest is known before anything is uploaded.
  const image = composeImage(baseManifest, baseConfig, layout);
  const reference = `${loginServer}/${options.repository}@${image.manifest.digest}`;
  if (await registry.manifest(image.manifest.digest)) {
    log(`${reference} is already in the registry; nothing to push`);
    return { digest: image.manifest.digest, image: reference, uploadedBlobs: 0, baseImported };
  }

  // 3. The blobs the repository lacks, then the manifest (a registry refuses a manifest whose blobs are missing).
  let uploadedBlobs = 0;
  for (const blob of [
    { what: "app layer", digest: image.appLayer.digest, bytes: layer },
    { what: "config", digest: image.config.digest, bytes: image.config.bytes },
  ]) {
    if (await registry.hasBlob(blob.digest)) {
      log(`${blob.what} ${blob.digest} is already in the registry`);
      continue;
    }
    log(`uploading the ${blob.what} ${blob.digest} (${blob.bytes.length} bytes)`);
    await registry.upload(blob.digest, blob.bytes);
    uploadedBlobs++;
  }
  const tag = imageTag(image.manifest.digest);
  await registry.putManifest(image.manifest.digest, image.manifest.bytes, image.manifest.mediaType, tag);
  log(`pushed ${reference} (tag ${tag})`);
  return { digest: image.manifest.digest, image: reference, uploadedBlobs, baseImported };
}

/**
 * The tag the manifest is pushed with: derived from its digest, so it names one image forever and is never moved.
 * The container app runs the digest, not this tag; the tag keeps the image listed (`az acr repository show-tags`) and
 * out of reach of a retention policy that purges untagged manifests, which would break the next revision's pull.
 */
export function imageTag(digest: string): string {
  return `app-${digest.slice("sha256:".length, "sha256:".length + 16)}`;
}

/** The content client, with each failure turned into a message and a fix. */
class Registry {
  constructor(
    private readonly client: ContainerRegistryContentClient,
    private readonly loginServer: string,
    private readonly repository: string,
    private readonly audience: string,
  ) {}

  /** The manifest named by `digest`, or undefined when the repository has none. */
  async manifest(digest: string): Promise<{ mediaType: string; manifest: Record<string, unknown> } | undefined> {
    try {
      const result = await this.client.getManifest(digest);
      return { mediaType: result.mediaType, manifest: result.manifest };
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw this.failure(error, `read the manifest ${digest}`);
    }
  }

  /** A blob's bytes, checked against its digest. */
  async blob(digest: string): Promise<Buffer> {
    try {
      const { content } = await this.client.downloadBlob(digest);
      const chunks: Buffer[] = [];
      for await (const chunk of content) chunks.push(Buffer.from(chunk as Uint8Array));
      const bytes = Buffer.concat(chunks);
      if (sha256Digest(bytes) !== digest) throw new Error(`the registry sent a blob that is not ${digest}`);
      return bytes;
    } catch (error) {
      throw this.failure(error, `read the blob ${digest}`);
    }
  }

  /**
   * Whether the repository holds the blob. The client has no HEAD call, so it reads the blob (only the app layer and
   * the config are ever asked about: hundreds of kilobytes at most) and checks its digest.
   */
  async hasBlob(digest: string): Promise<boolean> {
    try {
      await this.blob(digest);
      return true;
    } catch (error) {
      if (statusOf((error as { cause?: unknown }).cause) === 404) return false;
      throw error;
    }
  }

  async upload(digest: string, bytes: Buffer): Promise<void> {
    try {
      const result = await this.client.uploadBlob(bytes);
      if (result.digest !== digest) throw new Error(`the registry stored ${result.digest}, not ${digest}`);
    } catch (error) {
      throw this.failure(error, `upload the blob ${digest}`);
    }
  }

  async putManifest(digest: string, bytes: Buffer, mediaType: string, tag: string): Promise<void> {
    try {
      const result = await this.client.setManifest(bytes, { mediaType, tag });
      if (result.digest !== digest)
        throw new Error(`the registry stored the manifest as ${result.digest}, not ${digest}`);
    } catch (error) {
      throw this.failure(error, `push the manifest ${digest}`);
    }
  }

  private failure(error: unknown, what: string): DeployStepError {
    if (error instanceof DeployStepError) return error;
    const status = statusOf(error);
    const said = oneLine(error instanceof Error ? error.message : String(error), 300);
    const where = `${this.loginServer}/${this.repository}`;
    if (status === 401 || status === 403) {
      const wrapped = new DeployStepError(
        `${this.loginServer} refused to let this identity ${what} (${status}): ${said}`,
        `Give the deploying identity AcrPush on the registry (and, to import the base, Contributor), and sign in to ` +
          `the registry's tenant; the token must be for ${this.audience}. The registry's admin user stays off.`,
        ExitCode.Unauthorized,
      );
      return Object.assign(wrapped, { cause: error });
    }
    if (isCredentialError(error))
      return Object.assign(notLoggedIn(error, `${this.audience}/.default`), { cause: error });
    if (status === 404) {
      return Object.assign(
        new DeployStepError(
          `${where} has no such content while trying to ${what} (404): ${said}`,
          "Run `pulumi up` again; if the registry was recreated, `pulumi refresh` first.",
          ExitCode.NotFound,
        ),
        { cause: error },
      );
    }
    const code = (error as { code?: unknown }).code;
    const unreachable =
      typeof code === "string" && /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ECONNRESET|ETIMEDOUT)$/.test(code);
    return Object.assign(
      new DeployStepError(
        `could not ${what} in ${where}${status ? ` (${status})` : ""}: ${said}`,
        unreachable
          ? "Check this machine's network and the registry's public network access (or your private endpoint)."
          : "Run `pulumi up` again; if it keeps failing, the message above says what the registry refused.",
        unreachable ? ExitCode.Unreachable : ExitCode.Failed,
      ),
      { cause: error },
    );
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

function isCredentialError(error: unknown): boolean {
  const name = (error as { name?: unknown } | undefined)?.name;
  return (
    name === "CredentialUnavailableError" || name === "AuthenticationError" || name === "AggregateAuthenticationError"
  );
}

const REGISTRY_ID = new RegExp(
  String.raw`^\/subscriptions\/([0-9a-f-]{36})\/resourceGroups\/([\w.()-]{1,90})` +
    String.raw`\/providers\/Microsoft\.ContainerRegistry\/registries\/([A-Za-z0-9]{5,50})$`,
  "i",
);

/**
 * ARM Import Image from the base's public registry into `repository`, untagged, by digest (the SDK's ImportSource:
 * "Specify an image by sha256-based manifest digest ('hello-world@sha256:abc123')"). Docker Hub's registry is
 * `docker.io` with `library/` for official images, as `az acr import --source docker.io/library/…` takes it.
 */
export function importImageParameters(
  base: PinnedReference,
  repository: string,
): { source: { registryUri: string; sourceImage: string }; untaggedTargetRepositories: string[]; mode: "NoForce" } {
  return {
    source: { registryUri: base.registry, sourceImage: `${base.repository}@${base.digest}` },
    untaggedTargetRepositories: [repository],
    mode: "NoForce",
  };
}

async function importBase(
  registryId: string,
  base: PinnedReference,
  repository: string,
  credential: TokenCredential,
  armScope: string | undefined,
  options: { importTimeoutMs?: number },
): Promise<void> {
  const match = REGISTRY_ID.exec(registryId);
  if (!match) {
    throw badInput(
      `REGISTRY_ID must be a container registry's ARM resource ID, got ${JSON.stringify(registryId.slice(0, 200))}`,
      "pass the registry resource's id output",
    );
  }
  const [, subscriptionId, resourceGroup, registryName] = match as unknown as [string, string, string, string];
  const scope = armScope ?? DEFAULT_ARM_SCOPE;
  if (!/^https:\/\/[a-z0-9.-]+(?::\d{1,5})?\/\.default$/i.test(scope)) {
    throw badInput(`REGISTRY_ARM_SCOPE must be an ARM scope such as ${DEFAULT_ARM_SCOPE}`, "pass the cloud's scope");
  }
  const endpoint = scope.slice(0, -"/.default".length);
  const arm = new ContainerRegistryManagementClient(credential, subscriptionId, {
    endpoint,
    credentials: { scopes: [scope] },
  });
  try {
    await arm.registries.importImage(resourceGroup, registryName, importImageParameters(base, repository), {
      abortSignal: AbortSignal.timeout(options.importTimeoutMs ?? 10 * 60_000),
    });
  } catch (error) {
    const status = statusOf(error);
    const said = oneLine(error instanceof Error ? error.message : String(error), 400);
    if (isCredentialError(error)) throw notLoggedIn(error, scope);
    throw new DeployStepError(
      `the registry could not import ${base.registry}/${base.repository}@${base.digest}` +
        `${status ? ` (${status})` : ""}: ` +
        said,
      status === 401 || status === 403
        ? "Give the deploying identity Contributor on the registry (importImage/action), or import the base once by " +
            "hand with `az acr import`."
        : "Check the base image's digest exists (`docker buildx imagetools inspect <image>`); Docker Hub limits " +
            "anonymous pulls, so retry later or import it once by hand with `az acr import`.",
      status === 401 || status === 403 ? ExitCode.Unauthorized : ExitCode.Failed,
    );
  }
}

/** Reads layer.tar.gz and image.json and checks they are what the stack planned to push. */
function readVerifiedLayout(
  dir: string,
  contentSha256: string,
  baseImage: string,
): { layout: AppImageLayout; layer: Buffer } {
  if (!/^[0-9a-f]{64}$/.test(contentSha256 ?? "")) {
    throw badInput(
      "IMAGE_CONTENT_SHA256 must be 64 lower-case hex digits",
      "pass the contentSha256 that buildAppImage() returned",
    );
  }
  const tracked = trackedFilesIn(resolve(dir));
  if (tracked.length > 0) {
    throw new DeployStepError(
      `refusing to push: git tracks ${tracked.length} file(s) in the image layout ${dir}/ ` +
        `(${tracked
          .slice(0, 3)
          .map((f) => oneLine(f, 80))
          .join(", ")})`,
      "The layout is build output (dist/ is in .gitignore); a committed layer would be pushed instead of your " +
        "sources. Run `git rm -r --cached dist`, commit, and run `pulumi up` again.",
      ExitCode.BadInput,
    );
  }
  let spec: Buffer;
  let layer: Buffer;
  try {
    spec = readFileSync(join(resolve(dir), SPEC_FILE));
    layer = readFileSync(join(resolve(dir), LAYER_FILE));
  } catch {
    throw new DeployStepError(
      `the image layout ${dir}/ (${SPEC_FILE}, ${LAYER_FILE}) is missing`,
      "Run `npm run app:image` (`pulumi up` does this itself) and try again.",
      ExitCode.BadInput,
    );
  }
  if (sha256(spec) !== contentSha256) {
    throw new DeployStepError(
      `${dir}/${SPEC_FILE} has sha256 ${sha256(spec)}, but the stack planned to push ${contentSha256}`,
      "The image was rebuilt after the preview computed its hash (another build ran in between). " +
        "Run `pulumi up` again.",
      ExitCode.BadInput,
    );
  }
  const layout = JSON.parse(spec.toString("utf8")) as AppImageLayout;
  if (layout.baseImage !== baseImage) {
    throw badInput(
      `the image was built for the base ${layout.baseImage}, not BASE_IMAGE ${baseImage}`,
      "pass the base image the stack built with",
    );
  }
  if (
    !isDigest(layout.layer?.digest) ||
    sha256Digest(layer) !== layout.layer.digest ||
    layer.length !== layout.layer.size
  ) {
    throw new DeployStepError(
      `${dir}/${LAYER_FILE} is not the layer ${SPEC_FILE} names`,
      "Rebuild it with `npm run app:image -- --force`.",
      ExitCode.BadInput,
    );
  }
  return { layout, layer };
}

/** The options from the environment (see the top of this file). */
export function optionsFromEnvironment(env: NodeJS.ProcessEnv): PushImageOptions {
  const registryId = env[PushImageEnv.RegistryId];
  const armScope = env[PushImageEnv.ArmScope];
  const audience = env[PushImageEnv.Audience];
  return {
    loginServer: env[PushImageEnv.LoginServer] ?? "",
    repository: env[PushImageEnv.Repository] ?? "",
    baseImage: env[PushImageEnv.BaseImage] ?? "",
    layoutDir: env[PushImageEnv.LayoutDir] || APP_IMAGE_DIR,
    contentSha256: env[PushImageEnv.ContentSha256] ?? "",
    ...(registryId ? { registryId } : {}),
    ...(armScope ? { armScope } : {}),
    ...(audience ? { audience } : {}),
  };
}

if (require.main === module) {
  runMain(NAME, async () => {
    const pushed = await pushImage(optionsFromEnvironment(process.env));
    // The one line on stdout: what the stack reads.
    console.log(JSON.stringify({ digest: pushed.digest, image: pushed.image }));
  });
}
