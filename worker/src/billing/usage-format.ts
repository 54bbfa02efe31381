// Usage as clients and operators see it, in JSON or CSV. Clients see what they are charged (`cost`); what nodes are
// owed (`node_amount`), and so the gateway's margin, is shown to operators only. Sums are exact bigints, written as
// exact integer literals (schemas' exactJson; in CSV, their digits) however large they grow.
import type { UsageGroupRow, UsageGrouping, UsageRow as PublicUsageRow, UsageTotals } from "@meshgate/schemas";
import { toCsv, type CsvValue } from "./usage-csv.js";
import type { UsageRow } from "./usage-report.js";
import type { UsageGroup, UsageSums } from "./usage-sums.js";

export type Audience = "client" | "admin";

/** UsageTotals with every figure exact. */
export type ExactTotals = { [K in keyof UsageTotals]: bigint };
/** UsageGroupRow with every figure exact. */
export type ExactGroupRow = Omit<UsageGroupRow, keyof UsageTotals> & ExactTotals;

export function totalsBody(s: UsageSums, audience: Audience): ExactTotals {
  return {
    requests: s.requests,
    prompt_tokens: s.prompt_tokens,
    completion_tokens: s.completion_tokens,
    total_tokens: s.total_tokens,
    cost: s.cost,
    ...(audience === "admin" ? { node_amount: s.node_amount } : {}),
    estimated_requests: s.estimated_requests,
    non_billable_requests: s.requests - s.billable_requests,
  };
}

export function rowBody(r: UsageRow): PublicUsageRow {
  return {
    request_id: r.request_id,
    created: new Date(r.created).toISOString(),
    key_id: r.key_id,
    node_id: r.node_id,
    model: r.model,
    prompt_tokens: r.prompt_tokens,
    completion_tokens: r.completion_tokens,
    total_tokens: r.total_tokens,
    latency_ms: r.latency_ms,
    status: r.status,
    streamed: r.streamed,
    cost: r.cost,
    billable: r.billable,
    estimated: r.estimated,
    receipt_status: r.receipt_status,
  };
}

/** The fields that name a group; a key's group also carries the key's name. */
function groupNames(
  groupBy: UsageGrouping,
  group: string,
  names: ReadonlyMap<string, string>,
): Omit<UsageGroupRow, keyof UsageTotals> {
  switch (groupBy) {
    case "key":
      return { key_id: group, name: names.get(group) ?? "" };
    case "model":
      return { model: group };
    case "node":
      return { node_id: group };
    case "day":
      return { day: group };
  }
}

export function groupBody(
  groupBy: UsageGrouping,
  g: UsageGroup,
  audience: Audience,
  names: ReadonlyMap<string, string> = new Map(),
): ExactGroupRow {
  return { ...groupNames(groupBy, g.group, names), ...totalsBody(g, audience) };
}

const ROW_COLUMNS = [
  "request_id",
  "created",
  "key_id",
  "node_id",
  "model",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "latency_ms",
  "status",
  "streamed",
  "cost",
  "billable",
  "estimated",
  "receipt_status",
] as const satisfies readonly (keyof PublicUsageRow)[];

const GROUP_COLUMNS: Record<UsageGrouping, readonly (keyof ExactGroupRow)[]> = {
  key: ["key_id", "name"],
  model: ["model"],
  node: ["node_id"],
  day: ["day"],
};

function sumColumns(audience: Audience): readonly (keyof UsageTotals)[] {
  const money = audience === "admin" ? (["cost", "node_amount"] as const) : (["cost"] as const);
  return [
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    ...money,
    "estimated_requests",
    "non_billable_requests",
  ];
}

/** The same fields as the JSON rows, in the same order. */
export function rowsCsv(rows: readonly UsageRow[]): string {
  return toCsv(
    ROW_COLUMNS,
    rows.map((r) => {
      const body = rowBody(r);
      return ROW_COLUMNS.map((column) => body[column]);
    }),
  );
}

export function groupsCsv(
  groupBy: UsageGrouping,
  groups: readonly UsageGroup[],
  audience: Audience,
  names: ReadonlyMap<string, string> = new Map(),
): string {
  const header = [...GROUP_COLUMNS[groupBy], ...sumColumns(audience)];
  return toCsv(
    header,
    groups.map((g) => {
      const body = groupBody(groupBy, g, audience, names);
      return header.map((column): CsvValue => body[column] ?? null);
    }),
  );
}
