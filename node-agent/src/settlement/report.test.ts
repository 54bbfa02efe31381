import { describe, expect, it } from "vitest";
import type { SettlementStatement } from "@meshgate/schemas";
import { Findings } from "./findings.js";
import { formatReport } from "./report.js";

const statement: SettlementStatement = {
  object: "settlement",
  id: "stl_1",
  from: 1_700_000_000_000,
  // The schemas allow times up to 2^53, beyond what Date can represent (±8.64e15 ms).
  to: Number.MAX_SAFE_INTEGER,
  created: Number.MAX_SAFE_INTEGER,
  receipts: 0,
  amount: 0,
  merkle_root: `0x${"00".repeat(32)}`,
  nodes: [],
  key_id: "gk_1",
  signature: "sig",
};

describe("formatReport", () => {
  it("prints ISO times, and the raw number for a time Date cannot represent", () => {
    const report = formatReport({ statement, nodeId: "node_1", receipts: 0, findings: new Findings() });
    expect(report).toContain(
      `Settlement stl_1: 2023-11-14T22:13:20.000Z to ${Number.MAX_SAFE_INTEGER}, closed ${Number.MAX_SAFE_INTEGER}, signed by gateway key gk_1`,
    );
    expect(report).toContain("MATCHED: 0 receipts, amount owed 0 micro-units.");
  });
});
