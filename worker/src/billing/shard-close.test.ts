import { MerkleTree, receiptLeaf, toHex, utf8 } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { closeNodes, type SettledRow } from "./shard-close.js";

const NODE_A = "A".repeat(43);
const NODE_B = "B".repeat(43);

function rows(nodeId: string, n: number): SettledRow[] {
  return Array.from({ length: n }, (_, i) => ({
    node_id: nodeId,
    leaf: toHex(receiptLeaf(utf8(`${nodeId}-${i}`))),
    prompt_tokens: 10 + i,
    completion_tokens: 2 * i,
    amount: 100 * (i + 1),
  })).sort((x, y) => (x.leaf < y.leaf ? -1 : 1));
}

const bytes = (hex: string) => Uint8Array.from(hex.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16));

describe("closeNodes", () => {
  it("sums each node's receipts, tokens and amount and gives its subtree root", () => {
    const a = rows(NODE_A, 5);
    const b = rows(NODE_B, 3);
    const closed = [...closeNodes([...a, ...b], 2)];
    expect(closed.map((c) => c.node)).toEqual([
      { node_id: NODE_A, receipts: 5, prompt_tokens: 60, completion_tokens: 20, amount: 1500, root: toHex(new MerkleTree(a.map((r) => bytes(r.leaf))).root) },
      { node_id: NODE_B, receipts: 3, prompt_tokens: 33, completion_tokens: 6, amount: 600, root: toHex(new MerkleTree(b.map((r) => bytes(r.leaf))).root) },
    ]);
    expect(closed[0]?.subtree.blocks).toHaveLength(3);
  });

  it("yields a node as soon as its rows end, before reading the next node's", () => {
    const read: string[] = [];
    function* source(): Generator<SettledRow> {
      for (const row of [...rows(NODE_A, 2), ...rows(NODE_B, 2)]) {
        read.push(row.node_id);
        yield row;
      }
    }
    const closing = closeNodes(source());
    expect(closing.next().value?.node.node_id).toBe(NODE_A);
    expect(read).toEqual([NODE_A, NODE_A, NODE_B]);
  });

  it("yields nothing for no rows", () => {
    expect([...closeNodes([])]).toEqual([]);
  });

  it("refuses rows out of node order, and sums past 2^53", () => {
    expect(() => [...closeNodes([...rows(NODE_B, 1), ...rows(NODE_A, 1)])]).toThrow(/ordered by node id/);
    const huge = rows(NODE_A, 2).map((r) => ({ ...r, amount: Number.MAX_SAFE_INTEGER - 1 }));
    expect(() => [...closeNodes(huge)]).toThrow(RangeError);
  });
});
