// How often one node may send the registry a signed message (heartbeats and key rotations share the bucket).
import { MINUTE_MS, parseRateLimit, type RateLimit } from "./token-bucket.js";

/** Agents heartbeat every 2 s (30 a minute); twice that is allowed, with room for a burst after a reconnect. */
export const DEFAULT_HEARTBEAT_LIMIT: RateLimit = { refill: 60, periodMs: MINUTE_MS, burst: 10 };

/** HEARTBEAT_RATE_LIMIT="<per minute>/<burst>", e.g. "60/10"; malformed values fall back to the default. */
export function heartbeatRateLimit(env: { HEARTBEAT_RATE_LIMIT?: string | undefined }): RateLimit {
  return parseRateLimit(env.HEARTBEAT_RATE_LIMIT, MINUTE_MS) ?? DEFAULT_HEARTBEAT_LIMIT;
}
