/**
 * The two adopt scripts as Pulumi runs them (real processes, the operator's token from a fake `az`) against a fake
 * Azure Resource Manager and a fake Microsoft Graph on 127.0.0.1 over HTTPS: the two traps of adopting objects the
 * stack does not own. The site's settings are one collection and hold a secret: only the stack's names change, the
 * secret stays second and never reaches the output; the registration's redirect URIs are one list: its other URIs
 * survive create, update (an undo then a create) and destroy.
 */
import type { ServerResponse } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ADOPT_REDIRECT_COMMAND, ADOPT_SITE_COMMAND } from "../../components/adoption";
import {
  GUARD_MARKER,
  type HttpsFake,
  type Received,
  fakeAz,
  json,
  runScript,
  scratch,
  startHttps,
} from "../support/deploy-harness";

const TOKEN = "operator-token-never-printed";
const SECRET = "client-secret-value-never-printed";
const SUB = "/subscriptions/2c4e6a8b-0d1f-4a3c-9e5b-7d9f1b3d5f7a/resourceGroups/rg-orders";
const SITE_ID = `${SUB}/providers/Microsoft.Web/sites/orders`;
const UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/stack-identity`;
const OWNER_UAMI = `${SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/owners-identity`;
const APP_OBJECT_ID = "6f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f";
const MI_CLIENT_ID = "1ed71c04-20c2-4e91-ad48-d7aac0d88a23";
const CLIENT_ID = "ff41c3b3-23f1-483b-a008-e607bb895805";
const TENANT_ID = "00000000-0000-4000-8000-00000000feed";
const OUR_URI = "https://orders.azurewebsites.net/signin-oidc";
const OWNER_URIS = ["https://orders.contoso.com/signin-oidc", "https://localhost:5001/signin-oidc"];

/** What the owner's site and registration hold before the stack adopts them. */
const ORIGINAL_SETTINGS = {
  AzureAd__Instance: "https://login.microsoftonline.com/",
  AzureAd__TenantId: TENANT_ID,
  AzureAd__ClientId: CLIENT_ID,
  AzureAd__ClientCredentials__0__SourceType: "ClientSecret",
  AzureAd__ClientCredentials__0__ClientSecret: SECRET,
  ConnectionStrings__Orders: "@Microsoft.KeyVault(SecretUri=https://kv-orders.vault.azure.net/secrets/db/)",
  ASPNETCORE_ENVIRONMENT: "Production",
};

let work: ReturnType<typeof scratch>;
let fake: HttpsFake;
const world = {
  kind: "app,linux",
  settings: {} as Record<string, string>,
  identity: { type: "SystemAssigned", userAssignedIdentities: {} as Record<string, object> },
  redirectUris: [] as string[],
  graphStatus: 200,
};

function reset() {
  world.kind = "app,linux";
  world.settings = { ...ORIGINAL_SETTINGS };
  world.identity = { type: "SystemAssigned, UserAssigned", userAssignedIdentities: { [OWNER_UAMI]: {} } };
  world.redirectUris = [...OWNER_URIS];
  world.graphStatus = 200;
}

/** The fake ARM (site, settings, identity with PATCH merge semantics) and Graph (an application's web URIs). */
function handle(req: Received, res: ServerResponse) {
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return json(res, 401, { error: { code: "InvalidToken" } });
  const url = new URL(req.url, "https://fake");
  const body = req.body.length ? JSON.parse(req.body.toString()) : undefined;
  if (url.pathname.startsWith("/v1.0/applications/")) {
    if (world.graphStatus !== 200)
      return json(res, world.graphStatus, { error: { code: "Authorization_RequestDenied" } });
    if (url.pathname !== `/v1.0/applications/${APP_OBJECT_ID}`) return json(res, 404, { error: { code: "NotFound" } });
    if (req.method === "GET") return json(res, 200, { web: { redirectUris: world.redirectUris, logoutUrl: null } });
    if (req.method === "PATCH") {
      world.redirectUris = body.web.redirectUris;
      res.writeHead(204);
      return res.end();
    }
  }
  if (url.searchParams.get("api-version") !== "2025-05-01") return json(res, 400, { error: { code: "ApiVersion" } });
  if (url.pathname === SITE_ID && req.method === "GET") {
    return json(res, 200, {
      kind: world.kind,
      location: "West Europe",
      identity: world.identity,
      properties: {
        serverFarmId: `${SUB}/providers/Microsoft.Web/serverfarms/plan`,
        siteConfig: { linuxFxVersion: "DOTNETCORE|8.0" },
      },
    });
  }
  if (url.pathname === SITE_ID && req.method === "PATCH") {
    // ARM's identity PATCH: named identities merge in, a null one goes, the type says what remains.
    const next = { ...world.identity.userAssignedIdentities };
    for (const [id, v] of Object.entries(body.identity.userAssignedIdentities ?? {})) {
      if (v === null) delete next[id];
      else next[id] = {};
    }
    world.identity = {
      type: body.identity.type,
      userAssignedIdentities: /UserAssigned/.test(body.identity.type) ? next : {},
    };
    return json(res, 200, {});
  }
  if (url.pathname === `${SITE_ID}/config/appsettings/list` && req.method === "POST") {
    return json(res, 200, { properties: world.settings });
  }
  if (url.pathname === `${SITE_ID}/config/appsettings` && req.method === "PUT") {
    world.settings = body.properties;
    return json(res, 200, { properties: world.settings });
  }
  json(res, 404, { error: { code: "NotFound", message: `${req.method} ${url.pathname}` } });
}

beforeAll(async () => {
  work = scratch();
  fake = await startHttps(work.dir, handle);
});
afterAll(async () => {
  await fake?.close();
  work?.dispose();
});
afterEach(() => reset());

/** Runs one adopt script as its command would, with the previous run's stdout when it undoes. */
async function run(command: string, env: Record<string, string>, previousStdout?: string) {
  const az = fakeAz(work.dir, TOKEN);
  const [, , , script, flag] = command.split(" ");
  const result = await runScript(script!.replace("deploy/", ""), flag ? [flag] : [], {
    PATH: `${az.binDir}:${process.env.PATH}`,
    NODE_EXTRA_CA_CERTS: fake.caPath,
    ...env,
    ...(previousStdout === undefined ? {} : { PULUMI_COMMAND_STDOUT: previousStdout }),
  });
  const output = result.stdout + result.stderr;
  // Whatever happened: no token, no setting value, nothing off loopback.
  expect(output).not.toContain(TOKEN);
  expect(output).not.toContain(SECRET);
  expect(output).not.toContain("kv-orders");
  expect(result.stderr).not.toContain(GUARD_MARKER);
  return result;
}

const siteEnv = () => ({
  ADOPT_SITE_ID: SITE_ID,
  ADOPT_SITE_HOST: "orders.azurewebsites.net",
  ADOPT_IDENTITY_ID: UAMI,
  ADOPT_ARM_SCOPE: `https://${fake.host}/.default`,
  ADOPT_INSTANCE: "https://login.microsoftonline.com/",
  ADOPT_TENANT_ID: TENANT_ID,
  ADOPT_CLIENT_ID: CLIENT_ID,
  ADOPT_CALLBACK_PATH: "/signin-oidc",
  ADOPT_MI_CLIENT_ID: MI_CLIENT_ID,
  ADOPT_TOKEN_EXCHANGE_URL: "api://AzureADTokenExchange",
});
const redirectEnv = (uri = OUR_URI) => ({
  ADOPT_GRAPH_URL: `https://${fake.host}/v1.0`,
  ADOPT_APP_OBJECT_ID: APP_OBJECT_ID,
  ADOPT_REDIRECT_URI: uri,
});
const undo = (command: string) => `${command} --undo`;

