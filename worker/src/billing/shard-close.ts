// What an earnings shard computes when it closes a period: which of its unsettled receipts the close takes, and per
// node its totals and its subtree, from the rows streamed in (node_id, leaf) order. Each node is finished as soon as
// its last row has passed, so a shard holds one node's block (see node-subtree.ts) at a time however many receipts
// the period has.
//
// Every figure of a statement must stay a safe integer, so statements remain plain JSON anyone can check. So a
// shard's close takes receipts in the order it reads them while each of its totals (receipts, prompt tokens,
// completion tokens, amount) stays within its budget, 2^53 - 1 over the shard count (shardBudget); it stops at the
// first receipt that would pass it, and that receipt and every later one stay unsettled for the next close. A close
// never fails on size, and a receipt is paid whole or not yet.
import type { SettlementNode } from "@meshgate/schemas";
import { safeNumber } from "../lib/exact-sum.js";
import { BLOCK_LEAVES, SubtreeBuilder, type NodeSubtree } from "./node-subtree.js";

export interface SettledRow {
  node_id: string;
  leaf: string;
  prompt_tokens: number;
  completion_tokens: number;
  amount: number;
}

export interface ClosedNode {
  node: SettlementNode;
  subtree: NodeSubtree;
}

/** Where a close stopped: the last row it took, in read order. */
export interface RowKey {
  node_id: string;
  leaf: string;
}

export interface ShardClose {
  nodes: ClosedNode[];
  /** The last row taken; rows after it stay unsettled. Null when none was taken. */
  last: RowKey | null;
  taken: number;
  /** The budget stopped the close: rows were left for the next one. */
  full: boolean;
  /** Rows that alone pass the budget (no valid receipt does: ≤ 2e8 tokens at ≤ 1e12 a million): never taken. */
  oversized: number;
}

/** What each figure of one shard's close may reach: all shards together stay within 2^53 - 1. */
export function shardBudget(shards: number): number {
  return Number((2n ** 53n - 1n) / BigInt(shards));
}

const FIGURES = ["prompt_tokens", "completion_tokens", "amount"] as const;

/** A row a close could ever take: its figures whole, non-negative and each within the budget (as SQL checks too). */
export function fitsAlone(row: SettledRow, budget: number): boolean {
  return FIGURES.every((f) => Number.isSafeInteger(row[f]) && row[f] >= 0 && row[f] <= budget);
}

/** Rows in read order while the running totals stay within `budget`; records in `cut` where it stopped. */
function* withinBudget(
  rows: Iterable<SettledRow>,
  budget: number,
  cut: Omit<ShardClose, "nodes">,
): Generator<SettledRow> {
  const limit = BigInt(budget);
  let [receipts, prompt, completion, amount] = [0n, 0n, 0n, 0n];
  for (const row of rows) {
    if (!fitsAlone(row, budget)) {
      cut.oversized++;
      continue;
    }
    const next = [
      receipts + 1n,
      prompt + BigInt(row.prompt_tokens),
      completion + BigInt(row.completion_tokens),
      amount + BigInt(row.amount),
    ] as const;
    if (next.some((total) => total > limit)) {
      // Returning ends the caller's read of the rows (the SQL cursor closes).
      cut.full = true;
      return;
    }
    [receipts, prompt, completion, amount] = next;
    cut.last = { node_id: row.node_id, leaf: row.leaf };
    cut.taken++;
    yield row;
  }
}

/** Rows must come ordered by node_id, then leaf. */
export function closeShard(rows: Iterable<SettledRow>, budget: number, blockLeaves = BLOCK_LEAVES): ShardClose {
  const cut: Omit<ShardClose, "nodes"> = { last: null, taken: 0, full: false, oversized: 0 };
  const nodes = [...closeNodes(withinBudget(rows, budget, cut), blockLeaves)];
  return { nodes, ...cut };
}

interface Open {
  nodeId: string;
  receipts: number;
  sums: Record<(typeof FIGURES)[number], bigint>;
  builder: SubtreeBuilder;
}

function finish(open: Open): ClosedNode {
  const subtree = open.builder.finish();
  const figure = (f: (typeof FIGURES)[number]) => safeNumber(open.sums[f], `node ${open.nodeId}'s ${f} in one period`);
  const node = {
    node_id: open.nodeId,
    receipts: open.receipts,
    prompt_tokens: figure("prompt_tokens"),
    completion_tokens: figure("completion_tokens"),
    amount: figure("amount"),
    root: subtree.root,
  };
  return { node, subtree };
}

/**
 * Each node's totals (exact, in BigInt; a RangeError for one that is not a safe integer) and subtree. Rows ordered by
 * node_id, then leaf.
 */
export function* closeNodes(rows: Iterable<SettledRow>, blockLeaves = BLOCK_LEAVES): Generator<ClosedNode> {
  let open: Open | null = null;
  for (const row of rows) {
    if (open && open.nodeId !== row.node_id) {
      if (open.nodeId > row.node_id) throw new Error("rows must be ordered by node id");
      yield finish(open);
      open = null;
    }
    open ??= {
      nodeId: row.node_id,
      receipts: 0,
      sums: { prompt_tokens: 0n, completion_tokens: 0n, amount: 0n },
      builder: new SubtreeBuilder(blockLeaves),
    };
    open.receipts++;
    for (const f of FIGURES) open.sums[f] += BigInt(row[f]);
    open.builder.add(row.leaf);
  }
  if (open) yield finish(open);
}
