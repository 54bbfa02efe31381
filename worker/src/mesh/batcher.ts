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

/** A flush that has not finished in this long is presumed dead (its request was cut off) and may be replaced. */
const STUCK_FLUSH_MS = 30_000;

export class Batcher<T> {
  private queue: T[] = [];
  private flushStartedAt: number | null = null;

  constructor(private readonly opts: BatcherOptions<T>) {}

  add(item: T, env: Env, ctx: ExecutionContext): void {
    this.queue.push(item);
    const now = Date.now();
    if (this.flushStartedAt !== null && now - this.flushStartedAt < STUCK_FLUSH_MS) return;
    this.flushStartedAt = now;
    ctx.waitUntil(this.flushLater(env));
  }

  private async flushLater(env: Env): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.opts.delayMs));
    try {
      while (this.queue.length > 0) await this.writeWithRetry(this.queue.splice(0, this.opts.maxItems), env);
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
          console.error(`batch write failed after ${attempts} attempts; ${items.length} items not written`, String(err));
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 50 * i));
      }
    }
  }
}

export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}
