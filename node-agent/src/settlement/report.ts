// The human report `verify-settlement` prints.
import type { SettlementStatement } from "@meshgate/schemas";
import { count, iso, type Findings } from "./findings.js";

export interface ReportInput {
  statement: SettlementStatement;
  nodeId: string;
  /** Receipts of this node in the settlement. */
  receipts: number;
  findings: Findings;
}

export function formatReport({ statement, nodeId, receipts, findings }: ReportInput): string {
  const owed = statement.nodes.find((n) => n.node_id === nodeId)?.amount ?? 0;
  const lines = [
    `Settlement ${statement.id}: ${iso(statement.from)} to ${iso(statement.to)}, closed ${iso(statement.created)}, signed by gateway key ${statement.key_id}`,
    `Node ${nodeId}: ${count(receipts, "receipt")}, ${owed} micro-units stated`,
  ];
  for (const f of findings.list) lines.push(`  ${f.severity}: ${f.message}`);
  const errors = findings.errors;
  lines.push(errors === 0 ? `MATCHED: ${count(receipts, "receipt")}, amount owed ${owed} micro-units.` : `NOT MATCHED: ${count(errors, "difference")}.`);
  return `${lines.join("\n")}\n`;
}
