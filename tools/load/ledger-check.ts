// Compares what clients received with what the gateway's ledger and settlement say. Pure, so the comparison the load
// test is judged by is itself unit-tested.
import { clientCost, nodeAmount, type Price } from "@meshgate/schemas";

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One response a client received. */
export interface Received {
  requestId: string;
  status: number;
  /** The node that answered (x-meshgate-node). */
  nodeId: string;
  /** The answer arrived whole: a JSON body, or a stream through `[DONE]` without an error event. */
  complete: boolean;
  /** Usage the client was shown; null when the answer showed none. */
  usage: Usage | null;
}

/** A row of GET /v1/usage (a key's own view: what it was charged, not what the node is owed). */
export interface LedgerRow extends Usage {
  request_id: string;
  node_id: string;
  cost: number;
  billable: boolean;
}

export interface Settled {
  /** request ids of the leaves in the statement, over every node. */
  requestIds: string[];
  receipts: number;
  amount: number;
}

export interface LedgerCheck {
  answered: number;
  rows: number;
  missing: string[];
  duplicates: string[];
  unexpected: string[];
  /** Complete answers whose row's tokens differ from what the client was shown. */
  tokenMismatches: string[];
  /** Complete answers with usage that were not billed. */
  unbilled: string[];
  /** Tokens and cost: what clients were shown (complete answers) vs the ledger's billable rows. */
  clientTokens: number;
  ledgerTokens: number;
  expectedCost: number;
  ledgerCost: number;
  /** What the nodes are owed for the answers clients received whole, at each node's price. */
  expectedNodeAmount: number;
  /** Request ids settled more than once, or settled without a billable row. */
  settledTwice: string[];
  settledUnbilled: string[];
  settlementAmount: number | null;
  settlementReceipts: number | null;
  ok: boolean;
}

function duplicatesOf(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const id of ids) (seen.has(id) ? dup : seen).add(id);
  return [...dup];
}

export function checkLedger(
  received: readonly Received[],
  rows: readonly LedgerRow[],
  prices: ReadonlyMap<string, Price>,
  feeBps: number,
  settled: Settled | null,
): LedgerCheck {
  const answered = received.filter((r) => r.status === 200);
  const rowsById = new Map(rows.map((r) => [r.request_id, r]));
  const answeredIds = new Set(answered.map((r) => r.requestId));
  const billed = answered.filter((r) => r.complete && r.usage !== null);
  const tokenMismatches: string[] = [];
  const unbilled: string[] = [];
  let expectedCost = 0;
  let expectedNodeAmount = 0;
  for (const r of billed) {
    const row = rowsById.get(r.requestId);
    const usage = r.usage as Usage;
    if (!row) continue;
    if (
      row.prompt_tokens !== usage.prompt_tokens ||
      row.completion_tokens !== usage.completion_tokens ||
      row.total_tokens !== usage.total_tokens
    )
      tokenMismatches.push(r.requestId);
    if (!row.billable) unbilled.push(r.requestId);
    const amount = nodeAmount(usage, prices.get(r.nodeId) ?? { prompt: 0, completion: 0 });
    expectedNodeAmount += amount;
    expectedCost += clientCost(amount, feeBps);
  }
  const billableRows = rows.filter((r) => r.billable);
  const billableIds = new Set(billableRows.map((r) => r.request_id));
  const check: Omit<LedgerCheck, "ok"> = {
    answered: answered.length,
    rows: rows.length,
    missing: answered.filter((r) => !rowsById.has(r.requestId)).map((r) => r.requestId),
    duplicates: duplicatesOf(rows.map((r) => r.request_id)),
    unexpected: rows.filter((r) => !answeredIds.has(r.request_id)).map((r) => r.request_id),
    tokenMismatches,
    unbilled,
    clientTokens: billed.reduce((n, r) => n + (r.usage?.total_tokens ?? 0), 0),
    ledgerTokens: billableRows.reduce((n, r) => n + r.total_tokens, 0),
    expectedCost,
    ledgerCost: billableRows.reduce((n, r) => n + r.cost, 0),
    expectedNodeAmount,
    settledTwice: settled ? duplicatesOf(settled.requestIds) : [],
    settledUnbilled: settled ? settled.requestIds.filter((id) => !billableIds.has(id)) : [],
    settlementAmount: settled?.amount ?? null,
    settlementReceipts: settled?.receipts ?? null,
  };
  const ok =
    check.missing.length === 0 &&
    check.duplicates.length === 0 &&
    check.unexpected.length === 0 &&
    check.tokenMismatches.length === 0 &&
    check.unbilled.length === 0 &&
    check.clientTokens === check.ledgerTokens &&
    check.expectedCost === check.ledgerCost &&
    check.settledTwice.length === 0 &&
    check.settledUnbilled.length === 0 &&
    (settled === null || (settled.amount === check.expectedNodeAmount && settled.receipts === billableRows.length));
  return { ...check, ok };
}
