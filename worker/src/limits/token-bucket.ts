// A token bucket: `burst` tokens, refilled at `perMinute`. Pure, so the registry stores two numbers per node.

export interface RateLimit {
  perMinute: number;
  burst: number;
}

export interface TokenBucket {
  tokens: number;
  /** Milliseconds since the epoch when `tokens` was last computed. */
  at: number;
}

export type TakeResult = { ok: true; bucket: TokenBucket } | { ok: false; retryAfterSeconds: number };

/** Takes one token if there is one; otherwise says how long until there will be. */
export function takeToken(bucket: TokenBucket, limit: RateLimit, now: number): TakeResult {
  const perMs = limit.perMinute / 60_000;
  const elapsed = Math.max(0, now - bucket.at);
  const tokens = Math.min(limit.burst, bucket.tokens + elapsed * perMs);
  if (tokens >= 1) return { ok: true, bucket: { tokens: tokens - 1, at: now } };
  return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - tokens) / perMs / 1000)) };
}

/** Agents heartbeat every 2 s (30 a minute); twice that is allowed, with room for a burst after a reconnect. */
export const DEFAULT_HEARTBEAT_LIMIT: RateLimit = { perMinute: 60, burst: 10 };

/** HEARTBEAT_RATE_LIMIT="<per minute>/<burst>", e.g. "60/10"; malformed values fall back to the default. */
export function heartbeatRateLimit(env: { HEARTBEAT_RATE_LIMIT?: string | undefined }): RateLimit {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(env.HEARTBEAT_RATE_LIMIT ?? "");
  if (!match) return DEFAULT_HEARTBEAT_LIMIT;
  const perMinute = Number(match[1]);
  const burst = Number(match[2]);
  return perMinute > 0 && burst >= 1 ? { perMinute, burst } : DEFAULT_HEARTBEAT_LIMIT;
}
