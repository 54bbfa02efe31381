// Checks this node's leaves in a settlement: each is a receipt of this node, hashed and proven into the statement's
// Merkle root, owed what its tokens and price say; and together they add up to exactly the node's entry.
import {
  decodeReceipt,
  fromHex,
  merkleRoot,
  nodeAmount,
  receiptLeaf,
  toHex,
  verifyMerkleProof,
  webCryptoVerify,
  type SettlementLeaf,
  type SettlementNode,
  type SettlementProof,
  type SettlementStatement,
} from "@meshgate/schemas";
import type { ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { count, sample, type Findings } from "./findings.js";

/** A leaf whose receipt decoded, for comparing with the node's own log. */
export interface SettledReceipt {
  requestId: string;
  created: number;
  /** The receipt's canonical bytes. */
  bytes: Uint8Array;
}

export interface NodeLeavesInput {
  statement: SettlementStatement;
  /** Null when the gateway says the node has no leaves in the statement. */
  proof: SettlementProof | null;
  nodeId: string;
  /** The node's current public key, base64url (earlier keys are not kept). */
  publicKey: string;
  /** The node's own receipt log: a leaf the current key did not sign must be in it (signed before a key rotation). */
  log: ReceiptLogContents;
}

/** What the leaves add up to, and who is worth a note. */
interface Tally {
  settled: SettledReceipt[];
  prompt: number;
  completion: number;
  amount: number;
  /** Leaves whose signature the current key does not verify. */
  otherKey: SettledReceipt[];
  carried: string[];
}

const sameNode = (a: SettlementNode, b: SettlementNode): boolean =>
  a.node_id === b.node_id &&
  a.receipts === b.receipts &&
  a.prompt_tokens === b.prompt_tokens &&
  a.completion_tokens === b.completion_tokens &&
  a.amount === b.amount &&
  a.root === b.root;

function checkProofHeader(
  input: NodeLeavesInput,
  proof: SettlementProof,
  entry: SettlementNode | undefined,
  findings: Findings,
): void {
  const { statement, nodeId } = input;
  if (proof.settlement_id !== statement.id)
    findings.error(`the proof is for settlement ${proof.settlement_id}, not ${statement.id}`);
  if (proof.merkle_root !== statement.merkle_root)
    findings.error(`the proof's Merkle root ${proof.merkle_root} is not the statement's ${statement.merkle_root}`);
  if (proof.node.node_id !== nodeId) findings.error(`the proof is for node ${proof.node.node_id}, not this node`);
  if (!entry) findings.error("the proof lists receipts of this node, but the statement does not name it");
  else if (!sameNode(entry, proof.node)) findings.error("the proof's totals for this node differ from the statement's");
}

async function checkLeaf(
  leaf: SettlementLeaf,
  index: number,
  input: NodeLeavesInput,
  tally: Tally,
  findings: Findings,
): Promise<void> {
  const signed = decodeReceipt(leaf.receipt);
  if (!signed) return findings.error(`leaf ${index} is not a well-formed receipt`);
  const { receipt: r, bytes } = signed;
  const name = `the receipt for request ${r.request_id}`;
  const owed = nodeAmount(r, r.price);
  const settled = { requestId: r.request_id, created: r.created, bytes };
  tally.settled.push(settled);
  tally.prompt += r.prompt_tokens;
  tally.completion += r.completion_tokens;
  tally.amount += owed;
  if (r.node_id !== input.nodeId) findings.error(`${name} is another node's (${r.node_id})`);
  if (!(await webCryptoVerify(input.publicKey, signed.signature, bytes))) tally.otherKey.push(settled);
  const hash = receiptLeaf(bytes);
  if (leaf.leaf !== toHex(hash))
    findings.error(`bad proof: ${name} hashes to ${toHex(hash)}, not its leaf ${leaf.leaf}`);
  const path = leaf.proof.map((p) => fromHex(p)).filter((p): p is Uint8Array => p !== null);
  const root = fromHex(input.statement.merkle_root);
  if (!root || !verifyMerkleProof(hash, path, root))
    findings.error(`bad proof: ${name} does not prove into the Merkle root`);
  if (leaf.amount !== owed)
    findings.error(`wrong amount for request ${r.request_id}: expected ${owed} micro-units, stated ${leaf.amount}`);
  if (r.created >= input.statement.to) findings.error(`${name} was signed after the period ended`);
  else if (r.created < input.statement.from) tally.carried.push(r.request_id);
}

/**
 * Only the current key is kept, so a leaf it does not verify was either signed by an earlier key of this node (then
 * the node logged those very bytes) or not by this node at all: a gateway must not be able to add receipts of its own.
 */
function checkOtherKeys(otherKey: readonly SettledReceipt[], log: ReceiptLogContents, findings: Findings): void {
  if (otherKey.length === 0) return;
  const logged = new Set(
    log.entries.flatMap((e) => {
      const signed = decodeReceipt(e.receipt);
      return signed ? [toHex(signed.bytes)] : [];
    }),
  );
  const earlier = otherKey.filter((s) => logged.has(toHex(s.bytes))).map((s) => s.requestId);
  const unsigned = otherKey.filter((s) => !logged.has(toHex(s.bytes))).map((s) => s.requestId);
  if (unsigned.length > 0)
    findings.error(`${count(unsigned.length, "receipt")} not signed by this node: ${sample(unsigned)}`);
  if (earlier.length > 0)
    findings.warning(`${count(earlier.length, "receipt")} signed by an earlier key of this node: ${sample(earlier)}`);
}

function checkTotals(node: SettlementNode, tally: Tally, leaves: number, findings: Findings): void {
  const expect = (what: string, stated: number, actual: number): void => {
    if (stated !== actual)
      findings.error(`wrong ${what}: the receipts add up to ${actual}, the statement says ${stated}`);
  };
  expect("receipt count", node.receipts, leaves);
  expect("prompt tokens", node.prompt_tokens, tally.prompt);
  expect("completion tokens", node.completion_tokens, tally.completion);
  expect("amount (micro-units)", node.amount, tally.amount);
  const subtree = toHex(merkleRoot(tally.settled.map((s) => receiptLeaf(s.bytes))));
  if (subtree !== node.root)
    findings.error(`bad proof: this node's receipts make the subtree root ${subtree}, not the stated ${node.root}`);
}

export async function checkNodeLeaves(input: NodeLeavesInput, findings: Findings): Promise<SettledReceipt[]> {
  const { statement, proof, nodeId } = input;
  const entry = statement.nodes.find((n) => n.node_id === nodeId);
  if (!proof) {
    if (entry)
      findings.error(`the statement owes this node ${entry.amount} micro-units, but the gateway has no proof for it`);
    return [];
  }
  checkProofHeader(input, proof, entry, findings);
  const tally: Tally = { settled: [], prompt: 0, completion: 0, amount: 0, otherKey: [], carried: [] };
  for (const [index, leaf] of proof.leaves.entries()) await checkLeaf(leaf, index, input, tally, findings);
  const seen = new Set<string>();
  const twice: string[] = [];
  for (const { requestId } of tally.settled) {
    if (seen.has(requestId)) twice.push(requestId);
    seen.add(requestId);
  }
  if (twice.length > 0) findings.error(`receipts counted twice: ${sample(twice)}`);
  checkOtherKeys(tally.otherKey, input.log, findings);
  if (tally.carried.length > 0)
    findings.info(
      `${count(tally.carried.length, "receipt")} carried over from an earlier period: ${sample(tally.carried)}`,
    );
  checkTotals(entry ?? proof.node, tally, proof.leaves.length, findings);
  return tally.settled;
}
