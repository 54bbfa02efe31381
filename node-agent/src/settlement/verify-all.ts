// `verify-settlement --all`: checks every statement whose period ends after `since` on its own, then that every
// receipt the node logged since then is in one of them (coverage.ts). Read failures are GatewayFetchErrors.
import type { NodeIdentity } from "../identity/node-identity.js";
import type { ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { checkStatement } from "./check-statement.js";
import { checkCoverage, logStart, type StatementReceipts } from "./coverage.js";
import { fetchGatewayKeys, fetchStatementProof } from "./fetch-settlement.js";
import { Findings } from "./findings.js";
import { fetchStatementsSince } from "./list-settlements.js";
import { formatAllReport, type StatementReport } from "./report.js";

export interface VerifyAllInput {
  gatewayUrl: string;
  identity: NodeIdentity;
  log: ReceiptLogContents;
  /** ms since the epoch; null: the first receipt in the log. */
  since: number | null;
}

export interface Verdict {
  report: string;
  errors: number;
}

export async function verifyAll({ gatewayUrl, identity, log, since: asked }: VerifyAllInput): Promise<Verdict> {
  const since = asked ?? logStart(identity.nodeId, log);
  const keys = await fetchGatewayKeys(gatewayUrl);
  // Oldest first, so the report reads in time order.
  const statements = (await fetchStatementsSince(gatewayUrl, since)).reverse();
  const reports: StatementReport[] = [];
  const settled: StatementReceipts[] = [];
  for (const statement of statements) {
    const findings = new Findings();
    const proof = await fetchStatementProof(gatewayUrl, statement, identity.nodeId);
    const receipts = await checkStatement(
      { statement, proof, keys, nodeId: identity.nodeId, publicKey: identity.publicKey, log },
      findings,
    );
    reports.push({ statement, receipts: receipts.length, findings });
    settled.push({ id: statement.id, to: statement.to, settled: receipts });
  }
  const coverage = new Findings();
  checkCoverage({ nodeId: identity.nodeId, since, statements: settled, log }, coverage);
  const errors = coverage.errors + reports.reduce((n, r) => n + r.findings.errors, 0);
  return { report: formatAllReport({ nodeId: identity.nodeId, since, statements: reports, coverage }), errors };
}
