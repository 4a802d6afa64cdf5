/**
 * The queue between the app and the exporter: a request only ever appends to it (never waits), it holds at most
 * `maxQueue` items and drops (and counts) what comes beyond, and one batch at a time goes out, given up after
 * `timeoutMs`. So when ingestion is down or hangs, pages are served as fast as with telemetry off; what is lost is
 * counted in {@link BoundedExport.counts}.
 */
import type { ExportCounts } from "./telemetry";

export interface BoundedExportOptions<T> {
  /** Items held at most; the next one is dropped and counted. */
  readonly maxQueue: number;
  /** Items in one export request. */
  readonly maxBatch: number;
  /** How long a partial batch waits for more before it goes. */
  readonly delayMs: number;
  /** How long one export may take before it counts as failed and the next may go. */
  readonly timeoutMs: number;
  /** Sends a batch; resolves true when ingestion accepted it. */
  readonly send: (batch: T[]) => Promise<boolean>;
}

export class BoundedExport<T> {
  private queue: T[] = [];
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private exported = 0;
  private dropped = 0;
  private failed = 0;

  constructor(private readonly options: BoundedExportOptions<T>) {}

  /** Queues an item, or drops it when the queue is full. Never waits, never throws. */
  add(item: T): void {
    if (this.queue.length >= this.options.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(item);
    if (this.queue.length >= this.options.maxBatch) this.sendNext();
    else this.schedule();
  }

  counts(): ExportCounts {
    return {
      queued: this.queue.length,
      exported: this.exported,
      dropped: this.dropped,
      failed: this.failed,
      inFlight: this.inFlight !== undefined,
    };
  }

  /** Sends everything queued now, batch after batch, and resolves when the last has been answered or timed out. */
  async flush(): Promise<void> {
    this.cancelTimer();
    let rounds = Math.ceil(this.queue.length / this.options.maxBatch) + 1;
    while ((this.inFlight || this.queue.length > 0) && rounds-- > 0) {
      if (!this.inFlight) this.sendNext();
      await this.inFlight;
    }
  }

  private schedule(): void {
    if (this.timer || this.inFlight) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sendNext();
    }, this.options.delayMs);
    this.timer.unref();
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private sendNext(): void {
    if (this.inFlight || this.queue.length === 0) return;
    this.cancelTimer();
    const batch = this.queue.splice(0, this.options.maxBatch);
    let timeout: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timeout = setTimeout(() => resolve(false), this.options.timeoutMs);
      timeout.unref();
    });
    const sent = this.options.send(batch).catch(() => false);
    this.inFlight = Promise.race([sent, timedOut]).then((ok) => {
      clearTimeout(timeout);
      if (ok) this.exported += batch.length;
      else this.failed += batch.length;
      this.inFlight = undefined;
      if (this.queue.length >= this.options.maxBatch) this.sendNext();
      else if (this.queue.length > 0) this.schedule();
    });
  }
}
