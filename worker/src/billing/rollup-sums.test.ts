import { describe, expect, it } from "vitest";
import type { UsageEntry } from "./records.js";
import { rollupBatch } from "./rollup-sums.js";

const HOUR = 3_600_000;
const BASE = Date.UTC(2026, 0, 5, 10);

function row(id: string, over: Partial<UsageEntry>): UsageEntry {
  return {
    request_id: id,
    created: BASE,
    key_id: "k1",
    node_id: "n1",
    model: "m1",
    prompt_tokens: 10,
    completion_tokens: 5,
    total_tokens: 15,
    cost: 100,
    node_amount: 95,
    billable: true,
    estimated: false,
    receipt_status: "ok",
    latency_ms: 1,
    status: 200,
    streamed: false,
    receipt: null,
    slice_id: null,
    ...over,
  };
}

describe("rollupBatch", () => {
  it("sums by hour and key, model or node separately, charging only billable rows", () => {
    const batch = rollupBatch([
      row("a", {}),
      row("b", { created: BASE + HOUR - 1, key_id: "k2", billable: false, estimated: true }),
      row("c", { created: BASE + HOUR, node_id: "n2" }),
    ]);
    // requests, prompt, completion, total, cost, node_amount, billable, estimated
    expect(batch.key).toEqual([
      { hour: BASE, group: "k1", sums: ["1", "10", "5", "15", "100", "95", "1", "0"] },
      { hour: BASE, group: "k2", sums: ["1", "10", "5", "15", "0", "0", "0", "1"] },
      { hour: BASE + HOUR, group: "k1", sums: ["1", "10", "5", "15", "100", "95", "1", "0"] },
    ]);
    expect(batch.model).toEqual([
      { hour: BASE, group: "m1", sums: ["2", "20", "10", "30", "100", "95", "1", "1"] },
      { hour: BASE + HOUR, group: "m1", sums: ["1", "10", "5", "15", "100", "95", "1", "0"] },
    ]);
    expect(batch.node.map((r) => [r.hour, r.group])).toEqual([
      [BASE, "n1"],
      [BASE + HOUR, "n2"],
    ]);
  });

  it("keeps sums past 2^53 exact", () => {
    const big = Number.MAX_SAFE_INTEGER;
    const batch = rollupBatch([row("a", { completion_tokens: big }), row("b", { completion_tokens: big })]);
    expect(batch.key[0]?.sums[2]).toBe((2n * BigInt(big)).toString());
  });
});
