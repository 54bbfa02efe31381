// Reading a key's usage: sums from the daily roll-ups for whole days and from per-request rows for the partial days
// at the ends of a range (see billing/usage-range.ts), and the newest rows.
import { bigFromSql } from "../../lib/exact-sum.js";
import type { ReceiptStatus } from "../../billing/records.js";
import { DAY_MS } from "../../billing/retention.js";
import type { UsageAnswer, UsageQuery, UsageRow } from "../../billing/usage-report.js";
import { planRange, type Span } from "../../billing/usage-range.js";
import { mergeGroups, totalOf, type Dimension, type UsageGroup, type UsageSums } from "../../billing/usage-sums.js";
import { ROLLUP_CARRIED } from "./rows.js";
import { joinHalves, sumHalves } from "./sql-sums.js";

type SumsRow = Record<string, SqlStorageValue> & { grp: string | number };

type StoredRow = Omit<UsageRow, "billable" | "estimated" | "streamed" | "receipt_status"> & {
  billable: number;
  estimated: number;
  streamed: number;
  receipt_status: string;
};

/** Column expressions only (fixed text, never input); every value is a bound parameter. */
const ROLLUP_GROUP: Record<Dimension | "none", string> = { model: "model", node: "node_id", day: "day", none: "''" };
const ROW_GROUP: Record<Dimension | "none", string> = {
  model: "model",
  node: "node_id",
  day: "created - created % ?",
  none: "''",
};

// Tokens and money are summed in halves (see sql-sums.ts): one row may hold up to 2^53 - 1, a day's roll-up more.
// Counts grow by one a request and are read back as text only so they are exact however they are read.
const ROLLUP_SUMS = [
  "CAST(SUM(requests) AS TEXT) AS requests",
  ...ROLLUP_CARRIED.map((c) => sumHalves(c, c, `${c}_hi`)),
  "CAST(SUM(billable_requests) AS TEXT) AS billable_requests",
  "CAST(SUM(estimated_requests) AS TEXT) AS estimated_requests",
].join(", ");
const ROW_SUMS = [
  "CAST(COUNT(*) AS TEXT) AS requests",
  ...ROLLUP_CARRIED.map((c) => sumHalves(c, c)),
  "CAST(SUM(billable) AS TEXT) AS billable_requests",
  "CAST(SUM(estimated) AS TEXT) AS estimated_requests",
].join(", ");

function fromRollups(sql: SqlStorage, span: Span, by: Dimension | "none"): SumsRow[] {
  return sql
    .exec<SumsRow>(
      `SELECT ${ROLLUP_GROUP[by]} AS grp, ${ROLLUP_SUMS} FROM usage_daily WHERE day >= ? AND day < ? GROUP BY grp`,
      span.from,
      span.to,
    )
    .toArray();
}

function fromRows(sql: SqlStorage, span: Span, by: Dimension | "none"): SumsRow[] {
  const select = `SELECT ${ROW_GROUP[by]} AS grp, ${ROW_SUMS} FROM usage WHERE created >= ? AND created < ? GROUP BY grp`;
  const rows =
    by === "day"
      ? sql.exec<SumsRow>(select, DAY_MS, span.from, span.to)
      : sql.exec<SumsRow>(select, span.from, span.to);
  return rows.toArray();
}

function groupName(grp: string | number, by: Dimension | "none"): string {
  return by === "day" ? new Date(Number(grp)).toISOString().slice(0, 10) : String(grp);
}

function sumsOf(row: SumsRow): UsageSums {
  return {
    requests: bigFromSql(row["requests"] ?? null),
    prompt_tokens: joinHalves(row, "prompt_tokens"),
    completion_tokens: joinHalves(row, "completion_tokens"),
    total_tokens: joinHalves(row, "total_tokens"),
    cost: joinHalves(row, "cost"),
    node_amount: joinHalves(row, "node_amount"),
    billable_requests: bigFromSql(row["billable_requests"] ?? null),
    estimated_requests: bigFromSql(row["estimated_requests"] ?? null),
  };
}

function toGroups(rows: SumsRow[], by: Dimension | "none"): UsageGroup[] {
  return rows.map((row) => ({ group: groupName(row.grp, by), ...sumsOf(row) }));
}

function newestRows(sql: SqlStorage, span: Span, limit: number): StoredRow[] {
  return sql
    .exec<StoredRow>(
      `SELECT request_id, created, key_id, node_id, model, prompt_tokens, completion_tokens, total_tokens, cost, node_amount, billable, estimated,
       receipt_status, latency_ms, status, streamed
     FROM usage WHERE created >= ? AND created < ? ORDER BY created DESC, request_id LIMIT ?`,
      span.from,
      span.to,
      limit,
    )
    .toArray();
}

const asRow = (r: StoredRow): UsageRow => ({
  ...r,
  billable: r.billable === 1,
  estimated: r.estimated === 1,
  streamed: r.streamed === 1,
  // Written only from UsageEntry.receipt_status (or the upgrade default, "missing").
  receipt_status: r.receipt_status as ReceiptStatus,
});

export function usageAnswer(sql: SqlStorage, q: UsageQuery): UsageAnswer {
  const by = q.group_by ?? "none";
  const plan = planRange(q.from, q.to);
  const parts = [
    ...(plan.days ? [fromRollups(sql, plan.days, by)] : []),
    ...plan.edges.map((edge) => fromRows(sql, edge, by)),
  ];
  const groups = mergeGroups(parts.map((rows) => toGroups(rows, by)));
  const totals = totalOf(groups);
  if (q.group_by !== null) return { totals, groups, rows: [], has_more: false };
  // One row past the limit says whether there are more, without counting them all.
  const rows = q.limit > 0 ? newestRows(sql, { from: q.from, to: q.to }, q.limit + 1) : [];
  return { totals, groups: [], rows: rows.slice(0, q.limit).map(asRow), has_more: rows.length > q.limit };
}
