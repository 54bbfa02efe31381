// What a key's account answers about its usage (the routes shape it for clients and operators).
import type { UsageEntry } from "./records.js";
import type { Dimension, UsageGroup, UsageSums } from "./usage-sums.js";

/**
 * One metered request as the account keeps it: what was recorded, less the receipt (which goes to the node's shard)
 * and the slice it was admitted from (bookkeeping of the budget, not of the request).
 */
export type UsageRow = Omit<UsageEntry, "receipt" | "slice_id">;

export interface UsageQuery {
  /** ms since the epoch, [from, to). */
  from: number;
  to: number;
  /** null: totals and the newest rows; otherwise totals and one entry per group. */
  group_by: Dimension | null;
  /** Rows listed when not grouped; 0 for totals only. */
  limit: number;
}

export interface UsageAnswer {
  totals: UsageSums;
  groups: UsageGroup[];
  rows: UsageRow[];
  has_more: boolean;
}
