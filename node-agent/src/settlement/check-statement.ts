// Checks one statement on its own, as both modes of `verify-settlement` do: the gateway's signature, its totals and
// Merkle root, and this node's leaves (each this node's receipt, proven into the root, owed what it says, adding up
// to the node's entry). Returns this node's settled receipts, for comparing with its log.
import type { GatewayKey, SettlementProof, SettlementStatement } from "@meshgate/schemas";
import type { ReceiptLogContents } from "../receipts/read-receipt-log.js";
import type { Findings } from "./findings.js";
import { checkNodeLeaves, type SettledReceipt } from "./node-leaves.js";
import { statementSignatureProblem } from "./statement-signature.js";
import { checkStatementTotals } from "./statement-totals.js";

export interface StatementCheckInput {
  statement: SettlementStatement;
  proof: SettlementProof | null;
  keys: readonly GatewayKey[];
  nodeId: string;
  publicKey: string;
  log: ReceiptLogContents;
}

export async function checkStatement(input: StatementCheckInput, findings: Findings): Promise<SettledReceipt[]> {
  const { statement, proof, keys, nodeId, publicKey, log } = input;
  const signature = statementSignatureProblem(statement, keys);
  if (signature) findings.error(`bad signature: ${signature}`);
  checkStatementTotals(statement, findings);
  return checkNodeLeaves({ statement, proof, nodeId, publicKey, log }, findings);
}
