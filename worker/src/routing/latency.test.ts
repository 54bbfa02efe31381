import { describe, expect, it } from "vitest";
import { updateLatency } from "./latency.js";

describe("Peak EWMA latency", () => {
  it("takes the first sample as the estimate", () => {
    expect(updateLatency(null, 42, 1000)).toEqual({ ms: 42, at: 1000 });
  });

  it("jumps to a slower sample at once", () => {
    expect(updateLatency({ ms: 20, at: 0 }, 200, 1).ms).toBe(200);
  });

  it("moves toward a faster sample gradually, more so the older the estimate", () => {
    const soon = updateLatency({ ms: 200, at: 0 }, 20, 1_000).ms;
    const later = updateLatency({ ms: 200, at: 0 }, 20, 30_000).ms;
    expect(soon).toBeLessThan(200);
    expect(soon).toBeGreaterThan(180);
    expect(later).toBeLessThan(30);
    expect(later).toBeGreaterThan(20);
  });

  it("converges on a steady latency", () => {
    let est = updateLatency(null, 100, 0);
    for (let t = 1; t <= 200; t++) est = updateLatency(est, 50, t * 1000);
    expect(est.ms).toBeCloseTo(50, 3);
  });

  it("never goes negative", () => {
    expect(updateLatency({ ms: 10, at: 0 }, -5, 100_000).ms).toBeGreaterThanOrEqual(0);
  });
});
