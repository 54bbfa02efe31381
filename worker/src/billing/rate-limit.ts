// A per-minute limit (requests or tokens) as a token bucket holding `limit` and refilled by `limit` every minute.
// The level is kept in 1/60,000ths of a token, so refilling is exactly `limit` units per millisecond: integer
// arithmetic throughout, nothing lost to rounding however often a bucket is refilled.

export const UNITS_PER_TOKEN = 60_000;

/**
 * The lowest level an overage can leave (75 billion tokens owed): refilling from it, at any limit allowed, stays below
 * 2^53, so the arithmetic stays exact; a larger overage is forgiven beyond it.
 */
const MIN_LEVEL = -(2 ** 52);

export interface Bucket {
  /** Tokens available, in 1/UNITS_PER_TOKEN of a token. */
  level: number;
  /** Milliseconds since the epoch when `level` was computed. */
  at: number;
}

export type Take =
  | { ok: true; bucket: Bucket }
  | { ok: false /** null: more than the limit, so waiting won't help. */; waitMs: number | null };

export function fullBucket(limit: number, now: number): Bucket {
  return { level: limit * UNITS_PER_TOKEN, at: now };
}

export function refill(bucket: Bucket, limit: number, now: number): Bucket {
  // Past the time it takes to fill from this level (over a minute when an overage took it below zero), a gap need not
  // be multiplied out: the product stays small and exact.
  const untilFull = Math.max(0, Math.ceil((limit * UNITS_PER_TOKEN - bucket.level) / limit));
  const elapsed = Math.min(untilFull, Math.max(0, now - bucket.at));
  // A caller whose clock is behind the last one's neither refills nor moves `at` back.
  return { level: Math.min(limit * UNITS_PER_TOKEN, bucket.level + elapsed * limit), at: Math.max(now, bucket.at) };
}

/** Whole tokens available now; none while an overage is being paid off. */
export function remaining(bucket: Bucket, limit: number, now: number): number {
  return Math.max(0, Math.floor(refill(bucket, limit, now).level / UNITS_PER_TOKEN));
}

/** Takes `tokens` at once, or says how long until they will be there. */
export function take(bucket: Bucket, limit: number, tokens: number, now: number): Take {
  if (tokens > limit) return { ok: false, waitMs: null };
  const b = refill(bucket, limit, now);
  const need = tokens * UNITS_PER_TOKEN;
  if (b.level >= need) return { ok: true, bucket: { level: b.level - need, at: b.at } };
  return { ok: false, waitMs: Math.ceil((need - b.level) / limit) };
}

/** Returns tokens taken earlier (an answer smaller than reserved, a failed request); never past full. */
export function giveBack(bucket: Bucket, limit: number, tokens: number, now: number): Bucket {
  const b = refill(bucket, limit, now);
  return { level: Math.min(limit * UNITS_PER_TOKEN, b.level + tokens * UNITS_PER_TOKEN), at: b.at };
}

/**
 * Settles a request that took `taken` tokens and used `used`: unused ones go back (never past full), and an overage
 * (an answer longer than its reservation counted on) is taken too. That may leave the level below zero: later requests
 * then wait until the overage has been refilled, so the limit holds over time.
 */
export function settleTaken(bucket: Bucket, limit: number, taken: number, used: number, now: number): Bucket {
  if (used <= taken) return giveBack(bucket, limit, taken - used, now);
  const b = refill(bucket, limit, now);
  return { level: Math.max(MIN_LEVEL, b.level - (used - taken) * UNITS_PER_TOKEN), at: b.at };
}

/** Milliseconds until the bucket is full again: OpenAI's "reset" of a limit. */
export function msUntilFull(bucket: Bucket, limit: number, now: number): number {
  const b = refill(bucket, limit, now);
  return Math.ceil((limit * UNITS_PER_TOKEN - b.level) / limit);
}

/**
 * The bucket after the limit changes from `from` to `to`: a new limit starts full; a changed one keeps what is left,
 * at most the new limit (raising a limit does not hand out a burst of the difference).
 */
export function resize(bucket: Bucket, from: number | null, to: number | null, now: number): Bucket {
  if (to === null) return { level: 0, at: now };
  if (from === null) return fullBucket(to, now);
  const b = refill(bucket, from, now);
  return { level: Math.min(b.level, to * UNITS_PER_TOKEN), at: b.at };
}
