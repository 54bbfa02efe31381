// Usage summed over a range or a group: integers only (tokens, micro-units, counts), summed in BigInt so sums merged
// from many accounts or from roll-ups and rows are exact at any size (a double rounds past 2^53 - 1).

/** How one key's usage can be grouped; the admin report can also group by key. */
export type Dimension = "model" | "node" | "day";

export interface UsageSums {
  requests: bigint;
  prompt_tokens: bigint;
  completion_tokens: bigint;
  total_tokens: bigint;
  /** Micro-units charged to the key. */
  cost: bigint;
  /** Micro-units owed to nodes. */
  node_amount: bigint;
  billable_requests: bigint;
  /** Requests whose counts are the gateway's estimate (the node reported no usage). */
  estimated_requests: bigint;
}

/** `group` is the model id, node id, key id or UTC date (YYYY-MM-DD). */
export interface UsageGroup extends UsageSums {
  group: string;
}

export const SUM_FIELDS = [
  "requests",
  "prompt_tokens",
  "completion_tokens",
  "total_tokens",
  "cost",
  "node_amount",
  "billable_requests",
  "estimated_requests",
] as const satisfies readonly (keyof UsageSums)[];

export const ZERO_SUMS: UsageSums = {
  requests: 0n,
  prompt_tokens: 0n,
  completion_tokens: 0n,
  total_tokens: 0n,
  cost: 0n,
  node_amount: 0n,
  billable_requests: 0n,
  estimated_requests: 0n,
};

/** Field by field, exactly. */
export function addSums(a: UsageSums, b: UsageSums): UsageSums {
  return {
    requests: a.requests + b.requests,
    prompt_tokens: a.prompt_tokens + b.prompt_tokens,
    completion_tokens: a.completion_tokens + b.completion_tokens,
    total_tokens: a.total_tokens + b.total_tokens,
    cost: a.cost + b.cost,
    node_amount: a.node_amount + b.node_amount,
    billable_requests: a.billable_requests + b.billable_requests,
    estimated_requests: a.estimated_requests + b.estimated_requests,
  };
}

/** Sums groups of the same name (from roll-ups and rows, or from many keys); sorted by name (dates chronologically). */
export function mergeGroups(lists: readonly (readonly UsageGroup[])[]): UsageGroup[] {
  const merged = new Map<string, UsageSums>();
  for (const list of lists)
    for (const { group, ...sums } of list) merged.set(group, addSums(merged.get(group) ?? ZERO_SUMS, sums));
  return [...merged].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([group, sums]) => ({ group, ...sums }));
}

export function totalOf(groups: readonly UsageSums[]): UsageSums {
  return groups.reduce(addSums, ZERO_SUMS);
}
