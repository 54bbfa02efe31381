import { describe, expect, it } from "vitest";
import { addSpent, checkUsageEntry, SPENT_CEILING } from "./usage-entry-check.js";
import type { UsageEntry } from "./records.js";

const entry: UsageEntry = {
  request_id: "req_1",
  created: 1_700_000_000_000,
  key_id: "key_a",
  node_id: "node_1",
  model: "m",
  prompt_tokens: 3,
  completion_tokens: 4,
  total_tokens: 7,
  cost: 9,
  node_amount: 8,
  billable: true,
  estimated: false,
  receipt_status: "ok",
  latency_ms: 12.6,
  status: 200,
  streamed: true,
  receipt: null,
  slice_id: null,
};

describe("checkUsageEntry", () => {
  it("accepts whole, non-negative, exact figures up to 2^53 - 1, and a fractional latency", () => {
    expect(() => checkUsageEntry(entry)).not.toThrow();
    expect(() =>
      checkUsageEntry({
        ...entry,
        completion_tokens: Number.MAX_SAFE_INTEGER,
        total_tokens: Number.MAX_SAFE_INTEGER,
        cost: 0,
      }),
    ).not.toThrow();
  });

  it("refuses, naming the entry and field, any figure that is negative, fractional, inexact or not a number", () => {
    const bad: [keyof UsageEntry, number][] = [
      ["completion_tokens", 2 ** 53],
      ["total_tokens", Number.MAX_SAFE_INTEGER + 2],
      ["prompt_tokens", -1],
      ["cost", 1.5],
      ["node_amount", Number.NaN],
      ["created", Number.POSITIVE_INFINITY],
      ["status", -200],
      ["latency_ms", -1],
      ["latency_ms", 2 ** 60],
      ["latency_ms", Number.NaN],
    ];
    for (const [field, value] of bad)
      expect(() => checkUsageEntry({ ...entry, [field]: value }), `${field} ${value}`).toThrow(
        new RegExp(`^usage entry req_1: ${field} `),
      );
  });
});

describe("addSpent", () => {
  it("adds exactly past 2^53, where a double would round", () => {
    expect(addSpent(BigInt(Number.MAX_SAFE_INTEGER), 2)).toBe(2n ** 53n + 1n);
    expect(addSpent(0n, 0)).toBe(0n);
  });

  it("stops at int64's largest value instead of overflowing", () => {
    expect(addSpent(SPENT_CEILING - 1n, Number.MAX_SAFE_INTEGER)).toBe(SPENT_CEILING);
    expect(addSpent(SPENT_CEILING, 1)).toBe(SPENT_CEILING);
  });
});
