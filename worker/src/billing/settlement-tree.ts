// The top of a settlement's tree: one leaf per node (its subtree root), and the proofs that join a receipt's subtree
// proof to it. A receipt's full proof folds with one verifyMerkleProof() from its leaf to the statement's merkle_root.
import {
  fromHex,
  MerkleTree,
  toHex,
  type SettlementLeaf,
  type SettlementNode,
  type SettlementStatement,
  type UnsignedStatement,
} from "@meshgate/schemas";
import { bigSum, safeNumber } from "../lib/exact-sum.js";
import { blockProofs } from "./node-subtree.js";

export interface StatementInput {
  id: string;
  from: number;
  to: number;
  created: number;
  keyId: string;
  /** Every node of the period, from every shard, in any order. */
  nodes: readonly SettlementNode[];
}

/** A settled receipt as its shard returns it for a page of proofs. */
export interface LeafRow {
  receipt: string;
  leaf: string;
  amount: number;
}

/** A node of a statement, and the proof of its subtree root up to merkle_root (the same for every page). */
export interface TopProof {
  node: SettlementNode;
  proof: Uint8Array[];
}

function rootBytes(node: SettlementNode): Uint8Array {
  const root = fromHex(node.root);
  if (!root) throw new Error(`node ${node.node_id} has no valid root`);
  return root;
}

/** Exact; each shard's close stays within 2^53 - 1 over the shard count (shardBudget): the total is a safe integer. */
function total(nodes: readonly SettlementNode[], field: "receipts" | "amount"): number {
  return safeNumber(bigSum(nodes.map((node) => node[field])), `the period's ${field}`);
}

export function assembleStatement(input: StatementInput): UnsignedStatement {
  const nodes = [...input.nodes].sort((a, b) => (a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0));
  return {
    object: "settlement",
    id: input.id,
    from: input.from,
    to: input.to,
    created: input.created,
    receipts: total(nodes, "receipts"),
    amount: total(nodes, "amount"),
    // The empty tree's root (all zeros) when no node earned anything.
    merkle_root: toHex(new MerkleTree(nodes.map(rootBytes)).root),
    nodes,
    key_id: input.keyId,
  };
}

/** The node and its proof up to merkle_root, found and built once per request; null when the node is not in it. */
export function topProof(statement: Pick<SettlementStatement, "nodes">, nodeId: string): TopProof | null {
  const node = statement.nodes.find((n) => n.node_id === nodeId);
  const proof = node ? new MerkleTree(statement.nodes.map(rootBytes)).proof(rootBytes(node)) : null;
  return node && proof ? { node, proof } : null;
}

/** Every leaf of one page (block `block` of the node's subtree), each with its proof up to merkle_root. */
export function pageLeaves(
  top: readonly Uint8Array[],
  rows: readonly LeafRow[],
  block: number,
  blockRoots: readonly string[],
): SettlementLeaf[] {
  if (rows.length === 0) return [];
  const inner = blockProofs(
    rows.map((r) => r.leaf),
    block,
    blockRoots,
  );
  return rows.map((row, i) => {
    const proof = inner[i];
    if (!proof) throw new Error(`leaf ${row.leaf} is missing from its block`);
    return { receipt: row.receipt, leaf: row.leaf, amount: row.amount, proof: [...proof, ...top].map(toHex) };
  });
}
