// Compares a settlement with the node's own receipt log: every receipt the node signed in the period must be in it,
// byte for byte. Leaves the log lacks are only a warning (the log may have been rotated or lost); the proofs and
// the arithmetic decide whether they are owed.
import { decodeReceipt, MIN_SETTLEMENT_PERIOD_MS, toHex } from "@meshgate/schemas";
import type { ReceiptLogContents } from "../receipts/read-receipt-log.js";
import { count, iso, sample, type Findings } from "./findings.js";
import type { SettledReceipt } from "./node-leaves.js";

/**
 * A receipt signed this close to the period's end may reach the gateway after the period was closed; it is then
 * settled in the next period (carried over), so its absence here is a warning, not a difference.
 */
export const LATE_RECEIPT_MS = 60_000;

export interface Period {
  from: number;
  to: number;
}

export function compareWithLog(
  period: Period,
  nodeId: string,
  settled: readonly SettledReceipt[],
  log: ReceiptLogContents,
  findings: Findings,
): void {
  // Its last minute, where a missing receipt is only a warning, would cover most of it (gateways refuse such periods).
  if (period.to - period.from < MIN_SETTLEMENT_PERIOD_MS) {
    findings.error(
      `the period lasts ${period.to - period.from} ms, less than the minimum ${MIN_SETTLEMENT_PERIOD_MS} ms: too short to check (use --all)`,
    );
  }
  const settledBytes = new Set(settled.map((s) => toHex(s.bytes)));
  const settledIds = new Set(settled.map((s) => s.requestId));
  const logged = new Set<string>();
  // A request the node answered twice (the gateway retried it here) is settled once: one of its receipts suffices.
  const byRequest = new Map<string, { created: number; amount: number; bytes: string[] }>();
  let otherNodes = 0;
  for (const entry of log.entries) {
    const signed = decodeReceipt(entry.receipt);
    if (!signed || signed.receipt.node_id !== nodeId) {
      otherNodes += 1;
      continue;
    }
    const bytes = toHex(signed.bytes);
    logged.add(bytes);
    const { request_id: id, created } = signed.receipt;
    if (created < period.from || created >= period.to) continue;
    const request = byRequest.get(id) ?? { created, amount: entry.amount, bytes: [] };
    request.bytes.push(bytes);
    byRequest.set(id, request);
  }
  const late: string[] = [];
  for (const [id, request] of byRequest) {
    if (request.bytes.some((b) => settledBytes.has(b))) continue;
    if (settledIds.has(id))
      findings.error(`the settlement's receipt for request ${id} is not the one this node signed`);
    else if (request.created >= period.to - LATE_RECEIPT_MS) late.push(id);
    else
      findings.error(`missing receipt: request ${id} (signed ${iso(request.created)}, ${request.amount} micro-units)`);
  }
  if (late.length > 0)
    findings.warning(
      `${count(late.length, "receipt")} signed in the period's last minute not in it (may be carried over into the next settlement): ${sample(late)}`,
    );
  const unlogged = settled.filter((s) => !logged.has(toHex(s.bytes))).map((s) => s.requestId);
  if (unlogged.length > 0)
    findings.warning(
      `${count(unlogged.length, "receipt")} in the settlement not in the local log (was the log rotated?): ${sample(unlogged)}`,
    );
  if (log.unreadable > 0) findings.warning(`${count(log.unreadable, "line")} of the receipt log could not be read`);
  if (otherNodes > 0)
    findings.warning(`${count(otherNodes, "receipt")} in the log belong to another node or are malformed; ignored`);
}
