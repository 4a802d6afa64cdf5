/**
 * Telemetry on, end to end in one process: the app exports with its managed identity's token to the emulator's
 * Application Insights ingestion stand-in, which keeps what it accepts. The sign-in's spans arrive with the right
 * parents, a refused sign-in carries its AADSTS code, logs carry their trace, and nothing secret is in any envelope.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { TelemetryEnvelope } from "../../emulator";
import { parseFormPost, UserAgent } from "../../local/user-agent";
import { envelopesOf, useTelemetryStack } from "../support/telemetry-stack";

const stack = useTelemetryStack({ limits: { delayMs: 20 } });
const url = (path: string): string => `${stack.baseUrl}${path}`;

afterEach(() => {
  stack.emu.resetFaults();
  stack.emu.telemetry.envelopes.length = 0;
});

/** Application Insights names an HTTP dependency by its method and path: the redemption's is the token endpoint's. */
const tokenEndpoint = (): string => `POST /${stack.emu.tenantId}/oauth2/v2.0/token`;

interface Item {
  readonly id: string;
  readonly name: string;
  readonly parentId: string | undefined;
  readonly operationId: string | undefined;
  readonly envelope: TelemetryEnvelope;
}

/** Requests and dependencies as the stand-in received them: id, name and parent (Application Insights' tags). */
function items(baseType: "RequestData" | "RemoteDependencyData"): Item[] {
  return envelopesOf(stack.emu, baseType).map((envelope) => ({
    id: String(envelope.data?.baseData?.id),
    name: String(envelope.data?.baseData?.name),
    parentId: envelope.tags?.["ai.operation.parentId"],
    operationId: envelope.tags?.["ai.operation.id"],
    envelope,
  }));
}

const one = (list: Item[], name: string): Item => {
  const found = list.filter((item) => item.name === name);
  expect(found.map((item) => item.name)).toEqual([name]);
  return found[0]!;
};

const properties = (item: Item): Record<string, unknown> =>
  (item.envelope.data?.baseData?.properties ?? {}) as Record<string, unknown>;

/** The sign-in metric's points: outcome and AADSTS code of each, with its count. */
function signInPoints(): { outcome: unknown; aadsts: unknown; count: unknown }[] {
  return envelopesOf(stack.emu, "MetricData").flatMap((envelope) => {
    const data = envelope.data!.baseData as {
      metrics: { name: string; value: number }[];
      properties?: Record<string, unknown>;
    };
    return data.metrics
      .filter((metric) => metric.name === "signin.completed")
      .map((metric) => ({ outcome: data.properties?.outcome, aadsts: data.properties?.aadsts, count: metric.value }));
  });
}

