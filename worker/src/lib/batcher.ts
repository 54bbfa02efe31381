// Collects items from many requests of one isolate and writes them in one call. The request that opens a batch
// keeps it alive with waitUntil, so nothing queued is dropped when responses finish first.

export interface BatcherOptions<T> {
  delayMs: number;
  maxItems: number;
  /** Called in the flushing request's context, so Durable Object stubs are created there. */
  write(items: T[], env: Env): Promise<void>;
  /** Attempts per batch before giving up (and logging). */
  attempts?: number;
}

const MAX_WRITES_PER_FLUSH = 4;
/** Items held for a failing destination before the newest are given up (memory is bounded; the log says so). */
const MAX_QUEUED = 50_000;

/** A flush that has not finished in this long is presumed dead (its request was cut off) and may be replaced. */
const STUCK_FLUSH_MS = 30_000;

export class Batcher<T> {
  private queue: T[] = [];
  private flushStartedAt: number | null = null;

  constructor(private readonly opts: BatcherOptions<T>) {}

  add(item: T, env: Env, ctx: Pick<ExecutionContext, "waitUntil">): void {
    this.queue.push(item);
    const now = Date.now();
    if (this.flushStartedAt !== null && now - this.flushStartedAt < STUCK_FLUSH_MS) return;
    this.flushStartedAt = now;
    ctx.waitUntil(this.flushLater(env));
  }

  private async flushLater(env: Env): Promise<void> {
    try {
      // A bounded number of writes per flush, so one request's waitUntil is never asked to outlive its budget; the
      // next add() opens a new flush for whatever is left. Each write but a full batch's waits the delay first: items
      // that came in during a write join the next one rather than go at once, so a busy writer sends one batch a
      // delay, not one a round trip.
      for (let i = 0; i < MAX_WRITES_PER_FLUSH; i++) {
        if (this.queue.length < this.opts.maxItems)
          await new Promise((resolve) => setTimeout(resolve, this.opts.delayMs));
        if (this.queue.length === 0) break;
        await this.writeWithRetry(this.queue.splice(0, this.opts.maxItems), env);
      }
    } finally {
      this.flushStartedAt = null;
    }
  }

  private async writeWithRetry(items: T[], env: Env): Promise<void> {
    const attempts = this.opts.attempts ?? 3;
    for (let i = 1; ; i++) {
      try {
        return await this.opts.write(items, env);
      } catch (err) {
        if (i >= attempts) {
          // Put the batch back for the next flush rather than drop it; only a backlog past the cap is given up.
          this.queue.unshift(...items);
          const dropped = this.queue.length - MAX_QUEUED;
          if (dropped > 0) this.queue.splice(MAX_QUEUED);
          console.error(
            `batch write failed after ${attempts} attempts; ${items.length} items requeued${dropped > 0 ? `, ${dropped} dropped` : ""}`,
            String(err),
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * i));
      }
    }
  }
}
