import { describe, expect, it } from "vitest";
import { LatencySamples, MAX_MODELS, SAMPLE_MAX_AGE_MS, SAMPLES_PER_MODEL } from "./latency-samples.js";

describe("LatencySamples", () => {
  it("gives the median of a model's samples", () => {
    const s = new LatencySamples();
    for (const ms of [300, 100, 200, 1_000_000]) s.add("m", ms, 0);
    expect(s.p50("m", 0)).toBe(200);
    expect(s.p50("other", 0)).toBeNull();
  });

  it("keeps only the latest samples per model", () => {
    const s = new LatencySamples();
    for (let i = 0; i < SAMPLES_PER_MODEL; i++) s.add("m", 1_000, 0);
    for (let i = 0; i < SAMPLES_PER_MODEL; i++) s.add("m", 10, 1);
    expect(s.p50("m", 1)).toBe(10);
  });

  it("forgets samples older than an hour", () => {
    const s = new LatencySamples();
    s.add("m", 500, 0);
    s.add("m", 50, SAMPLE_MAX_AGE_MS);
    expect(s.p50("m", SAMPLE_MAX_AGE_MS + 1)).toBe(50);
    expect(s.p50("m", 3 * SAMPLE_MAX_AGE_MS)).toBeNull();
  });

  it("tracks a bounded number of models", () => {
    const s = new LatencySamples();
    for (let i = 0; i <= MAX_MODELS; i++) s.add(`m${i}`, 1, 0);
    expect(s.p50(`m${MAX_MODELS - 1}`, 0)).toBe(1);
    expect(s.p50(`m${MAX_MODELS}`, 0)).toBeNull();
  });
});
