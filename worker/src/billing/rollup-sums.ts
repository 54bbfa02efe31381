// What an admission cell's flush tells the global roll-up: its usage rows summed per (hour, key), (hour, model) and
// (hour, node). Three separate lists, not their cross product, which grows with keys × models × nodes. Figures are
// decimal strings of exact integers (BigInt), since a batch's sum may pass 2^53.
import type { UsageEntry } from "./records.js";
import { addSums, SUM_FIELDS, ZERO_SUMS, type UsageSums } from "./usage-sums.js";

export const HOUR_MS = 3_600_000;

export const ROLLUP_DIMENSIONS = ["key", "model", "node"] as const;
export type RollupDimension = (typeof ROLLUP_DIMENSIONS)[number];

/** One group's sums in one hour; `sums` in SUM_FIELDS order. */
export interface RollupRow {
  hour: number;
  group: string;
  sums: string[];
}

export type RollupBatch = Record<RollupDimension, RollupRow[]>;

export function startOfHour(ms: number): number {
  return ms - (((ms % HOUR_MS) + HOUR_MS) % HOUR_MS);
}

/** One row's figures as the account charges them: only billable rows carry money. */
function entrySums(e: UsageEntry): UsageSums {
  return {
    requests: 1n,
    prompt_tokens: BigInt(e.prompt_tokens),
    completion_tokens: BigInt(e.completion_tokens),
    total_tokens: BigInt(e.total_tokens),
    cost: e.billable ? BigInt(e.cost) : 0n,
    node_amount: e.billable ? BigInt(e.node_amount) : 0n,
    billable_requests: e.billable ? 1n : 0n,
    estimated_requests: e.estimated ? 1n : 0n,
  };
}

const groupOf: Record<RollupDimension, (e: UsageEntry) => string> = {
  key: (e) => e.key_id,
  model: (e) => e.model,
  node: (e) => e.node_id,
};

/** The batch's sums, by the hour each row's request arrived in. */
export function rollupBatch(entries: readonly UsageEntry[]): RollupBatch {
  const batch: RollupBatch = { key: [], model: [], node: [] };
  for (const dimension of ROLLUP_DIMENSIONS) {
    const sums = new Map<string, { hour: number; group: string; sums: UsageSums }>();
    for (const e of entries) {
      const hour = startOfHour(e.created);
      const group = groupOf[dimension](e);
      const name = `${hour}\u0000${group}`;
      const kept = sums.get(name);
      sums.set(name, { hour, group, sums: addSums(kept?.sums ?? ZERO_SUMS, entrySums(e)) });
    }
    batch[dimension] = [...sums.values()].map((r) => ({ ...r, sums: SUM_FIELDS.map((f) => String(r.sums[f])) }));
  }
  return batch;
}
