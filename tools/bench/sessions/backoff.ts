// How a node agent spaces its reconnects: exponential backoff with full jitter (each wait uniformly random below the
// doubled ceiling), so thousands of nodes dropped at the same instant come back spread out instead of in waves.

export interface BackoffPolicy {
  /** The ceiling of the first retry's wait. */
  baseMs: number;
  /** The ceiling never grows past this. */
  capMs: number;
}

/** What agents use: 250 ms doubling to 30 s. */
export const AGENT_BACKOFF: BackoffPolicy = { baseMs: 250, capMs: 30_000 };

/** The wait's ceiling before retry `retry` (1 for the first retry): base·2^(retry−1), capped. */
export function backoffCeilingMs(retry: number, policy: BackoffPolicy): number {
  if (!Number.isInteger(retry) || retry < 1) throw new Error(`retry must be a positive integer, not ${retry}`);
  // 2^31 already passes any sensible cap; clamping the exponent keeps the product finite.
  return Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(retry - 1, 31));
}

/** Full jitter: uniform in [0, ceiling). `random` returns [0, 1) like Math.random. */
export function backoffDelayMs(retry: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  return Math.floor(random() * backoffCeilingMs(retry, policy));
}
