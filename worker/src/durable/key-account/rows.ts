// Writing a key's usage: one row per request (idempotent on request id) and its day's roll-up, and deleting rows past
// the retention (the roll-ups stay).
import type { UsageEntry } from "../../billing/records.js";
import { DAY_MS } from "../../billing/retention.js";
import { carryingAdd } from "./sql-sums.js";

const flag = (b: boolean) => (b ? 1 : 0);

/**
 * Roll-up figures that grow by a row's tokens or money, each up to 2^53 - 1 a row: added with a carry into
 * `<column>_hi` (see sql-sums.ts), so a day's roll-up is kept for good and never passes int64 (which would make
 * SQLite turn it into an inexact real) however much it holds.
 */
export const ROLLUP_CARRIED = ["prompt_tokens", "completion_tokens", "total_tokens", "cost", "node_amount"] as const;
const ROLLUP_ADD = ROLLUP_CARRIED.map((c) => carryingAdd(c)).join(",\n       ");

/** Records one answered request; false when its request id was recorded before (then nothing is written). */
export function recordRow(sql: SqlStorage, e: UsageEntry, cost: number, nodeAmount: number): boolean {
  const inserted = sql
    .exec(
      `INSERT INTO usage (request_id, created, key_id, node_id, model, prompt_tokens, completion_tokens, total_tokens, latency_ms, status, streamed,
       cost, node_amount, billable, estimated, receipt_status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (request_id) DO NOTHING RETURNING request_id`,
      e.request_id,
      e.created,
      e.key_id,
      e.node_id,
      e.model,
      e.prompt_tokens,
      e.completion_tokens,
      e.total_tokens,
      Math.round(e.latency_ms),
      e.status,
      flag(e.streamed),
      cost,
      nodeAmount,
      flag(e.billable),
      flag(e.estimated),
      e.receipt_status,
    )
    .toArray();
  if (inserted.length === 0) return false;
  sql.exec(
    `INSERT INTO usage_daily (day, model, node_id, requests, prompt_tokens, completion_tokens, total_tokens, cost, node_amount, billable_requests, estimated_requests)
     VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (day, model, node_id) DO UPDATE SET
       requests = requests + 1, billable_requests = billable_requests + excluded.billable_requests,
       estimated_requests = estimated_requests + excluded.estimated_requests,
       ${ROLLUP_ADD}`,
    e.created - (e.created % DAY_MS),
    e.model,
    e.node_id,
    e.prompt_tokens,
    e.completion_tokens,
    e.total_tokens,
    cost,
    nodeAmount,
    flag(e.billable),
    flag(e.estimated),
  );
  return true;
}

/** Deletes up to `batch` rows created before `before`; returns how many (a full batch means there may be more). */
export function purgeRows(sql: SqlStorage, before: number, batch: number): number {
  sql.exec(
    "DELETE FROM usage WHERE request_id IN (SELECT request_id FROM usage WHERE created < ? LIMIT ?)",
    before,
    batch,
  );
  return sql.exec<{ n: number }>("SELECT changes() AS n").one().n;
}

export function hasRows(sql: SqlStorage): boolean {
  return sql.exec("SELECT 1 FROM usage LIMIT 1").toArray().length > 0;
}
