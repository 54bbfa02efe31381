import { describe, expect, it } from "vitest";
import { busiestWindow, peakPerSecond, perSecond, quietestWindow, secondsToFraction } from "./timeline.js";

describe("perSecond", () => {
  it("buckets by whole seconds from the origin and drops earlier events", () => {
    expect(perSecond([999, 500], 1_000)).toEqual([]);
    expect(perSecond([1_000, 1_500, 2_999, 3_000], 1_000)).toEqual([2, 1, 1]);
    expect(perSecond([5_500], 1_000)).toEqual([0, 0, 0, 0, 1]);
  });

  it("peaks at the busiest second, 0 when nothing happened", () => {
    expect(peakPerSecond([1_000, 1_100, 2_000, 2_100, 2_200], 1_000)).toBe(3);
    expect(peakPerSecond([], 0)).toBe(0);
  });
});

describe("secondsToFraction", () => {
  const times = [3_000, 1_000, 2_000, 4_000];

  it("finds when a fraction of the total had happened", () => {
    expect(secondsToFraction(times, 0, 4, 0.5)).toBe(2);
    expect(secondsToFraction(times, 0, 4, 1)).toBe(4);
    expect(secondsToFraction(times, 500, 4, 0.01)).toBe(0.5);
  });

  it("is null when too few ever happened", () => {
    expect(secondsToFraction(times, 0, 10, 0.5)).toBeNull();
  });
});

describe("busiestWindow", () => {
  it("starts where a window of the width holds the most events", () => {
    const times = [1_000, 9_000, 9_500, 12_000, 13_900, 20_000];
    expect(busiestWindow(times, 0, 15_000, 5_000)).toBe(9_000);
  });

  it("starts no later than `to` and no earlier than `from`", () => {
    expect(busiestWindow([1_000, 30_000, 30_001], 2_000, 10_000, 5_000)).toBe(2_000);
    expect(busiestWindow([], 2_000, 10_000, 5_000)).toBe(2_000);
  });
});

describe("quietestWindow", () => {
  it("starts where a window of the width holds the fewest events", () => {
    const times = [0, 500, 1_000, 1_500, 4_200, 6_000, 6_100];
    expect(quietestWindow(times, 0, 5_000, 2_000, 100)).toBe(1_600);
  });

  it("keeps the earliest of equally quiet starts", () => {
    expect(quietestWindow([], 1_000, 3_000, 500)).toBe(1_000);
  });
});
