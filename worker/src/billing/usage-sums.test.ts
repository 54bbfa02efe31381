import { describe, expect, it } from "vitest";
import { mergeGroups, totalOf, ZERO_SUMS, type UsageGroup } from "./usage-sums.js";

const g = (group: string, n: number): UsageGroup => ({
  group, requests: n, prompt_tokens: 10 * n, completion_tokens: 5 * n, total_tokens: 15 * n, cost: 1_000_003 * n, node_amount: 900_001 * n,
  billable_requests: n - 1, estimated_requests: 1,
});

describe("merging usage groups", () => {
  it("sums groups of the same name exactly and sorts them by name", () => {
    const merged = mergeGroups([[g("b", 2), g("a", 1)], [g("b", 3)], []]);
    expect(merged.map((m) => m.group)).toEqual(["a", "b"]);
    expect(merged[1]).toEqual({ ...g("b", 5), billable_requests: 3, estimated_requests: 2 });
  });

  it("stays exact for sums of large integers, and throws rather than round one a double can't hold", () => {
    expect(mergeGroups([[{ ...g("m", 1), cost: 2 ** 52 + 1 }], [{ ...g("m", 1), cost: 2 ** 52 - 2 }]])[0]?.cost).toBe(Number.MAX_SAFE_INTEGER);
    // 2^53 - 1 + 2 is 2^53 + 1, which a double rounds to 2^53.
    const top = { ...g("m", 1), total_tokens: Number.MAX_SAFE_INTEGER };
    expect(() => mergeGroups([[top], [{ ...g("m", 1), total_tokens: 2 }]])).toThrow(/total_tokens passes 2\^53/);
    expect(() => totalOf([top, { ...g("n", 1), total_tokens: 2 }])).toThrow(RangeError);
  });

  it("orders days chronologically", () => {
    expect(mergeGroups([[g("2026-04-10", 1), g("2026-03-31", 1)]]).map((m) => m.group)).toEqual(["2026-03-31", "2026-04-10"]);
  });

  it("totals groups", () => {
    expect(totalOf([])).toEqual(ZERO_SUMS);
    expect(totalOf([g("a", 1), g("b", 2)])).toMatchObject({ requests: 3, cost: 3_000_009, estimated_requests: 2 });
  });
});
