import { describe, expect, it } from "vitest";
import { RedisSetting } from "../../contract/settings";
import { SecretlessWebApp, type SecretlessWebAppArgs } from "../../components/secretless-web-app";
import { T, TENANT_ID, attachMocks, promiseOf, runProgram } from "../../offline/azure-mocks";

/**
 * `scaleOut`: sessions in Azure Managed Redis reached with the managed identity, several instances, ARR affinity
 * off — and with the switch off (the default), none of it. Every test gets a fresh offline engine.
 */

const base: SecretlessWebAppArgs = { location: "westeurope", webAppName: "contoso-signin", tenantId: TENANT_ID };

async function build(args: Partial<SecretlessWebAppArgs>) {
  const mocks = await attachMocks({});
  const app = await runProgram(mocks, async () => {
    const component = new SecretlessWebApp("unit", { ...base, ...args });
    await promiseOf(component.redirectUri);
    return component;
  });
  const site = mocks.one(T.site);
  const settings = Object.fromEntries(
    (site.inputs.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]),
  );
  return { mocks, app, site, settings };
}

describe("a scaled-out SecretlessWebApp", () => {
  it("creates an Azure Managed Redis with TLS 1.2 at least, on the default smallest SKU", async () => {
    const { mocks } = await build({ scaleOut: true });
    const cache = mocks.one(T.redis).inputs;
    expect(cache.sku).toEqual({ name: "Balanced_B0" });
    expect(cache.minimumTlsVersion).toBe("1.2");
    expect(cache.resourceGroupName).toBe(mocks.one(T.rg).state.name);
  });

  it(
    "gives it one database with access keys off, TLS only on port 10000, one " +
      "endpoint for a non-cluster client, AOF and no eviction",
    async () => {
      const { mocks } = await build({ scaleOut: true, redisSku: "MemoryOptimized_M10" });
      expect(mocks.one(T.redis).inputs.sku).toEqual({ name: "MemoryOptimized_M10" });
      const db = mocks.one(T.redisDb).inputs;
      expect(db).toMatchObject({
        clusterName: mocks.one(T.redis).state.name,
        databaseName: "default",
        accessKeysAuthentication: "Disabled",
        clientProtocol: "Encrypted",
        clusteringPolicy: "EnterpriseCluster",
        port: 10000,
        persistence: { aofEnabled: true, aofFrequency: "1s" },
        evictionPolicy: "NoEviction",
      });
    },
  );

  it(
    "lets in exactly the identity the web app wears, by its principal " +
      "(object) ID, through the default access policy",
    async () => {
      const { mocks, site } = await build({ scaleOut: true });
      const uami = mocks.one(T.uami);
      expect(site.inputs.identity.userAssignedIdentities).toEqual([uami.id]);
      const assignment = mocks.one(T.redisAccess).inputs;
      expect(assignment.user).toEqual({ objectId: uami.state.principalId });
      expect(assignment.user.objectId).not.toBe(uami.state.clientId);
      expect(assignment).toMatchObject({
        accessPolicyName: "default",
        clusterName: mocks.one(T.redis).state.name,
        databaseName: mocks.one(T.redisDb).state.name,
      });
    },
  );

  it(
    "tells the app the Redis host, its TLS port and the identity's " +
      "object ID as the user name — and nothing secret",
    async () => {
      const { mocks, app, settings } = await build({ scaleOut: true });
      expect(settings[RedisSetting.HostName]).toBe(mocks.one(T.redis).state.hostName);
      expect(settings[RedisSetting.Port]).toBe("10000");
      expect(settings[RedisSetting.UserName]).toBe(mocks.one(T.uami).state.principalId);
      expect(Object.keys(settings).filter((name) => /key|password|secret|connection/i.test(name))).toEqual([]);
      expect(await promiseOf(app.redisHostName)).toBe(mocks.one(T.redis).state.hostName);
    },
  );

  it("turns ARR affinity off and runs two instances", async () => {
    const { mocks, site } = await build({ scaleOut: true });
    expect(site.inputs.clientAffinityEnabled).toBe(false);
    expect(mocks.one(T.plan).inputs.sku).toEqual({ name: "B1", tier: "Basic", capacity: 2 });
  });

  it("runs the instance count it is given", async () => {
    const { mocks } = await build({ scaleOut: true, planSku: "S1", instanceCount: 6 });
    expect(mocks.one(T.plan).inputs.sku).toEqual({ name: "S1", tier: "Standard", capacity: 6 });
  });

  it("parents the cache, its database and the access assignment under one SessionRedis component", async () => {
    const { mocks } = await build({ scaleOut: true });
    const names = [T.redis, T.redisDb, T.redisAccess].map((type) => mocks.one(type).name);
    expect(names).toEqual(["unit-sessions-cache", "unit-sessions-db", "unit-sessions-app-access"]);
    for (const type of [T.redis, T.redisDb, T.redisAccess]) {
      const { name } = mocks.one(type);
      expect(mocks.options.get(`${type}::${name}`)?.parentUrn).toMatch(/secretless:index:SessionRedis::unit-sessions$/);
    }
  });
});

describe("SecretlessWebApp with the switch off (the default)", () => {
  it("creates no Redis, sets no Redis setting, keeps ARR affinity and one instance", async () => {
    const { mocks, app, site, settings } = await build({});
    expect(mocks.resources.filter((r) => r.type.includes("redis"))).toEqual([]);
    expect(Object.keys(settings).filter((name) => name.startsWith("Redis__"))).toEqual([]);
    expect(site.inputs.clientAffinityEnabled).toBe(true);
    expect(mocks.one(T.plan).inputs.sku.capacity).toBe(1);
    expect(await promiseOf(app.redisHostName)).toBeUndefined();
  });
});
