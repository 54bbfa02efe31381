import { describe, expect, it } from "vitest";
import { mergeGroups, totalOf, ZERO_SUMS, type UsageGroup } from "./usage-sums.js";

const g = (group: string, n: number): UsageGroup => {
  const b = BigInt(n);
  return {
    group,
    requests: b,
    prompt_tokens: 10n * b,
    completion_tokens: 5n * b,
    total_tokens: 15n * b,
    cost: 1_000_003n * b,
    node_amount: 900_001n * b,
    billable_requests: b - 1n,
    estimated_requests: 1n,
  };
};

describe("merging usage groups", () => {
  it("sums groups of the same name exactly and sorts them by name", () => {
    const merged = mergeGroups([[g("b", 2), g("a", 1)], [g("b", 3)], []]);
    expect(merged.map((m) => m.group)).toEqual(["a", "b"]);
    expect(merged[1]).toEqual({ ...g("b", 5), billable_requests: 3n, estimated_requests: 2n });
  });

  it("stays exact past 2^53 - 1 and past 2^64, where doubles would round", () => {
    const max = BigInt(Number.MAX_SAFE_INTEGER);
    // 2^53 - 1 + 2 is 2^53 + 1, which a double rounds to 2^53.
    expect(
      mergeGroups([[{ ...g("m", 1), total_tokens: max }], [{ ...g("m", 1), total_tokens: 2n }]])[0]?.total_tokens,
    ).toBe(2n ** 53n + 1n);
    const huge = Array.from({ length: 3_000 }, (_, i) => ({ ...g(`k${i % 3}`, 1), cost: 2n ** 63n - 1n }));
    expect(totalOf(mergeGroups([huge])).cost).toBe(3_000n * (2n ** 63n - 1n));
  });

  it("orders days chronologically", () => {
    expect(mergeGroups([[g("2026-04-10", 1), g("2026-03-31", 1)]]).map((m) => m.group)).toEqual([
      "2026-03-31",
      "2026-04-10",
    ]);
  });

  it("totals groups", () => {
    expect(totalOf([])).toEqual(ZERO_SUMS);
    expect(totalOf([g("a", 1), g("b", 2)])).toMatchObject({ requests: 3n, cost: 3_000_009n, estimated_requests: 2n });
  });
});
