// Usage summed over a range or a group: integers only (tokens, micro-units, counts), so sums merged from many
// accounts or from roll-ups and rows are exact (checked: see exact-sum.ts).
import { exactSum } from "./exact-sum.js";

/** How one key's usage can be grouped; the admin report can also group by key. */
export type Dimension = "model" | "node" | "day";

export interface UsageSums {
  requests: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Micro-units charged to the key. */
  cost: number;
  /** Micro-units owed to nodes. */
  node_amount: number;
  billable_requests: number;
  /** Requests whose counts are the gateway's estimate (the node reported no usage). */
  estimated_requests: number;
}

/** `group` is the model id, node id, key id or UTC date (YYYY-MM-DD). */
export interface UsageGroup extends UsageSums {
  group: string;
}

export const ZERO_SUMS: UsageSums = {
  requests: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, cost: 0, node_amount: 0, billable_requests: 0, estimated_requests: 0,
};

/** Field by field; throws rather than round (sums pass 2^53 - 1 only far beyond any real usage). */
export function addSums(a: UsageSums, b: UsageSums): UsageSums {
  const sum = (field: keyof UsageSums) => exactSum(a[field], b[field], field);
  return {
    requests: sum("requests"),
    prompt_tokens: sum("prompt_tokens"),
    completion_tokens: sum("completion_tokens"),
    total_tokens: sum("total_tokens"),
    cost: sum("cost"),
    node_amount: sum("node_amount"),
    billable_requests: sum("billable_requests"),
    estimated_requests: sum("estimated_requests"),
  };
}

/** Sums groups of the same name (from roll-ups and rows, or from many keys); sorted by name (dates chronologically). */
export function mergeGroups(lists: readonly (readonly UsageGroup[])[]): UsageGroup[] {
  const merged = new Map<string, UsageSums>();
  for (const list of lists) for (const { group, ...sums } of list) merged.set(group, addSums(merged.get(group) ?? ZERO_SUMS, sums));
  return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([group, sums]) => ({ group, ...sums }));
}

export function totalOf(groups: readonly UsageSums[]): UsageSums {
  return groups.reduce(addSums, ZERO_SUMS);
}
