/**
 * Ingestion down or hanging: the app serves every page as it does with telemetry off, because a request only ever
 * appends to a bounded queue. What does not fit is dropped and counted; a batch that fails is counted too. No timing:
 * the proof is that pages answer while an export is still pending, and the counters.
 */
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UserAgent } from "../../local/user-agent";
import { useTelemetryStack } from "../support/telemetry-stack";

/** An "ingestion endpoint" that accepts TCP connections and never answers: not even the TLS handshake. */
const sockets = new Set<Socket>();
const hanging = createServer((socket) => {
  sockets.add(socket);
  socket.on("close", () => sockets.delete(socket));
});
let hangingPort = 0;
beforeAll(async () => {
  await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
  hangingPort = (hanging.address() as AddressInfo).port;
});

const MAX_QUEUE = 8;
const MAX_BATCH = 4;
const stack = useTelemetryStack({
  ingestionEndpoint: () => `https://127.0.0.1:${hangingPort}/`,
  // Long enough that the hanging export is still pending for the whole first test.
  limits: { maxQueue: MAX_QUEUE, maxBatch: MAX_BATCH, delayMs: 1, timeoutMs: 600_000 },
});

/** Stops the hanging endpoint: open connections are reset and new ones refused, as when ingestion is down. */
function takeIngestionDown(): Promise<void> {
  for (const socket of sockets) socket.destroy();
  return new Promise((resolve) => hanging.close(() => resolve()));
}
afterAll(async () => {
  if (hanging.listening) await takeIngestionDown();
});

describe("telemetry while ingestion is unavailable", () => {
  it("serves pages and a sign-in while an export hangs, holding the queue at its bound, counting drops", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetch(`${stack.baseUrl}/healthz`)).status);
    const signedIn = await new UserAgent().navigate(`${stack.baseUrl}/signin`);
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toContain("Ada Lovelace");
    expect(statuses).toEqual(Array(40).fill(200));

    const { spans, logs } = stack.telemetry.counts();
    // The first full batch went out and is still waiting for an answer; nothing was exported.
    expect(spans.inFlight).toBe(true);
    expect(spans.exported).toBe(0);
    expect(spans.queued).toBe(MAX_QUEUE);
    // 40 health checks and the sign-in's requests and steps: all but the batch in flight and the queue dropped.
    expect(spans.dropped).toBeGreaterThanOrEqual(40 - MAX_QUEUE - MAX_BATCH);
    expect(logs.exported).toBe(0);
    expect(sockets.size).toBeGreaterThan(0);
  });

  it("counts the batches that fail once ingestion refuses connections, and keeps serving", async () => {
    await takeIngestionDown();
    await stack.telemetry.flush();
    const before = stack.telemetry.counts().spans;
    expect(before.inFlight).toBe(false);
    expect(before.failed).toBeGreaterThanOrEqual(MAX_BATCH);
    expect(before.queued).toBe(0);

    for (let i = 0; i < 10; i++) expect((await fetch(`${stack.baseUrl}/healthz`)).status).toBe(200);
    await stack.telemetry.flush();
    const after = stack.telemetry.counts().spans;
    expect(after.failed).toBeGreaterThanOrEqual(before.failed + 10);
    expect(after.exported).toBe(0);
  });
});
