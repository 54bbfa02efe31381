import { describe, expect, it } from "vitest";
import { nsToMs, quantile, ratePerSecond, summarize } from "./stats.js";

describe("quantile", () => {
  it("interpolates between the nearest ranks", () => {
    expect(quantile([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantile([10, 20, 30], 0.5)).toBe(20);
    expect(quantile([0, 100], 0.99)).toBeCloseTo(99);
  });

  it("returns the extremes at 0 and 1", () => {
    expect(quantile([3, 5, 9], 0)).toBe(3);
    expect(quantile([3, 5, 9], 1)).toBe(9);
  });

  it("handles a single sample", () => {
    expect(quantile([7], 0.99)).toBe(7);
  });

  it("refuses empty samples and out-of-range quantiles", () => {
    expect(() => quantile([], 0.5)).toThrow(/empty/);
    expect(() => quantile([1], 1.5)).toThrow(/outside/);
    expect(() => quantile([1], Number.NaN)).toThrow(/outside/);
  });
});

describe("summarize", () => {
  it("sorts a copy and reports the usual statistics", () => {
    const values = [5, 1, 4, 2, 3];
    const s = summarize(values);
    expect(s).toEqual({ count: 5, min: 1, mean: 3, p50: 3, p90: 4.6, p99: expect.closeTo(4.96, 10), max: 5 });
    expect(values).toEqual([5, 1, 4, 2, 3]);
  });

  it("puts p99 of 1..100 just under the maximum", () => {
    const s = summarize(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(s.p50).toBe(50.5);
    expect(s.p99).toBeCloseTo(99.01);
  });

  it("refuses an empty sample", () => {
    expect(() => summarize([])).toThrow(/empty/);
  });
});

describe("units", () => {
  it("converts nanoseconds to milliseconds", () => {
    expect(nsToMs(1_500_000n)).toBe(1.5);
  });

  it("computes a rate, NaN for no elapsed time", () => {
    expect(ratePerSecond(3000, 2_000_000_000n)).toBe(1500);
    expect(ratePerSecond(1, 0n)).toBeNaN();
  });
});