describe("telemetry of a sign-in, at the ingestion stand-in", () => {
  it("arrives as one trace per request, each step under the request or step that ran it", async () => {
    const ua = new UserAgent();
    const page = await ua.navigate(url("/signin"));
    expect(page.status).toBe(200);
    await stack.telemetry.flush();

    const requests = items("RequestData");
    const dependencies = items("RemoteDependencyData");
    const signIn = one(requests, "GET /signin");
    const callback = one(requests, "POST /signin-oidc");
    const home = one(requests, "GET /");
    for (const request of [signIn, callback, home]) expect(request.parentId).toBeUndefined();
    expect(new Set([signIn.operationId, callback.operationId, home.operationId]).size).toBe(3);

    const authorize = one(dependencies, "signin.authorize");
    expect([authorize.parentId, authorize.operationId]).toEqual([signIn.id, signIn.operationId]);
    const redeem = one(dependencies, tokenEndpoint());
    expect([redeem.parentId, redeem.operationId]).toEqual([callback.id, callback.operationId]);
    expect(redeem.envelope.data?.baseData).toMatchObject({ type: "Http", target: "entra", success: true });
    // The first sign-in of the process fetches the managed identity's token: inside the redemption, as its assertion.
    const miToken = one(dependencies, "GET /msi/token");
    expect([miToken.parentId, miToken.operationId]).toEqual([redeem.id, callback.operationId]);
    expect(miToken.envelope.data?.baseData).toMatchObject({
      type: "Http",
      target: "managed-identity",
      resultCode: "200",
    });
    const graph = one(dependencies, "GET /graph/v1.0/me");
    expect([graph.parentId, graph.operationId]).toEqual([home.id, home.operationId]);
    expect(properties(graph)).toEqual({ "graph.outcome": "ok" });
    expect(one(dependencies, "graph.token").parentId).toBe(home.id);

    expect(callback.envelope.data?.baseData).toMatchObject({ responseCode: "303", success: true });
    expect(properties(callback)).toEqual({ "signin.outcome": "succeeded" });
    expect(signInPoints()).toEqual([{ outcome: "succeeded", aadsts: "none", count: 1 }]);
  });

  it("records a refused redemption's AADSTS code on the step, the callback request and the metric", async () => {
    stack.emu.faults.ficNotPropagated = true;
    const page = await new UserAgent().navigate(url("/signin"));
    expect(page.status).toBeGreaterThanOrEqual(400);
    await stack.telemetry.flush();

    const callback = one(items("RequestData"), "POST /signin-oidc");
    const redeem = one(items("RemoteDependencyData"), tokenEndpoint());
    expect(redeem.parentId).toBe(callback.id);
    expect(redeem.envelope.data?.baseData).toMatchObject({ success: false });
    const code = properties(redeem)["signin.aadsts"];
    expect(code).toMatch(/^AADSTS\d+$/);
    expect(properties(redeem)).toMatchObject({ "signin.error": "invalid_client" });
    expect(properties(callback)).toMatchObject({ "signin.outcome": "failed", "signin.aadsts": code });
    expect(signInPoints()).toContainEqual({ outcome: "failed", aadsts: code, count: 1 });
  });

  it("records an error Entra returns to the callback with its AADSTS code", async () => {
    stack.emu.faults.authorizeError = {
      error: "access_denied",
      description: "AADSTS50105: The signed in user is not assigned to a role for the application.",
    };
    await new UserAgent().navigate(url("/signin"));
    await stack.telemetry.flush();
    const callback = one(items("RequestData"), "POST /signin-oidc");
    expect(properties(callback)).toMatchObject({
      "signin.outcome": "failed",
      "signin.aadsts": "AADSTS50105",
      "signin.error": "access_denied",
    });
    expect(signInPoints()).toContainEqual({ outcome: "failed", aadsts: "AADSTS50105", count: 1 });
  });

  it("sends the app's log lines with their request's trace, without Fastify's per-request lines", async () => {
    await new UserAgent().navigate(url("/signin"));
    await stack.telemetry.flush();
    const callback = one(items("RequestData"), "POST /signin-oidc");
    const messages = envelopesOf(stack.emu, "MessageData");
    const signedIn = messages.filter((envelope) => envelope.data?.baseData?.message === "signed in");
    expect(signedIn).toHaveLength(1);
    expect(signedIn[0]!.tags).toMatchObject({
      "ai.operation.id": callback.operationId,
      "ai.operation.parentId": callback.id,
    });
    expect(messages.map((envelope) => envelope.data?.baseData?.message)).not.toContain("request completed");
    // The local log line has the same trace and span IDs.
    const local = stack.logs
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === "signed in")
      .at(-1);
    expect(local).toMatchObject({ trace_id: callback.operationId, span_id: callback.id });
  });

  it("counts readiness answers by reason and reports the last as a gauge", async () => {
    const ready = await fetch(url("/readyz"));
    expect(ready.status).toBe(200);
    await stack.telemetry.flush();
    const metrics = envelopesOf(stack.emu, "MetricData").flatMap((envelope) => {
      const data = envelope.data!.baseData as { metrics: { name: string; value: number }[]; properties?: object };
      return data.metrics.map((metric) => ({ name: metric.name, value: metric.value, ...data.properties }));
    });
    expect(metrics).toContainEqual({ name: "readiness.checks", value: 1, reason: "ok" });
    expect(metrics).toContainEqual({ name: "readiness.ready", value: 1 });
  });
});

