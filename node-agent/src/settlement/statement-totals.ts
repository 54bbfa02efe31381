// Checks a statement against itself: its totals are the sum of its nodes', and its Merkle root is the top tree over
// the nodes' subtree roots (see schemas/src/billing/statement.ts), so no node's share can hide from the root.
import { fromHex, merkleRoot, toHex, type SettlementStatement } from "@meshgate/schemas";
import type { Findings } from "./findings.js";

export function checkStatementTotals(statement: SettlementStatement, findings: Findings): void {
  const sum = (pick: (n: SettlementStatement["nodes"][number]) => number): number =>
    statement.nodes.reduce((total, n) => total + pick(n), 0);
  if (sum((n) => n.amount) !== statement.amount)
    findings.error(
      `the statement's amount ${statement.amount} is not the sum of its nodes' amounts (${sum((n) => n.amount)})`,
    );
  if (sum((n) => n.receipts) !== statement.receipts)
    findings.error(
      `the statement's receipt count ${statement.receipts} is not the sum of its nodes' counts (${sum((n) => n.receipts)})`,
    );
  const roots = statement.nodes.map((n) => fromHex(n.root)).filter((r): r is Uint8Array => r !== null);
  const root = toHex(merkleRoot(roots));
  if (root !== statement.merkle_root)
    findings.error(
      `the statement's Merkle root ${statement.merkle_root} is not the root over its nodes' subtrees (${root})`,
    );
  if (statement.from >= statement.to)
    findings.error(`the statement's period is empty (from ${statement.from}, to ${statement.to})`);
}
