// A web app that is not the sample: plain Node.js, no dependencies, to show what the stack gives any app of your own
// and what proves its chain. It reads the settings the stack writes (AzureAd__*, DownstreamApis__MicrosoftGraph__*)
// and App Service's managed-identity endpoint (IDENTITY_ENDPOINT, IDENTITY_HEADER), as any language would.
//
//   GET /healthz  200 while the process runs (App Service's health check).
//   GET /ready    200 only after Entra accepted the managed identity's token as this app's client assertion: a
//                 client-credentials request for Microsoft Graph's .default scope. 503 with the AADSTS code (no token,
//                 no message) otherwise. This is the path to give the stack as readinessPath.
//
// The protocols: the managed-identity endpoint (api-version 2019-08-01, X-IDENTITY-HEADER)
// learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference, and the client-credentials
// grant with a client assertion
// learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow
// (#third-case-access-token-request-with-a-federated-credential)

const http = require("node:http");

const env = process.env;
const setting = (name) => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: deploy this app with the stack, which writes it.`);
  return value;
};

/** The managed identity's token for the federated credential's audience: the app's client assertion. */
async function managedIdentityToken() {
  const url = new URL(setting("IDENTITY_ENDPOINT"));
  url.searchParams.set("api-version", "2019-08-01");
  url.searchParams.set("resource", setting("AzureAd__ClientCredentials__0__TokenExchangeUrl"));
  url.searchParams.set("client_id", setting("AzureAd__ClientCredentials__0__ManagedIdentityClientId"));
  const response = await fetch(url, { headers: { "X-IDENTITY-HEADER": setting("IDENTITY_HEADER") } });
  if (!response.ok) throw new Error(`the managed-identity endpoint answered ${response.status}`);
  return (await response.json()).access_token;
}

/** Redeems the assertion at Entra (client credentials, Graph's .default scope): "ok" or the AADSTS code. */
async function proveChain() {
  const instance = setting("AzureAd__Instance").replace(/\/?$/, "/");
  const graph = new URL(env.DownstreamApis__MicrosoftGraph__BaseUrl || "https://graph.microsoft.com/v1.0");
  const body = new URLSearchParams({
    client_id: setting("AzureAd__ClientId"),
    grant_type: "client_credentials",
    scope: `${graph.origin}/.default`,
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: await managedIdentityToken(),
  });
  const response = await fetch(`${instance}${setting("AzureAd__TenantId")}/oauth2/v2.0/token`, {
    method: "POST",
    body,
  });
  const answer = await response.json().catch(() => ({}));
  if (response.ok && answer.access_token) return "ok";
  return `AADSTS${answer.error_codes?.[0] ?? "unknown"}`;
}

const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
};

const server = http.createServer((req, res) => {
  const path = new URL(req.url, "http://app").pathname;
  if (req.method !== "GET") return send(res, 405, { error: "method_not_allowed" });
  if (path === "/healthz") return send(res, 200, { status: "alive" });
  if (path === "/ready") {
    return proveChain().then(
      (code) => (code === "ok" ? send(res, 200, { status: "ready" }) : send(res, 503, { status: code })),
      (error) => {
        console.error(`ready: ${error.message}`);
        send(res, 503, { status: "not_ready" });
      },
    );
  }
  if (path === "/") return send(res, 200, { app: "plain-node-app", clientId: env.AzureAd__ClientId ?? null });
  send(res, 404, { error: "not_found" });
});

// App Service tells the app its port in PORT (8080 by default on Linux).
server.listen(Number(env.PORT || 8080), env.HOST || "0.0.0.0", () => {
  console.log(`plain-node-app listening on ${server.address().port}`);
});
