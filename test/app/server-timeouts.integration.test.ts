/**
 * A slow client holds a socket and memory for as long as the server waits: the server gives up on headers, on a whole
 * request and on an idle keep-alive connection. Real sockets on loopback with short timeouts; each client gives up by
 * itself after 5 s, and a connection still open then fails the test.
 */
import { connect, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp, SERVER_TIMEOUTS } from "../../app/app";
import { offlineConfig } from "../support/offline-app";

const GIVE_UP_MS = 5000;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  app = createApp(offlineConfig(), {
    logger: false,
    serverTimeouts: { headersMs: 300, requestMs: 600, keepAliveMs: 300, idleMs: 4000, checkIntervalMs: 100 },
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await app.close();
});

/**
 * Opens a connection, writes `start`, then one byte of `trickle` every 100 ms until the server closes the connection
 * or GIVE_UP_MS passes. Resolves with whether the server closed it and what it answered.
 */
function slowClient(start: string, trickle = ""): Promise<{ closedByServer: boolean; answer: string }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, "127.0.0.1");
    let answer = "";
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closedByServer: boolean): void => {
      clearInterval(timer);
      clearTimeout(giveUp);
      socket.destroy();
      resolve({ closedByServer, answer });
    };
    const giveUp = setTimeout(() => finish(false), GIVE_UP_MS);
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString("latin1")));
    socket.on("error", () => undefined);
    socket.on("close", () => finish(true));
    socket.on("connect", () => {
      socket.write(start);
      if (trickle) {
        timer = setInterval(() => {
          if (!socket.destroyed) socket.write(trickle[sent++ % trickle.length]!);
        }, 100);
      }
    });
  });
}

describe("server timeouts", () => {
  it("closes a connection whose headers trickle in", async () => {
    const { closedByServer, answer } = await slowClient("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", "abcdefgh");
    expect(closedByServer).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes a connection whose body trickles in (1 byte per 100 ms)", async () => {
    const head =
      "POST /signin-oidc HTTP/1.1\r\nHost: localhost\r\nContent-Type: " +
      "application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    const { closedByServer, answer } = await slowClient(head, "state=x&");
    expect(closedByServer).toBe(true);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });

  it("closes an idle keep-alive connection after a complete request", async () => {
    const { closedByServer, answer } = await slowClient(
      "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(closedByServer).toBe(true);
  });

  it("applies the production timeouts by default", async () => {
    const production = createApp(offlineConfig(), { logger: false });
    try {
      expect({
        headersMs: production.server.headersTimeout,
        requestMs: production.server.requestTimeout,
        keepAliveMs: production.server.keepAliveTimeout,
        idleMs: production.server.timeout,
      }).toEqual({
        headersMs: SERVER_TIMEOUTS.headersMs,
        requestMs: SERVER_TIMEOUTS.requestMs,
        keepAliveMs: SERVER_TIMEOUTS.keepAliveMs,
        idleMs: SERVER_TIMEOUTS.idleMs,
      });
      expect(SERVER_TIMEOUTS.requestMs).toBeLessThanOrEqual(30_000);
      expect(SERVER_TIMEOUTS.headersMs).toBeLessThanOrEqual(SERVER_TIMEOUTS.requestMs);
    } finally {
      await production.close();
    }
  });
});
