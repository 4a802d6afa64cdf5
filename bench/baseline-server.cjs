// Throughput baselines for bench/app.ts, each on 127.0.0.1 port 0, printing the port: `hello` is a bare node:http
// hello world; `fastify` a bare Fastify route (logger off); `fastify-helmet-logs` the same route with the app's
// framework costs and none of its own: @fastify/helmet's headers and pino's two JSON lines per request, written
// the way app/logging.ts writes them (asynchronously; here to stderr, which the bench sends to a file).
"use strict";
const mode = process.argv[2];
if (mode === "hello") {
  const server = require("node:http").createServer((_req, res) => res.end("hello world"));
  server.listen(0, "127.0.0.1", () => console.log(server.address().port));
} else {
  const withExtras = mode === "fastify-helmet-logs";
  const stream = withExtras ? require("pino").destination({ dest: 2, sync: false }) : undefined;
  const app = require("fastify")({ logger: withExtras ? { level: "info", stream } : false });
  if (withExtras) app.register(require("@fastify/helmet"));
  app.get("/", async () => ({ hello: "world" }));
  app.listen({ port: 0, host: "127.0.0.1" }).then(() => console.log(app.server.address().port));
}