describe("what telemetry never carries", () => {
  it("holds no token, code, state, cookie, CSRF token, query or header value, in any envelope", async () => {
    const secrets = new Set<string>();
    const ua = new UserAgent();
    // The sign-in, stopping at Entra's form post to keep its code and state.
    const formPage = await ua.navigate(url("/signin?returnUrl=%2Fme"), { stopAtFormPost: true });
    const form = parseFormPost(formPage.body)!;
    secrets.add(form.fields.code!).add(form.fields.state!);
    const signedIn = await ua.navigate(new URL(form.action, formPage.url).href, { method: "POST", form: form.fields });
    expect(signedIn.status).toBe(200);
    for (const cookie of ua.lastSetCookies) secrets.add(cookie.split(";")[0]!.split("=")[1]!);
    const home = await ua.request(url("/"));
    for (const cookie of ua.lastSetCookies) secrets.add(cookie.split(";")[0]!.split("=")[1]!);
    const csrf = /name="csrf" value="([^"]+)"/.exec(home.body)?.[1];
    expect(csrf).toBeDefined();
    secrets.add(csrf!);
    expect((await ua.request(url("/me/graph"))).status).toBe(200);
    // Attacker-chosen values in a query, an Authorization header, a cookie, and the headers a proxy or a browser adds.
    const planted = {
      query: "planted-query-value-Zk3qT9",
      bearer: await stack.emu.mintManagedIdentityToken(),
      cookie: "planted-cookie-value-Qm7xW2",
    };
    for (const value of Object.values(planted)) secrets.add(value);
    await fetch(url(`/signin-oidc?code=${planted.query}&state=${planted.query}`), {
      headers: {
        authorization: `Bearer ${planted.bearer}`,
        cookie: `session=${planted.cookie}`,
        "user-agent": `Mozilla/5.0 ${planted.query}`,
        referer: `https://elsewhere.example/?code=${planted.query}`,
        "x-forwarded-host": `${planted.query}.example`,
        "x-ms-client-principal": planted.bearer,
      },
    });
    await fetch(url(`/nowhere/${planted.bearer}?code=${planted.query}`));
    await ua.request(url("/signout"), { method: "POST", form: { csrf: csrf! } });
    await stack.telemetry.flush();

    const envelopes = stack.emu.telemetry.envelopes;
    const kinds = new Set(envelopes.map((envelope) => envelope.data?.baseType));
    expect([...kinds].sort()).toEqual(["MessageData", "MetricData", "RemoteDependencyData", "RequestData"]);
    const text = JSON.stringify(envelopes);
    expect(secrets.size).toBeGreaterThanOrEqual(6);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      expect(text).not.toContain(secret);
    }
    // No JWT (ID, access, managed-identity tokens), no refresh token, no query string anywhere.
    expect(text).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect(text).not.toMatch(/\b1\.[\w-]{60,}/);
    expect(text).not.toMatch(/[?&](code|state|session_state|id_token)=/);
    // The unmatched path with a token in it is reported without it.
    expect(items("RequestData").map((item) => item.name)).toContain("GET (no route)");
  });
});

describe("the ingestion stand-in", () => {
  const track = (headers: Record<string, string>): Promise<Response> =>
    fetch(`${stack.emu.instance}v2.1/track`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify([
        { name: "x", time: new Date().toISOString(), iKey: "0e1e3e5e-7a11-4c1d-9e00-a11ce0f1e1d5" },
      ]),
    });

  it("answers 401 without a token, to the instrumentation key, or to a token for another audience", async () => {
    expect((await track({})).status).toBe(401);
    expect((await track({ authorization: "InstrumentationKey 0e1e3e5e-7a11-4c1d-9e00-a11ce0f1e1d5" })).status).toBe(
      401,
    );
    const exchangeToken = await stack.emu.mintManagedIdentityToken();
    expect((await track({ authorization: `Bearer ${exchangeToken}` })).status).toBe(401);
    expect(stack.emu.telemetry.envelopes.filter((envelope) => envelope.name === "x")).toEqual([]);
  });

  it("answers 403 to another identity's Azure Monitor token, and 200 to the app's identity's", async () => {
    const stranger = await stack.emu.mintManagedIdentityToken({
      resource: "https://monitor.azure.com",
      claims: { oid: "00000000-0000-0000-0000-00000000bad0" },
    });
    expect((await track({ authorization: `Bearer ${stranger}` })).status).toBe(403);
    const own = await stack.emu.mintManagedIdentityToken({ resource: "https://monitor.azure.com" });
    const accepted = await track({ authorization: `Bearer ${own}` });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toMatchObject({ itemsReceived: 1, itemsAccepted: 1, errors: [] });
    expect(stack.emu.telemetry.envelopes.filter((envelope) => envelope.name === "x")).toHaveLength(1);
    const view = await fetch(`${stack.emu.instance}_emulator/telemetry`);
    const shown = ((await view.json()) as { envelopes: TelemetryEnvelope[] }).envelopes;
    expect(shown.filter((envelope) => envelope.name === "x")).toHaveLength(1);
  });
});
