// What an earnings shard computes when it closes a period: per node, its totals and its subtree, from the settled
// rows streamed in (node_id, leaf) order. Each node is yielded as soon as its last row has passed, so a shard holds one
// node's block (see node-subtree.ts) at a time however many receipts the period has.
import type { SettlementNode } from "@meshgate/schemas";
import { exactSum } from "./exact-sum.js";
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

interface Open {
  node: SettlementNode;
  builder: SubtreeBuilder;
}

/**
 * Sums stay exact below 2^53 micro-units (about 9·10^9 whole units per node and period) and tokens; past that the
 * close fails rather than sign an inexact statement: close shorter periods.
 */
const add = (total: number, value: number, what: string) => exactSum(total, value, `a node's ${what} in one period`);

function finish(open: Open): ClosedNode {
  const subtree = open.builder.finish();
  return { node: { ...open.node, root: subtree.root }, subtree };
}

/** Rows must come ordered by node_id, then leaf. */
export function* closeNodes(rows: Iterable<SettledRow>, blockLeaves = BLOCK_LEAVES): Generator<ClosedNode> {
  let open: Open | null = null;
  for (const row of rows) {
    if (open && open.node.node_id !== row.node_id) {
      if (open.node.node_id > row.node_id) throw new Error("rows must be ordered by node id");
      yield finish(open);
      open = null;
    }
    open ??= {
      node: { node_id: row.node_id, receipts: 0, prompt_tokens: 0, completion_tokens: 0, amount: 0, root: "" },
      builder: new SubtreeBuilder(blockLeaves),
    };
    const n = open.node;
    n.receipts++;
    n.prompt_tokens = add(n.prompt_tokens, row.prompt_tokens, "prompt tokens");
    n.completion_tokens = add(n.completion_tokens, row.completion_tokens, "completion tokens");
    n.amount = add(n.amount, row.amount, "the amount");
    open.builder.add(row.leaf);
  }
  if (open) yield finish(open);
}