describe("adopt-site.ts against a fake ARM", () => {
  it("puts the managed identity first and the secret second, every other setting and identity untouched", async () => {
    reset();
    const result = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const { AzureAd__ClientCredentials__0__ClientSecret: _moved, ...untouched } = ORIGINAL_SETTINGS;
    expect(world.settings).toEqual({
      ...untouched,
      AzureAd__CallbackPath: "/signin-oidc",
      AzureAd__ClientCredentials__0__SourceType: "SignedAssertionFromManagedIdentity",
      AzureAd__ClientCredentials__0__ManagedIdentityClientId: MI_CLIENT_ID,
      AzureAd__ClientCredentials__0__TokenExchangeUrl: "api://AzureADTokenExchange",
      AzureAd__ClientCredentials__1__SourceType: "ClientSecret",
      AzureAd__ClientCredentials__1__ClientSecret: SECRET,
    });
    expect(world.identity).toEqual({
      type: "SystemAssigned, UserAssigned",
      userAssignedIdentities: { [OWNER_UAMI]: {}, [UAMI]: {} },
    });
    // What Pulumi keeps as the command's stdout: names and flags only.
    expect(result.stdout.trim().split("\n").at(-1)).toBe(
      'adopt-site: adopt-record: {"addedSettings":["AzureAd__CallbackPath"],"addedIdentity":true}',
    );
  });

  it("gives everything back on destroy: the owner's settings, secret and identities as they were", async () => {
    reset();
    const created = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(created.code).toBe(0);
    const undone = await run(undo(ADOPT_SITE_COMMAND), siteEnv(), created.stdout);
    expect(undone.stderr).toBe("");
    expect(undone.code).toBe(0);
    expect(world.settings).toEqual(ORIGINAL_SETTINGS);
    expect(world.identity).toEqual({
      type: "SystemAssigned, UserAssigned",
      userAssignedIdentities: { [OWNER_UAMI]: {} },
    });
  });

  it("is idempotent: a second create writes nothing", async () => {
    reset();
    await run(ADOPT_SITE_COMMAND, siteEnv());
    const after = structuredClone(world.settings);
    const again = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(again.code).toBe(0);
    expect(world.settings).toEqual(after);
    expect(again.stdout).toContain("nothing to write");
  });

  it("refuses a site whose AzureAd__ClientId is another registration's, changing nothing", async () => {
    reset();
    world.settings.AzureAd__ClientId = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const before = structuredClone(world);
    const result = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AzureAd__ClientId differs from the stack's \(existingAppClientId\)/);
    expect(result.stderr).toMatch(/fix: nothing was changed on the site/);
    expect(world.settings).toEqual(before.settings);
    expect(world.identity).toEqual(before.identity);
  });

  it("refuses a site that became a Windows site since the preview", async () => {
    reset();
    world.kind = "app";
    const result = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/kind is "app", not Linux/);
    expect(world.settings).toEqual(ORIGINAL_SETTINGS);
  });

  it("removes only the stack's identity when the site wore nothing else", async () => {
    reset();
    world.identity = { type: "None", userAssignedIdentities: {} };
    const created = await run(ADOPT_SITE_COMMAND, siteEnv());
    expect(world.identity).toEqual({ type: "UserAssigned", userAssignedIdentities: { [UAMI]: {} } });
    await run(undo(ADOPT_SITE_COMMAND), siteEnv(), created.stdout);
    expect(world.identity).toEqual({ type: "None", userAssignedIdentities: {} });
  });
});

