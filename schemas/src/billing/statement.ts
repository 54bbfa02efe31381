// Settlement statements: what the gateway owes each node for a closed period, committed to by a Merkle root over the
// period's billable receipts and signed by the gateway's Ed25519 key. Defined once, for the gateway that signs them and
// the node agent that verifies them.
//
// The tree: each node's receipts form a subtree (leaves = receiptLeaf(bytes)); the subtree roots are the leaves of
// the top tree, whose root is `merkle_root`. A receipt's proof is its subtree proof followed by its subtree root's
// proof, so it folds with one verifyMerkleProof() from the receipt's leaf to `merkle_root`.
import { z } from "zod";
import { NodeIdSchema } from "../heartbeat.js";
import { utf8 } from "../signing/bytes.js";

const SETTLEMENT_CONTEXT = "meshgate-settlement-v1";

/**
 * The shortest period a settlement may cover. A receipt signed in a period's last minute may arrive after the close
 * and be carried into the next one, so a node can only warn about such a receipt missing; a period much longer than
 * that minute keeps most of a period checkable, and the gateway refuses shorter ones.
 */
export const MIN_SETTLEMENT_PERIOD_MS = 60 * 60_000;
const HexHash = z.string().regex(/^0x[0-9a-f]{64}$/);

export const SettlementNodeSchema = z.object({
  node_id: NodeIdSchema,
  receipts: z.int().min(0),
  prompt_tokens: z.int().min(0),
  completion_tokens: z.int().min(0),
  /** Micro-units owed: the sum over its receipts of nodeAmount(receipt tokens, receipt price). */
  amount: z.int().min(0),
  /** Root of this node's subtree. */
  root: HexHash,
});
export type SettlementNode = z.infer<typeof SettlementNodeSchema>;

export const SettlementStatementSchema = z.object({
  object: z.literal("settlement"),
  id: z.string().min(1).max(64),
  /** The period, ms since the epoch: receipts with from ≤ created < to. */
  from: z.int().min(0),
  to: z.int().min(0),
  /** When the period was closed, ms since the epoch. */
  created: z.int().min(0),
  receipts: z.int().min(0),
  /** Micro-units owed to all nodes together. */
  amount: z.int().min(0),
  merkle_root: HexHash,
  /** Sorted by node id. */
  nodes: z.array(SettlementNodeSchema),
  /** The gateway key (RFC 7638 thumbprint, as listed in /.well-known/meshgate.json) that signed. */
  key_id: z.string().min(1),
  /** Ed25519 over settlementStatementBytes(), base64url. */
  signature: z.string().min(1),
});
export type SettlementStatement = z.infer<typeof SettlementStatementSchema>;
export type UnsignedStatement = Omit<SettlementStatement, "signature">;

/** The bytes the gateway signs: every field but the signature, in a fixed order, nodes sorted by id. */
export function settlementStatementBytes(s: UnsignedStatement): Uint8Array {
  const nodes = [...s.nodes]
    .sort((a, b) => (a.node_id < b.node_id ? -1 : a.node_id > b.node_id ? 1 : 0))
    .map((n) => [n.node_id, n.receipts, n.prompt_tokens, n.completion_tokens, n.amount, n.root]);
  return utf8(
    JSON.stringify([
      SETTLEMENT_CONTEXT,
      s.id,
      s.from,
      s.to,
      s.created,
      s.receipts,
      s.amount,
      s.merkle_root,
      nodes,
      s.key_id,
    ]),
  );
}

export const SettlementLeafSchema = z.object({
  /** The node's signed receipt, in its wire form (see encodeReceipt). */
  receipt: z.string(),
  /** receiptLeaf() of the receipt's bytes, 0x-hex. */
  leaf: HexHash,
  /** Sibling hashes from the leaf up to `merkle_root`. */
  proof: z.array(HexHash),
  /** What this receipt is owed, micro-units. */
  amount: z.int().min(0),
});
export type SettlementLeaf = z.infer<typeof SettlementLeafSchema>;

/**
 * GET /v1/settlements/{id}/proof?node=&page=: one node's leaves in a statement, each with its inclusion proof, a page
 * (of up to 1,024 leaves) at a time: follow `page` + 1 while `has_more`.
 */
export const SettlementProofSchema = z.object({
  object: z.literal("settlement.proof"),
  settlement_id: z.string(),
  merkle_root: HexHash,
  node: SettlementNodeSchema,
  leaves: z.array(SettlementLeafSchema),
  page: z.int().min(0),
  has_more: z.boolean(),
});
export type SettlementProof = z.infer<typeof SettlementProofSchema>;

export const SettlementListSchema = z.object({
  object: z.literal("list"),
  data: z.array(SettlementStatementSchema),
  has_more: z.boolean(),
});
