import { MerkleTree, receiptLeaf, toHex, utf8 } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { closeNodes, closeShard, fitsAlone, shardBudget, type SettledRow } from "./shard-close.js";

const NODE_A = "A".repeat(43);
const NODE_B = "B".repeat(43);
const NODE_C = "C".repeat(43);

function rows(nodeId: string, n: number, amount = (i: number) => 100 * (i + 1)): SettledRow[] {
  return Array.from({ length: n }, (_, i) => ({
    node_id: nodeId,
    leaf: toHex(receiptLeaf(utf8(`${nodeId}-${i}`))),
    prompt_tokens: 10 + i,
    completion_tokens: 2 * i,
    amount: amount(i),
  })).sort((x, y) => (x.leaf < y.leaf ? -1 : 1));
}

const bytes = (hex: string) => Uint8Array.from(hex.slice(2).match(/../g) ?? [], (b) => parseInt(b, 16));
const rootOf = (rs: readonly SettledRow[]) => toHex(new MerkleTree(rs.map((r) => bytes(r.leaf))).root);

describe("closeNodes", () => {
  it("sums each node's receipts, tokens and amount and gives its subtree root", () => {
    const a = rows(NODE_A, 5);
    const b = rows(NODE_B, 3);
    const closed = [...closeNodes([...a, ...b], 2)];
    expect(closed.map((c) => c.node)).toEqual([
      { node_id: NODE_A, receipts: 5, prompt_tokens: 60, completion_tokens: 20, amount: 1500, root: rootOf(a) },
      { node_id: NODE_B, receipts: 3, prompt_tokens: 33, completion_tokens: 6, amount: 600, root: rootOf(b) },
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

  it("refuses rows out of node order, and a node total no double holds exactly", () => {
    expect(() => [...closeNodes([...rows(NODE_B, 1), ...rows(NODE_A, 1)])]).toThrow(/ordered by node id/);
    const huge = rows(NODE_A, 2, () => Number.MAX_SAFE_INTEGER - 1);
    expect(() => [...closeNodes(huge)]).toThrow(RangeError);
  });
});

describe("closeShard", () => {
  it("gives each shard a sixteenth of 2^53 - 1 per figure, so sixteen full shards still sum to a safe integer", () => {
    expect(shardBudget(16)).toBe(562_949_953_421_311);
    expect(Number.isSafeInteger(16 * shardBudget(16))).toBe(true);
  });

  it("takes every row when they fit, and says so", () => {
    const all = [...rows(NODE_A, 3), ...rows(NODE_B, 2)];
    const close = closeShard(all, shardBudget(16));
    expect(close).toMatchObject({ taken: 5, full: false, oversized: 0, last: { node_id: NODE_B, leaf: all[4]?.leaf } });
    expect(close.nodes.map((n) => n.node.receipts)).toEqual([3, 2]);
  });

  it("stops at the first row that would pass the budget, in read order, leaving it and every later row", () => {
    const a = rows(NODE_A, 3, () => 400);
    const b = rows(NODE_B, 2, () => 1);
    // 400 + 400 fits in 1,000; the third 400 does not, and B's rows after it wait too although they would fit.
    const close = closeShard([...a, ...b], 1_000);
    expect(close).toMatchObject({ taken: 2, full: true, last: { node_id: NODE_A, leaf: a[1]?.leaf } });
    const taken = a.slice(0, 2);
    const sum = (f: "prompt_tokens" | "completion_tokens") => taken.reduce((n, r) => n + r[f], 0);
    expect(close.nodes.map((n) => n.node)).toEqual([
      {
        node_id: NODE_A,
        receipts: 2,
        prompt_tokens: sum("prompt_tokens"),
        completion_tokens: sum("completion_tokens"),
        amount: 800,
        root: rootOf(taken),
      },
    ]);
  });

  it("budgets every figure: the receipt count and tokens as well as the amount", () => {
    const free = rows(NODE_A, 5, () => 0).map((r) => ({ ...r, prompt_tokens: 0, completion_tokens: 0 }));
    expect(closeShard(free, 3)).toMatchObject({ taken: 3, full: true });
    expect(
      closeShard(
        free.map((r) => ({ ...r, completion_tokens: 40 })),
        100,
      ),
    ).toMatchObject({ taken: 2, full: true });
    expect(
      closeShard(
        free.map((r) => ({ ...r, prompt_tokens: 30 })),
        100,
      ),
    ).toMatchObject({ taken: 3, full: true });
  });

  it("stops reading the rows once full", () => {
    let read = 0;
    function* source(): Generator<SettledRow> {
      for (const row of rows(NODE_A, 10, () => 600)) {
        read++;
        yield row;
      }
    }
    expect(closeShard(source(), 1_000).taken).toBe(1);
    expect(read).toBe(2);
  });

  it(
    "skips a row that alone passes the budget (or is not a whole number) without stopping, so it blocks " + "nobody",
    () => {
      const a = rows(NODE_A, 2, () => 10);
      const monster = { ...rows(NODE_B, 1)[0]!, amount: 5_000 };
      const fraction = { ...rows(NODE_B, 2)[1]!, amount: 1.5 };
      const c = rows(NODE_C, 2, () => 10);
      const sorted = [...a, ...[monster, fraction].sort((x, y) => (x.leaf < y.leaf ? -1 : 1)), ...c];
      const close = closeShard(sorted, 1_000);
      expect(close).toMatchObject({ taken: 4, full: false, oversized: 2 });
      expect(close.nodes.map((n) => n.node.node_id)).toEqual([NODE_A, NODE_C]);
      expect(fitsAlone(monster, 1_000)).toBe(false);
      expect(fitsAlone({ ...monster, amount: 1_000 }, 1_000)).toBe(true);
    },
  );

  it("takes nothing from nothing", () => {
    expect(closeShard([], 10)).toEqual({ nodes: [], last: null, taken: 0, full: false, oversized: 0 });
  });
});
