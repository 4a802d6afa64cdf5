import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BoundedExport } from "../../app/telemetry/bounded-export";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** An exporter whose answers the test gives: each send waits until the test settles it. */
function controlledSend() {
  const pending: { batch: number[]; settle: (ok: boolean) => void }[] = [];
  const send = (batch: number[]): Promise<boolean> =>
    new Promise((resolve) => {
      pending.push({ batch, settle: resolve });
    });
  return { pending, send };
}

describe("the bounded export queue", () => {
  it("sends a full batch at once, a partial one after the delay, and one batch at a time", async () => {
    const { pending, send } = controlledSend();
    const queue = new BoundedExport<number>({ maxQueue: 10, maxBatch: 3, delayMs: 1000, timeoutMs: 60_000, send });
    for (const n of [1, 2, 3, 4]) queue.add(n);
    expect(pending.map((p) => p.batch)).toEqual([[1, 2, 3]]);
    await vi.advanceTimersByTimeAsync(5000);
    // The partial batch waits for the one in flight.
    expect(pending).toHaveLength(1);
    pending[0]!.settle(true);
    await vi.advanceTimersByTimeAsync(999);
    expect(pending).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pending.map((p) => p.batch)).toEqual([[1, 2, 3], [4]]);
    pending[1]!.settle(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(queue.counts()).toEqual({ queued: 0, exported: 4, dropped: 0, failed: 0, inFlight: false });
  });

  it("never waits while an export hangs: it keeps its bound and counts what it drops", async () => {
    const { pending, send } = controlledSend();
    const queue = new BoundedExport<number>({ maxQueue: 5, maxBatch: 2, delayMs: 10, timeoutMs: 60_000, send });
    for (let n = 0; n < 100; n++) queue.add(n);
    expect(pending).toHaveLength(1);
    expect(queue.counts()).toEqual({ queued: 5, exported: 0, dropped: 93, failed: 0, inFlight: true });
  });

  it("gives a hanging export up after the timeout, counts it failed, and sends the next", async () => {
    const { pending, send } = controlledSend();
    const queue = new BoundedExport<number>({ maxQueue: 5, maxBatch: 2, delayMs: 10, timeoutMs: 1000, send });
    for (const n of [1, 2, 3, 4]) queue.add(n);
    await vi.advanceTimersByTimeAsync(1000);
    expect(queue.counts()).toMatchObject({ failed: 2, exported: 0 });
    expect(pending.map((p) => p.batch)).toEqual([
      [1, 2],
      [3, 4],
    ]);
  });

  it("counts a rejected or refused batch as failed", async () => {
    let calls = 0;
    const queue = new BoundedExport<number>({
      maxQueue: 5,
      maxBatch: 1,
      delayMs: 10,
      timeoutMs: 1000,
      send: async () => {
        calls++;
        if (calls === 1) throw new Error("ECONNREFUSED");
        return false;
      },
    });
    queue.add(1);
    queue.add(2);
    await queue.flush();
    expect(queue.counts()).toEqual({ queued: 0, exported: 0, dropped: 0, failed: 2, inFlight: false });
  });

  it("flushes everything queued, batch after batch", async () => {
    const sent: number[][] = [];
    const queue = new BoundedExport<number>({
      maxQueue: 50,
      maxBatch: 4,
      delayMs: 60_000,
      timeoutMs: 1000,
      send: async (batch) => {
        sent.push(batch);
        return true;
      },
    });
    for (let n = 0; n < 10; n++) queue.add(n);
    await queue.flush();
    expect(sent.flat()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.counts()).toMatchObject({ queued: 0, exported: 10 });
  });
});
