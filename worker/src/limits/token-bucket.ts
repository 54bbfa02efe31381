// The one token bucket behind every rate limit: a node's heartbeats, new identities per source address, and an API
// key's requests and tokens per minute. Pure, so a Durable Object stores two numbers per bucket.
//
// A bucket's level is kept in 1/periodMs of a token, so refilling `refill` tokens per period adds exactly `refill`
// units per millisecond: integer arithmetic throughout, nothing lost to rounding however often a bucket is refilled,
// and a slow rate (20 an hour) needs no fraction of a token per millisecond.

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;

export interface RateLimit {
  /** Tokens added per period. */
  refill: number;
  periodMs: number;
  /** The most the bucket holds, in tokens. */
  burst: number;
}

export interface Bucket {
  /** Tokens available, in 1/periodMs of a token; below zero while an overage is paid off. */
  level: number;
  /** Milliseconds since the epoch when `level` was computed. */
  at: number;
}

export type Take =
  | { ok: true; bucket: Bucket }
  | { ok: false /** null: more than the burst, so waiting won't help. */; waitMs: number | null };

/**
 * The largest capacity (burst × period) and refill a limit may have, and the lowest level an overage can leave:
 * refilling from the lowest level to the largest capacity sums to less than 2^53, so the arithmetic stays exact. An
 * overage beyond the lowest level (75 billion tokens owed at a per-minute limit) is forgiven.
 */
const MAX_UNITS = 2 ** 50;
const MIN_LEVEL = -(2 ** 52);

/** A limit, or null when its figures are not positive integers or too large to count exactly. */
export function rateLimit(refill: number, periodMs: number, burst: number): RateLimit | null {
  const whole = [refill, periodMs, burst].every((n) => Number.isSafeInteger(n) && n >= 1);
  return whole && refill <= MAX_UNITS && burst * periodMs <= MAX_UNITS ? { refill, periodMs, burst } : null;
}

/** An API key's per-minute limit: `limit` a minute, all of it at once if unused. */
export function perMinute(limit: number): RateLimit {
  const r = rateLimit(limit, MINUTE_MS, limit);
  if (!r) throw new RangeError(`not a per-minute limit: ${limit}`);
  return r;
}

/** "<refill>/<burst>" per `periodMs`, e.g. "60/10"; null for anything else, so callers fall back to a default. */
export function parseRateLimit(text: string | undefined, periodMs: number): RateLimit | null {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text ?? "");
  return match ? rateLimit(Number(match[1]), periodMs, Number(match[2])) : null;
}

function capacity(limit: RateLimit): number {
  return limit.burst * limit.periodMs;
}

export function fullBucket(limit: RateLimit, now: number): Bucket {
  return { level: capacity(limit), at: now };
}

export function refill(bucket: Bucket, limit: RateLimit, now: number): Bucket {
  const full = capacity(limit);
  // Past the time it takes to fill from this level (longer while an overage took it below zero), a gap need not be
  // multiplied out: the product stays small and exact.
  const untilFull = Math.max(0, Math.ceil((full - bucket.level) / limit.refill));
  const elapsed = Math.min(untilFull, Math.max(0, now - bucket.at));
  // A caller whose clock is behind the last one's neither refills nor moves `at` back.
  return { level: Math.min(full, bucket.level + elapsed * limit.refill), at: Math.max(now, bucket.at) };
}

/** Whole tokens available now; none while an overage is being paid off. */
export function available(bucket: Bucket, limit: RateLimit, now: number): number {
  return Math.max(0, Math.floor(refill(bucket, limit, now).level / limit.periodMs));
}

/** Takes `tokens` at once, or says how long until they will be there. */
export function take(bucket: Bucket, limit: RateLimit, tokens: number, now: number): Take {
  if (tokens > limit.burst) return { ok: false, waitMs: null };
  const b = refill(bucket, limit, now);
  const need = tokens * limit.periodMs;
  if (b.level >= need) return { ok: true, bucket: { level: b.level - need, at: b.at } };
  return { ok: false, waitMs: Math.ceil((need - b.level) / limit.refill) };
}

/** A wait as Retry-After: whole seconds, rounded up, at least one. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** Puts back tokens taken earlier (an answer smaller than reserved, a failed request); never past full. */
export function refund(bucket: Bucket, limit: RateLimit, tokens: number, now: number): Bucket {
  const b = refill(bucket, limit, now);
  return { level: Math.min(capacity(limit), b.level + tokens * limit.periodMs), at: b.at };
}

/**
 * Squares a take of `taken` tokens with the `used` that were needed: unused ones go back (never past full), and an
 * overage (an answer longer than its reservation counted on) is taken too. That may leave the level below zero: later
 * takes then wait until the overage has been refilled, so the limit holds over time.
 */
export function reconcile(bucket: Bucket, limit: RateLimit, taken: number, used: number, now: number): Bucket {
  if (used <= taken) return refund(bucket, limit, taken - used, now);
  const b = refill(bucket, limit, now);
  return { level: Math.max(MIN_LEVEL, b.level - (used - taken) * limit.periodMs), at: b.at };
}

/** Milliseconds until the bucket is full again: OpenAI's "reset" of a limit. */
export function msUntilFull(bucket: Bucket, limit: RateLimit, now: number): number {
  const b = refill(bucket, limit, now);
  return Math.ceil((capacity(limit) - b.level) / limit.refill);
}

/**
 * The bucket after the limit changes from `from` to `to` (null: no limit), both over the same period: a new limit
 * starts full; a changed one keeps what is left, at most the new burst (raising a limit hands out no burst of the
 * difference).
 */
export function resize(bucket: Bucket, from: RateLimit | null, to: RateLimit | null, now: number): Bucket {
  if (to === null) return { level: 0, at: now };
  if (from === null) return fullBucket(to, now);
  const b = refill(bucket, from, now);
  return { level: Math.min(b.level, capacity(to)), at: b.at };
}
