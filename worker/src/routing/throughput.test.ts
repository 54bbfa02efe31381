import { describe, expect, it } from "vitest";
import { THROUGHPUT_DECAY_MS, updateThroughput } from "./throughput.js";

describe("throughput estimate", () => {
  it("takes the first sample as tokens per second", () => {
    expect(updateThroughput(null, { tokens: 100, streamMs: 2_000 }, 500)).toEqual({ tokensPerSecond: 50, at: 500 });
  });

  it("ignores answers too short to say anything about speed", () => {
    expect(updateThroughput(null, { tokens: 3, streamMs: 10 }, 0)).toBeNull();
    const prev = { tokensPerSecond: 40, at: 0 };
    expect(updateThroughput(prev, { tokens: 0, streamMs: 1_000 }, 1_000)).toBe(prev);
    expect(updateThroughput(prev, { tokens: 3, streamMs: 1_000 }, 1_000)).toBe(prev);
  });

  it("takes a four-token answer into account", () => {
    expect(updateThroughput(null, { tokens: 4, streamMs: 100 }, 0)).toEqual({ tokensPerSecond: 40, at: 0 });
  });

  it("ignores a stream that took no measurable time (no division by zero)", () => {
    expect(updateThroughput(null, { tokens: 500, streamMs: 0 }, 0)).toBeNull();
    const prev = { tokensPerSecond: 40, at: 0 };
    expect(updateThroughput(prev, { tokens: 500, streamMs: 0 }, 1_000)).toBe(prev);
    expect(updateThroughput(prev, { tokens: 500, streamMs: -5 }, 1_000)).toBe(prev);
  });

  it("moves toward new samples, by exp(−Δt/τ), both up and down (no peak rule)", () => {
    const prev = { tokensPerSecond: 100, at: 0 };
    const down = updateThroughput(prev, { tokens: 100, streamMs: 10_000 }, THROUGHPUT_DECAY_MS);
    const w = Math.exp(-1);
    expect(down?.tokensPerSecond).toBeCloseTo(100 * w + 10 * (1 - w), 9);
    expect(down?.at).toBe(THROUGHPUT_DECAY_MS);
    const up = updateThroughput(
      { tokensPerSecond: 10, at: 0 },
      { tokens: 1_000, streamMs: 10_000 },
      THROUGHPUT_DECAY_MS,
    );
    expect(up?.tokensPerSecond).toBeCloseTo(10 * w + 100 * (1 - w), 9);
  });

  it("believes a new sample more the older the estimate", () => {
    const prev = { tokensPerSecond: 100, at: 0 };
    const soon = updateThroughput(prev, { tokens: 20, streamMs: 1_000 }, 1_000)?.tokensPerSecond ?? NaN;
    const late = updateThroughput(prev, { tokens: 20, streamMs: 1_000 }, 300_000)?.tokensPerSecond ?? NaN;
    expect(soon).toBeGreaterThan(90);
    expect(late).toBeLessThan(21);
    expect(late).toBeGreaterThanOrEqual(20);
  });

  it("does not extrapolate backwards in time", () => {
    const prev = { tokensPerSecond: 100, at: 10_000 };
    const next = updateThroughput(prev, { tokens: 20, streamMs: 1_000 }, 0);
    expect(next?.tokensPerSecond).toBeCloseTo(100, 9);
  });

  it("converges on a steady speed", () => {
    let est = updateThroughput(null, { tokens: 100, streamMs: 1_000 }, 0);
    for (let t = 1; t <= 100; t++) est = updateThroughput(est, { tokens: 30, streamMs: 1_000 }, t * 10_000);
    expect(est?.tokensPerSecond).toBeCloseTo(30, 3);
  });

  it("honours a custom time constant", () => {
    const prev = { tokensPerSecond: 100, at: 0 };
    const next = updateThroughput(prev, { tokens: 10, streamMs: 1_000 }, 1_000, 1_000);
    expect(next?.tokensPerSecond).toBeCloseTo(100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)), 9);
  });
});
