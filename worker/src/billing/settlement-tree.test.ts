import {
  EMPTY_ROOT,
  fromHex,
  MerkleTree,
  receiptLeaf,
  SettlementProofSchema,
  toHex,
  utf8,
  verifyMerkleProof,
  type SettlementNode,
} from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { closeNodes, type SettledRow } from "./shard-close.js";
import { assembleStatement, pageLeaves, topProof, type LeafRow } from "./settlement-tree.js";

const BLOCK = 4;
const nodeIds = ["n".repeat(43), "C".repeat(43), "_".repeat(43)];

/** A node's settled receipts, ascending by leaf as its shard stores them. */
function receipts(nodeId: string, n: number): (SettledRow & LeafRow)[] {
  return Array.from({ length: n }, (_, i) => {
    const receipt = `${nodeId}.${i}`;
    return {
      node_id: nodeId,
      receipt,
      leaf: toHex(receiptLeaf(utf8(receipt))),
      prompt_tokens: 7,
      completion_tokens: i,
      amount: 3 + i,
    };
  }).sort((x, y) => (x.leaf < y.leaf ? -1 : 1));
}

const input = (nodes: SettlementNode[]) => ({ id: "stl_test", from: 0, to: 1000, created: 2000, keyId: "kid", nodes });

describe("assembleStatement", () => {
  it("sorts the nodes by id, totals them and roots the top tree over their subtree roots", () => {
    const nodes = nodeIds.map((id, i) => [...closeNodes(receipts(id, i + 1))][0]?.node as SettlementNode);
    const statement = assembleStatement(input(nodes));
    expect(statement.nodes.map((n) => n.node_id)).toEqual([...nodeIds].sort());
    expect(statement.receipts).toBe(6);
    expect(statement.amount).toBe(nodes.reduce((n, node) => n + node.amount, 0));
    expect(statement.merkle_root).toBe(toHex(new MerkleTree(nodes.map((n) => fromHex(n.root) ?? EMPTY_ROOT)).root));
    expect(statement).toMatchObject({
      object: "settlement",
      id: "stl_test",
      from: 0,
      to: 1000,
      created: 2000,
      key_id: "kid",
    });
  });

  it("totals exactly up to 2^53 - 1, and refuses to sign a total past it", () => {
    const node = [...closeNodes(receipts(nodeIds[0] ?? "", 1))][0]?.node as SettlementNode;
    const full = Array.from({ length: 16 }, (_, i) => ({
      ...node,
      node_id: String(i).padStart(43, "x"),
      amount: 562_949_953_421_311,
    }));
    expect(assembleStatement(input(full)).amount).toBe(16 * 562_949_953_421_311);
    const over = [...full.slice(1), { ...node, amount: 562_949_953_421_311 + 16 }];
    expect(() => assembleStatement(input(over))).toThrow(/the period's amount \(9007199254740992\) passes 2\^53 - 1/);
  });

  it("has the empty root and zero totals when nobody earned anything", () => {
    expect(assembleStatement(input([]))).toMatchObject({
      receipts: 0,
      amount: 0,
      nodes: [],
      merkle_root: toHex(EMPTY_ROOT),
    });
  });
});

describe("proofs of every receipt", () => {
  const rowsByNode = nodeIds.map((id, i) => receipts(id, [1, 5, 11][i] ?? 1));
  const closed = rowsByNode.map((rows) => [...closeNodes(rows, BLOCK)][0]);
  const statement = assembleStatement(input(closed.map((c) => c?.node as SettlementNode)));

  it("fold from each leaf to merkle_root, page by page", () => {
    rowsByNode.forEach((rows, n) => {
      const node = closed[n];
      if (!node) throw new Error("node not closed");
      const top = topProof(statement, node.node.node_id);
      expect(top?.node).toEqual(node.node);
      const proof = top?.proof ?? [];
      const leaves = node.subtree.blocks.flatMap((_root, b) =>
        pageLeaves(proof, rows.slice(b * BLOCK, (b + 1) * BLOCK), b, node.subtree.blocks),
      );
      expect(leaves.map((l) => l.receipt)).toEqual(rows.map((r) => r.receipt));
      expect(
        SettlementProofSchema.safeParse({
          object: "settlement.proof",
          settlement_id: "stl_test",
          merkle_root: statement.merkle_root,
          node: node.node,
          leaves,
          page: 0,
          has_more: false,
        }).success,
      ).toBe(true);
      for (const leaf of leaves) {
        const ok = verifyMerkleProof(
          fromHex(leaf.leaf) ?? EMPTY_ROOT,
          leaf.proof.map((p) => fromHex(p) ?? EMPTY_ROOT),
          fromHex(statement.merkle_root) ?? EMPTY_ROOT,
        );
        expect(ok).toBe(true);
      }
    });
  });

  it("do not verify for another leaf or a tampered step", () => {
    const rows = rowsByNode[2] ?? [];
    const node = closed[2];
    if (!node) throw new Error("node not closed");
    const [first, second] = pageLeaves(
      topProof(statement, node.node.node_id)?.proof ?? [],
      rows.slice(0, BLOCK),
      0,
      node.subtree.blocks,
    );
    if (!first || !second) throw new Error("page too short");
    const root = fromHex(statement.merkle_root) ?? EMPTY_ROOT;
    const steps = (proof: string[]) => proof.map((p) => fromHex(p) ?? EMPTY_ROOT);
    expect(verifyMerkleProof(fromHex(second.leaf) ?? EMPTY_ROOT, steps(first.proof), root)).toBe(false);
    const tampered = first.proof.map((p, i) => (i === 1 ? `0x${"11".repeat(32)}` : p));
    expect(verifyMerkleProof(fromHex(first.leaf) ?? EMPTY_ROOT, steps(tampered), root)).toBe(false);
  });

  it("has no top proof for a node not in the statement, and an empty page past the end", () => {
    expect(topProof(statement, "z".repeat(43))).toBeNull();
    expect(pageLeaves([], [], 9, [])).toEqual([]);
  });
});
