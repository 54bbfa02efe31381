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

  it("tracks a bounded number of models: a new one replaces the one sampled least recently", () => {
    const s = new LatencySamples();
    for (let i = 0; i < MAX_MODELS; i++) s.add(`m${i}`, 1, 0);
    s.add("m0", 2, 1);
    s.add("new", 3, 2);
    expect(s.p50("new", 2)).toBe(3);
    expect(s.p50("m0", 2)).toBe(1);
    expect(s.p50("m1", 2)).toBeNull();
  });

  it("a node that cycled through made-up model names does not keep a later model from being measured", () => {
    const s = new LatencySamples();
    // Models that were served once and are gone: nothing asks for their p50 any more.
    for (let i = 0; i < MAX_MODELS; i++) s.add(`made-up-${i}`, 1, 0);
    s.add("llama", 250, 2 * SAMPLE_MAX_AGE_MS);
    expect(s.p50("llama", 2 * SAMPLE_MAX_AGE_MS)).toBe(250);
  });
});
