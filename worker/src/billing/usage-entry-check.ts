// What an account accepts from the request path: counts, money and times are whole, non-negative and exact as doubles
// (safe integers). Anything else is the caller's bug; it is refused before anything is written, never summed.
import type { UsageEntry } from "./records.js";

const WHOLE_FIELDS = [
  "created",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "cost",
  "node_amount",
  "status",
] as const satisfies readonly (keyof UsageEntry)[];

/** A RangeError naming the entry and the field, for the first field that is not a non-negative safe integer. */
export function checkUsageEntry(e: UsageEntry): void {
  for (const field of WHOLE_FIELDS) {
    const value = e[field];
    if (!Number.isSafeInteger(value) || value < 0)
      throw new RangeError(`usage entry ${e.request_id}: ${field} must be a non-negative safe integer, not ${value}`);
  }
  // Stored rounded: a fraction of a millisecond is fine, a value that does not round to a safe integer is not.
  if (!Number.isSafeInteger(Math.round(e.latency_ms)) || e.latency_ms < 0) {
    throw new RangeError(
      `usage entry ${e.request_id}: latency_ms must be a non-negative number of milliseconds, not ${e.latency_ms}`,
    );
  }
}

/** The most `spent` can hold (SQLite's int64): 1,024 charges of the largest a row may hold. Reached, it stays there. */
export const SPENT_CEILING = 2n ** 63n - 1n;

/** A key's lifetime spend after one more charge, exact (BigInt) up to SPENT_CEILING. */
export function addSpent(spent: bigint, cost: number): bigint {
  const next = spent + BigInt(cost);
  return next > SPENT_CEILING ? SPENT_CEILING : next;
}