describe("destroy after the owner deleted the adopted object", () => {
  it("lets destroy go on when the site is gone", async () => {
    reset();
    const result = await run(undo(ADOPT_SITE_COMMAND), { ...siteEnv(), ADOPT_SITE_ID: `${SITE_ID}-gone` });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("the site no longer exists; nothing to take back");
  });

  it("lets destroy go on when the registration is gone", async () => {
    reset();
    const gone = "0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
    const result = await run(
      undo(ADOPT_REDIRECT_COMMAND),
      { ...redirectEnv(), ADOPT_APP_OBJECT_ID: gone },
      'adopt-redirect-uri: adopt-record: {"addedRedirectUri":true}',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("the registration no longer exists; nothing to remove");
  });
});

describe("adopt-redirect-uri.ts against a fake Microsoft Graph", () => {
  it("adds the stack's URI and keeps the registration's others, then removes only its own on destroy", async () => {
    reset();
    const created = await run(ADOPT_REDIRECT_COMMAND, redirectEnv());
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(world.redirectUris).toEqual([...OWNER_URIS, OUR_URI]);
    const undone = await run(undo(ADOPT_REDIRECT_COMMAND), redirectEnv(), created.stdout);
    expect(undone.code).toBe(0);
    expect(world.redirectUris).toEqual(OWNER_URIS);
  });

  it("keeps the others through an update: the old URI's undo, then the new URI's create", async () => {
    reset();
    const first = await run(ADOPT_REDIRECT_COMMAND, redirectEnv());
    await run(undo(ADOPT_REDIRECT_COMMAND), redirectEnv(), first.stdout);
    const newUri = "https://orders-2.azurewebsites.net/signin-oidc";
    await run(ADOPT_REDIRECT_COMMAND, redirectEnv(newUri));
    expect(world.redirectUris).toEqual([...OWNER_URIS, newUri]);
  });

  it("never removes a URI the registration had before the stack", async () => {
    reset();
    world.redirectUris = [OUR_URI, ...OWNER_URIS];
    const created = await run(ADOPT_REDIRECT_COMMAND, redirectEnv());
    expect(created.stdout).toContain('adopt-record: {"addedRedirectUri":false}');
    const undone = await run(undo(ADOPT_REDIRECT_COMMAND), redirectEnv(), created.stdout);
    expect(undone.stdout).toMatch(/registered before the stack adopted the registration; leaving it/);
    expect(world.redirectUris).toEqual([OUR_URI, ...OWNER_URIS]);
  });

  it("stops with the Graph permission and who grants it when the operator may not update it", async () => {
    reset();
    world.graphStatus = 403;
    const result = await run(ADOPT_REDIRECT_COMMAND, redirectEnv());
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      /Microsoft Graph refused to read the registration \(403 Authorization_RequestDenied\)/,
    );
    expect(result.stderr).toMatch(/Application.ReadWrite.All, granted by a Privileged Role Administrator/);
    expect(world.redirectUris).toEqual(OWNER_URIS);
  });
});
