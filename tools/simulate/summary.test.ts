import { describe, expect, it } from "vitest";
import { meanRegret, quantileSorted, regret, sortedMeasured, spread } from "./summary.js";

describe("quantileSorted", () => {
  it("interpolates between the nearest ranks", () => {
    expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(quantileSorted([0, 100], 0.99)).toBeCloseTo(99);
    expect(quantileSorted([7], 0.99)).toBe(7);
    expect(quantileSorted([], 0.5)).toBeNaN();
  });

  it("keeps failures (Infinity) infinite instead of turning them into NaN", () => {
    const sorted = sortedMeasured([5, Infinity, Number.NaN, 1, Infinity]);
    expect(Array.from(sorted)).toEqual([1, 5, Infinity, Infinity]);
    expect(quantileSorted(sorted, 0.5)).toBe(Infinity);
    expect(quantileSorted(sorted, 0.25)).toBe(4);
  });
});

describe("regret", () => {
  it("is the ratio to the oracle minus one", () => {
    expect(regret(110, 100)).toBeCloseTo(0.1);
    expect(regret(100, 100)).toBe(0);
    expect(regret(Infinity, 100)).toBe(Infinity);
  });

  it("averages per request over the requests both measured and answered", () => {
    const policy = [200, 100, Infinity, Number.NaN, 300];
    const oracle = [100, 100, 100, 100, Number.NaN];
    expect(meanRegret(policy, oracle)).toBeCloseTo(0.5);
    expect(meanRegret([Number.NaN], [1])).toBeNaN();
  });
});

describe("spread", () => {
  it("is max over mean utilisation", () => {
    const s = spread([0.2, 0.4, 0.6]);
    expect(s.max).toBe(0.6);
    expect(s.mean).toBeCloseTo(0.4);
    expect(s.spread).toBeCloseTo(1.5);
    expect(spread([]).spread).toBeNaN();
    expect(spread([0, 0]).spread).toBeNaN();
  });
});
