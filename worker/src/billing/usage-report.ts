// What a key's account answers about its usage (the routes shape it for clients and operators).
import type { ReceiptStatus } from "./records.js";
import type { Dimension, UsageGroup, UsageSums } from "./usage-sums.js";

/** One metered request as the account keeps it (times in ms since the epoch). No prompt or completion text. */
export interface UsageRow {
  request_id: string;
  created: number;
  key_id: string;
  node_id: string;
  model: string;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  cost: number;
  node_amount: number;
  billable: boolean;
  estimated: boolean;
  receipt_status: ReceiptStatus;
  latency_ms: number;
  status: number;
  streamed: boolean;
}

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
