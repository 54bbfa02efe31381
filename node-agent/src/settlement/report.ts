// The human report `verify-settlement` prints, for one statement or (--all) for every statement since a time.
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
  lines.push(
    errors === 0
      ? `MATCHED: ${count(receipts, "receipt")}, amount owed ${owed} micro-units.`
      : `NOT MATCHED: ${count(errors, "difference")}.`,
  );
  return `${lines.join("\n")}\n`;
}

/** One statement checked by `--all`. */
export interface StatementReport {
  statement: SettlementStatement;
  receipts: number;
  findings: Findings;
}

export interface AllReportInput {
  nodeId: string;
  /** ms since the epoch. */
  since: number;
  statements: readonly StatementReport[];
  /** What comparing the log with every statement found. */
  coverage: Findings;
}

/** `--all`: each statement with what its own check found, then the log against all of them. */
export function formatAllReport({ nodeId, since, statements, coverage }: AllReportInput): string {
  const lines = [`Settlements ending after ${iso(since)}: ${statements.length}`];
  for (const { statement, receipts, findings } of statements) {
    const owed = statement.nodes.find((n) => n.node_id === nodeId)?.amount ?? 0;
    lines.push(
      `Settlement ${statement.id}: ${iso(statement.from)} to ${iso(statement.to)}: ${count(receipts, "receipt")}, ${owed} micro-units stated`,
    );
    for (const f of findings.list) lines.push(`  ${f.severity}: ${f.message}`);
  }
  lines.push(`Receipt log of node ${nodeId} since ${iso(since)}, against every settlement above:`);
  for (const f of coverage.list) lines.push(`  ${f.severity}: ${f.message}`);
  const errors = coverage.errors + statements.reduce((n, s) => n + s.findings.errors, 0);
  const receipts = statements.reduce((n, s) => n + s.receipts, 0);
  // Summed exactly: many statements' amounts can pass 2^53 together.
  const owed = statements.reduce(
    (n, s) => n + BigInt(s.statement.nodes.find((e) => e.node_id === nodeId)?.amount ?? 0),
    0n,
  );
  lines.push(
    errors === 0
      ? `MATCHED: ${count(receipts, "receipt")} in ${count(statements.length, "settlement")}, amount owed ${owed} micro-units.`
      : `NOT MATCHED: ${count(errors, "difference")}.`,
  );
  return `${lines.join("\n")}\n`;
}
