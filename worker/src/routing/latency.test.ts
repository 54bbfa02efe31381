import { describe, expect, it } from "vitest";
import { LATENCY_DECAY_MS, LATENCY_PRIOR_MS, updateLatency } from "./latency.js";

describe("Peak EWMA latency", () => {
  it("takes the first sample as the estimate", () => {
    expect(updateLatency(null, 42, 1000)).toEqual({ ms: 42, at: 1000 });
  });

  it("jumps to a slower sample at once", () => {
    expect(updateLatency({ ms: 20, at: 0 }, 200, 1).ms).toBe(200);
    expect(updateLatency({ ms: 20, at: 0 }, 200, 1).at).toBe(1);
  });

  it("jumps to a slower sample however recent the estimate", () => {
    expect(updateLatency({ ms: 20, at: 5_000 }, 21, 5_000)).toEqual({ ms: 21, at: 5_000 });
  });

  it("moves toward a faster sample gradually, more so the older the estimate", () => {
    const soon = updateLatency({ ms: 200, at: 0 }, 20, 1_000).ms;
    const later = updateLatency({ ms: 200, at: 0 }, 20, 30_000).ms;
    expect(soon).toBeLessThan(200);
    expect(soon).toBeGreaterThan(180);
    expect(later).toBeLessThan(30);
    expect(later).toBeGreaterThan(20);
  });

  it("a down-weighted sample moves the estimate only its share of the way, up or down", () => {
    expect(updateLatency({ ms: 100, at: 0 }, 1_100, 1, LATENCY_DECAY_MS, 0.1).ms).toBeCloseTo(200, 9);
    const full = updateLatency({ ms: 100, at: 0 }, 0, LATENCY_DECAY_MS).ms;
    expect(updateLatency({ ms: 100, at: 0 }, 0, LATENCY_DECAY_MS, LATENCY_DECAY_MS, 0.5).ms).toBeCloseTo(
      100 - (100 - full) / 2,
      9,
    );
    expect(updateLatency({ ms: 100, at: 0 }, 1_100, 1, LATENCY_DECAY_MS, 1).ms).toBe(1_100);
  });

  it("weights the old estimate by exp(−Δt/τ)", () => {
    const next = updateLatency({ ms: 100, at: 0 }, 0, LATENCY_DECAY_MS);
    expect(next.ms).toBeCloseTo(100 * Math.exp(-1), 9);
    expect(next.at).toBe(LATENCY_DECAY_MS);
    const custom = updateLatency({ ms: 100, at: 0 }, 50, 1_000, 1_000);
    expect(custom.ms).toBeCloseTo(100 * Math.exp(-1) + 50 * (1 - Math.exp(-1)), 9);
  });

  it("keeps the estimate for a faster sample taken at the same instant", () => {
    expect(updateLatency({ ms: 100, at: 7 }, 10, 7).ms).toBe(100);
  });

  it("treats a sample from before the estimate as simultaneous, not as extrapolation", () => {
    const next = updateLatency({ ms: 100, at: 10_000 }, 10, 5_000);
    expect(next.ms).toBeLessThanOrEqual(100);
    expect(next.ms).toBeGreaterThanOrEqual(10);
  });

  it("converges on a steady latency", () => {
    let est = updateLatency(null, 100, 0);
    for (let t = 1; t <= 200; t++) est = updateLatency(est, 50, t * 1000);
    expect(est.ms).toBeCloseTo(50, 3);
  });

  it("takes a single slow sample (a timeout) at once, then forgets it as fast samples come in", () => {
    let est = updateLatency(null, 50, 0);
    est = updateLatency(est, 30_000, 1_000);
    expect(est.ms).toBe(30_000);
    for (let t = 2; t <= 120; t++) est = updateLatency(est, 50, t * 1_000);
    expect(est.ms).toBeLessThan(51);
  });

  it("never goes negative", () => {
    expect(updateLatency({ ms: 10, at: 0 }, -5, 100_000).ms).toBeGreaterThanOrEqual(0);
    expect(updateLatency(null, -5, 0).ms).toBe(0);
  });

  it("has a neutral prior: a typical first token, neither optimistic nor pessimistic", () => {
    // Above the old optimistic 100 ms (which favoured every unmeasured node), well below a slow one.
    expect(LATENCY_PRIOR_MS).toBeGreaterThan(100);
    expect(LATENCY_PRIOR_MS).toBeLessThanOrEqual(250);
  });
});
