/** The stylesheet and icon under /public/, read into memory at start, and /favicon.ico. */
import { readdirSync, readFileSync } from "node:fs";
import { extname, join } from "node:path";
import type { FastifyInstance, FastifyReply } from "fastify";
import { APP_ROUTES, ASSET_ROUTE } from "../../contract/routes";

interface AssetOptions {
  /** The folder of static assets. */
  readonly dir: string;
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const CONTENT_TYPES: Record<string, string> = {
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

export async function assetRoutes(app: FastifyInstance, options: AssetOptions): Promise<void> {
  const assets = loadAssets(options.dir);

  // The file name as a JSON schema: a plain name; anything else is not one of the assets (404 page, not a 400).
  const params = { type: "object", properties: { file: { type: "string", pattern: "^[\\w.-]{1,64}$" } } } as const;
  const route = { schema: { params }, attachValidation: true };
  app.get<{ Params: { file: string } }>(ASSET_ROUTE, route, async (req, reply) => {
    if (req.validationError) return notFound(reply);
    const asset = assets.get(req.params.file);
    if (!asset) return notFound(reply);
    return reply.header("cache-control", "public, max-age=3600").type(asset.type).send(asset.body);
  });

  app.get(APP_ROUTES.favicon, async (_req, reply) => {
    const icon = assets.get("favicon.svg");
    if (!icon) return notFound(reply);
    return reply.header("cache-control", "public, max-age=86400").type(icon.type).send(icon.body);
  });
}

/** The app's not-found page (or JSON), from the not-found handler. */
function notFound(reply: FastifyReply): FastifyReply {
  reply.callNotFound();
  return reply;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    return assets; // No assets: pages still work, unstyled.
  }
  for (const file of files) {
    const type = CONTENT_TYPES[extname(file)];
    if (type) assets.set(file, { type, body: readFileSync(join(dir, file)) });
  }
  return assets;
}
