// Cloudflare marks an error from a Durable Object that was too busy (too many requests queued for it) with
// `overloaded`, and one the runtime says may succeed if sent again with `retryable`: the caller should retry shortly.

export function isOverloaded(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const flags = err as Error & { overloaded?: unknown; retryable?: unknown };
  return flags.overloaded === true || flags.retryable === true;
}

/** Why a node or client was turned away then. */
export const BUSY_REASON = "the gateway is busy";
