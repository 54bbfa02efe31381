// Billable receipts waiting to reach their node's earnings shard. A row leaves only when its shard acknowledged it;
// the shards are idempotent on request id, so sending one twice (a reply lost) is harmless.
import type { Earning } from "../../billing/records.js";
import { earningsShardOf } from "../names.js";

/** An earning and the shard it goes to. */
type OutboxRow = Pick<Earning, keyof Earning> & { shard: number };

/** `shards`: the shard count now (a receipt pushed after it changed is moved to its node's new shard at the close). */
export function queueEarning(sql: SqlStorage, e: Earning, shards: number): void {
  sql.exec(
    `INSERT INTO outbox (request_id, shard, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING`,
    e.request_id,
    earningsShardOf(e.node_id, shards),
    e.node_id,
    e.receipt,
    e.leaf,
    e.prompt_tokens,
    e.completion_tokens,
    e.amount,
    e.created,
  );
}

/** The oldest queued earnings, at most `limit`, grouped by shard. */
export function outboxByShard(sql: SqlStorage, limit: number): Map<number, Earning[]> {
  const rows = sql.exec<OutboxRow>(
    "SELECT request_id, shard, node_id, receipt, leaf, prompt_tokens, completion_tokens, amount, created FROM " +
      "outbox ORDER BY created, request_id LIMIT ?",
    limit,
  );
  const byShard = new Map<number, Earning[]>();
  for (const { shard, ...earning } of rows) {
    const list = byShard.get(shard) ?? [];
    list.push(earning);
    byShard.set(shard, list);
  }
  return byShard;
}

export function acknowledge(sql: SqlStorage, requestIds: readonly string[]): void {
  sql.exec("DELETE FROM outbox WHERE request_id IN (SELECT value FROM json_each(?))", JSON.stringify(requestIds));
}

export function outboxSize(sql: SqlStorage): number {
  return sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM outbox").one().n;
}
