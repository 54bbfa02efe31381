import { describe, expect, it } from "vitest";
import { checkLedger, type LedgerRow, type Received } from "./ledger-check.js";

const usage = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
const prices = new Map([["n1", { prompt: 1_000_000, completion: 2_000_000 }]]);
const received: Received[] = [
  { requestId: "a", status: 200, nodeId: "n1", complete: true, usage },
  { requestId: "b", status: 200, nodeId: "n1", complete: false, usage: null },
  { requestId: "c", status: 502, nodeId: "none", complete: false, usage: null },
];
// 10 × 1 + 5 × 2 = 20 micro-units to the node; 10% fee → 22.
const rows: LedgerRow[] = [
  { request_id: "a", node_id: "n1", ...usage, cost: 22, billable: true },
  {
    request_id: "b",
    node_id: "n1",
    prompt_tokens: 10,
    completion_tokens: 2,
    total_tokens: 12,
    cost: 0,
    billable: false,
  },
];

describe("checkLedger", () => {
  it("passes when every answer is recorded once, billed exactly, and settled once", () => {
    const check = checkLedger(received, rows, prices, 1_000, { requestIds: ["a"], receipts: 1, amount: 20 });
    expect(check).toMatchObject({
      ok: true,
      answered: 2,
      rows: 2,
      clientTokens: 15,
      ledgerTokens: 15,
      expectedCost: 22,
      ledgerCost: 22,
      expectedNodeAmount: 20,
    });
  });

  it("finds a missing row, a duplicate, a row nobody received, and wrong tokens", () => {
    const bad = [rows[0]!, { ...rows[0]!, completion_tokens: 6, total_tokens: 16 }, { ...rows[1]!, request_id: "z" }];
    const check = checkLedger(received, bad, prices, 1_000, null);
    expect(check).toMatchObject({ ok: false, missing: ["b"], duplicates: ["a"], unexpected: ["z"] });
    expect(check.tokenMismatches).toContain("a");
  });

  it("finds a complete answer left unbilled and a cost that differs", () => {
    const check = checkLedger(received, [{ ...rows[0]!, billable: false, cost: 0 }, rows[1]!], prices, 1_000, null);
    expect(check).toMatchObject({ ok: false, unbilled: ["a"], expectedCost: 22, ledgerCost: 0 });
  });

  it("finds a receipt settled twice, one settled without a billable row, and totals that differ", () => {
    expect(
      checkLedger(received, rows, prices, 1_000, { requestIds: ["a", "a"], receipts: 2, amount: 40 }),
    ).toMatchObject({ ok: false, settledTwice: ["a"] });
    expect(
      checkLedger(received, rows, prices, 1_000, { requestIds: ["a", "b"], receipts: 2, amount: 20 }),
    ).toMatchObject({ ok: false, settledUnbilled: ["b"] });
    expect(checkLedger(received, rows, prices, 1_000, { requestIds: ["a"], receipts: 1, amount: 21 }).ok).toBe(false);
  });
});
