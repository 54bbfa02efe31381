import { describe, expect, it } from "vitest";
import { seededRandom as mulberry32 } from "./seeded-random.js";
import { WeightedSampler } from "./weighted-sampler.js";

function shares(sampler: WeightedSampler, draws: number, seed = 1): number[] {
  const random = mulberry32(seed);
  const counts = new Array<number>(sampler.size).fill(0);
  for (let i = 0; i < draws; i++) {
    const index = sampler.draw(random);
    if (index >= 0) counts[index] = (counts[index] ?? 0) + 1;
  }
  return counts.map((c) => c / draws);
}

describe("WeightedSampler", () => {
  it("draws each index in proportion to its weight", () => {
    const got = shares(new WeightedSampler([1, 2, 3, 4, 0, 10]), 100_000);
    for (const [i, w] of [1, 2, 3, 4, 0, 10].entries()) expect(got[i]).toBeCloseTo(w / 20, 2);
  });

  it("follows weight changes at once: a zeroed index is never drawn, a raised one gains", () => {
    const sampler = new WeightedSampler([5, 5, 5]);
    sampler.set(1, 0);
    sampler.set(2, 15);
    const got = shares(sampler, 50_000);
    expect(got[1]).toBe(0);
    expect(got[2]).toBeCloseTo(0.75, 2);
    expect(sampler.total()).toBeCloseTo(20, 9);
    expect(sampler.weight(2)).toBe(15);
  });

  it("says so when nothing can be drawn, and handles the edges", () => {
    expect(new WeightedSampler([]).draw(Math.random)).toBe(-1);
    expect(new WeightedSampler([0, 0]).draw(Math.random)).toBe(-1);
    expect(new WeightedSampler([3]).draw(() => 0.999999)).toBe(0);
    const last = new WeightedSampler([1, 0, 0, 1]);
    expect(last.draw(() => 0.9999999)).toBe(3);
    expect(last.draw(() => 0)).toBe(0);
    const negative = new WeightedSampler([-4, 2]);
    expect(negative.weight(0)).toBe(0);
    expect(negative.draw(() => 0)).toBe(1);
  });

  it("agrees with a linear scan for many sizes and targets", () => {
    for (const n of [1, 2, 3, 7, 8, 9, 100, 1_000]) {
      const random = mulberry32(n);
      const weights = Array.from({ length: n }, () => (random() < 0.3 ? 0 : random() * 10));
      const sampler = new WeightedSampler(weights);
      const total = weights.reduce((a, b) => a + b, 0);
      for (let k = 0; k < 200 && total > 0; k++) {
        const r = random();
        let target = r * total;
        let expected = -1;
        for (let i = 0; i < n; i++) {
          const w = weights[i] ?? 0;
          if (target < w) {
            expected = i;
            break;
          }
          target -= w;
        }
        expect(sampler.draw(() => r)).toBe(expected);
      }
    }
  });
});
