// `verify-settlement --all`: every receipt the node logged since a time must be in some statement, exactly once. A
// statement is checked on its own elsewhere (signature, proofs, totals); this looks across all of them, so neither a
// gap between periods nor a period's last minute can hide a receipt. A close pays every receipt from before its end
// that no close has paid, so a receipt is late at most into the next statement:
// - missing from every statement and signed more than LATE_RECEIPT_MS before the newest one's end: a difference;
// - signed in the newest statement's last minute: a warning (it may reach the gateway after that close);
// - signed after the newest statement's end: not settled yet.
import { decodeReceipt, toHex } from "@meshgate/schemas";
import type { ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { LATE_RECEIPT_MS } from "./compare-log.js";
import { count, iso, sample, type Findings } from "./findings.js";
import type { SettledReceipt } from "./node-leaves.js";

/** One statement's receipts of this node, as its own check found them. */
export interface StatementReceipts {
  id: string;
  to: number;
  settled: readonly SettledReceipt[];
}

export interface CoverageInput {
  nodeId: string;
  /** ms since the epoch: receipts signed at or after it are checked. */
  since: number;
  statements: readonly StatementReceipts[];
  log: ReceiptLogContents;
}

interface Logged {
  created: number;
  amount: number;
  /** 0x-hex canonical bytes of each receipt signed for the request (a request answered twice has two). */
  bytes: string[];
}

/** This node's logged receipts signed at or after `since`, by request; and how many log lines were someone else's. */
function loggedSince(input: CoverageInput): {
  byRequest: Map<string, Logged>;
  allBytes: Set<string>;
  otherNodes: number;
} {
  const byRequest = new Map<string, Logged>();
  const allBytes = new Set<string>();
  let otherNodes = 0;
  for (const entry of input.log.entries) {
    const signed = decodeReceipt(entry.receipt);
    if (!signed || signed.receipt.node_id !== input.nodeId) {
      otherNodes += 1;
      continue;
    }
    const bytes = toHex(signed.bytes);
    allBytes.add(bytes);
    const { request_id: id, created } = signed.receipt;
    if (created < input.since) continue;
    const request = byRequest.get(id) ?? { created, amount: entry.amount, bytes: [] };
    request.bytes.push(bytes);
    byRequest.set(id, request);
  }
  return { byRequest, allBytes, otherNodes };
}

/**
 * Statements that settle each request id (more than one is a receipt paid twice), and every settled receipt's bytes.
 */
function settledIndex(statements: readonly StatementReceipts[]): {
  byRequest: Map<string, Set<string>>;
  bytes: Set<string>;
} {
  const byRequest = new Map<string, Set<string>>();
  const bytes = new Set<string>();
  for (const statement of statements) {
    for (const s of statement.settled) {
      byRequest.set(s.requestId, (byRequest.get(s.requestId) ?? new Set()).add(statement.id));
      bytes.add(toHex(s.bytes));
    }
  }
  return { byRequest, bytes };
}

function checkLogged(input: CoverageInput, byRequest: Map<string, Logged>, findings: Findings): void {
  const settled = settledIndex(input.statements);
  const newestEnd = input.statements.reduce((end, s) => Math.max(end, s.to), Number.NEGATIVE_INFINITY);
  const [lastMinute, notYet]: [string[], string[]] = [[], []];
  for (const [id, request] of byRequest) {
    if (request.bytes.some((b) => settled.bytes.has(b))) continue;
    if (settled.byRequest.has(id))
      findings.error(`the settled receipt for request ${id} is not the one this node signed`);
    else if (request.created >= newestEnd) notYet.push(id);
    else if (request.created >= newestEnd - LATE_RECEIPT_MS) lastMinute.push(id);
    else
      findings.error(
        `missing receipt: request ${id} (signed ${iso(request.created)}, ${request.amount} micro-units) is in no settlement`,
      );
  }
  for (const [id, statements] of settled.byRequest) {
    if (statements.size > 1)
      findings.error(`request ${id} is settled in ${statements.size} statements: ${[...statements].join(", ")}`);
  }
  if (lastMinute.length > 0) {
    findings.warning(
      `${count(lastMinute.length, "receipt")} signed in the newest settlement's last minute not in it (may be carried over into the next settlement): ${sample(lastMinute)}`,
    );
  }
  if (notYet.length > 0)
    findings.info(
      `${count(notYet.length, "receipt")} signed after the newest settlement ended: not settled yet: ${sample(notYet)}`,
    );
}

export function checkCoverage(input: CoverageInput, findings: Findings): void {
  const { byRequest, allBytes, otherNodes } = loggedSince(input);
  checkLogged(input, byRequest, findings);
  const unlogged = input.statements
    .flatMap((s) => s.settled)
    .filter((s) => s.created >= input.since && !allBytes.has(toHex(s.bytes)));
  if (unlogged.length > 0) {
    findings.warning(
      `${count(unlogged.length, "receipt")} in the settlements not in the local log (was the log rotated?): ${sample(unlogged.map((s) => s.requestId))}`,
    );
  }
  if (input.log.unreadable > 0)
    findings.warning(`${count(input.log.unreadable, "line")} of the receipt log could not be read`);
  if (otherNodes > 0)
    findings.warning(`${count(otherNodes, "receipt")} in the log belong to another node or are malformed; ignored`);
}

/** Where `--all` starts by default: the first receipt of this node in the log (0 when it has none). */
export function logStart(nodeId: string, log: ReceiptLogContents): number {
  let first = Number.POSITIVE_INFINITY;
  for (const entry of log.entries) {
    const signed = decodeReceipt(entry.receipt);
    if (signed && signed.receipt.node_id === nodeId) first = Math.min(first, signed.receipt.created);
  }
  return Number.isFinite(first) ? first : 0;
}
