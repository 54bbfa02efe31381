// When to try again after pushing earnings to their shards failed: soon at first (a shard restarting), then every
// minute at most, for as long as it takes (the rows stay queued until a shard acknowledges them).
const DELAYS_MS = [1_000, 5_000, 30_000, 60_000];

/** `failures` in a row so far, at least 1. */
export function outboxRetryDelay(failures: number): number {
  return DELAYS_MS[Math.min(Math.max(failures, 1), DELAYS_MS.length) - 1] ?? 60_000;
}
