import { describe, expect, it } from "vitest";
import { updateLatency } from "./latency.js";
import { firstTokenDeadlineMs, isLongPrompt, latencySample, ORDINARY_PROMPT_TOKENS, promptScale } from "./prefill.js";

describe("prompt size", () => {
  it("is ordinary up to ORDINARY_PROMPT_TOKENS, and scales in proportion beyond", () => {
    expect(promptScale(undefined)).toBe(1);
    expect(promptScale(0)).toBe(1);
    expect(promptScale(ORDINARY_PROMPT_TOKENS)).toBe(1);
    expect(isLongPrompt(ORDINARY_PROMPT_TOKENS)).toBe(false);
    expect(isLongPrompt(ORDINARY_PROMPT_TOKENS + 1)).toBe(true);
    expect(promptScale(4 * ORDINARY_PROMPT_TOKENS)).toBe(4);
  });
});

describe("first-token deadline", () => {
  it("is the configured one for an ordinary prompt", () => {
    expect(firstTokenDeadlineMs(10_000, 100, 120_000)).toBe(10_000);
    expect(firstTokenDeadlineMs(10_000, ORDINARY_PROMPT_TOKENS, 120_000)).toBe(10_000);
  });

  it("grows in proportion with a long prompt, up to the cap", () => {
    expect(firstTokenDeadlineMs(10_000, 3 * ORDINARY_PROMPT_TOKENS, 120_000)).toBe(30_000);
    expect(firstTokenDeadlineMs(10_000, 1_000 * ORDINARY_PROMPT_TOKENS, 120_000)).toBe(120_000);
  });

  it("never falls below the configured one, whatever the cap", () => {
    expect(firstTokenDeadlineMs(10_000, 100 * ORDINARY_PROMPT_TOKENS, 5_000)).toBe(10_000);
  });
});

describe("latency sample", () => {
  it("counts an ordinary prompt's time in full", () => {
    expect(latencySample(800, 500)).toEqual({ ms: 800, weight: 1 });
    expect(latencySample(800, undefined)).toEqual({ ms: 800, weight: 1 });
  });

  it("scales a long prompt's time to an ordinary prompt's, and weighs it down as much", () => {
    expect(latencySample(40_000, 4 * ORDINARY_PROMPT_TOKENS)).toEqual({ ms: 10_000, weight: 0.25 });
  });

  it("one large upload barely moves a fast node's estimate (it would jump to the whole time unscaled)", () => {
    const fast = updateLatency(null, 200, 0);
    const big = latencySample(60_000, 12 * ORDINARY_PROMPT_TOKENS);
    const after = updateLatency(fast, big.ms, 1, undefined, big.weight);
    expect(after.ms).toBeLessThan(700);
    expect(updateLatency(fast, 60_000, 1).ms).toBe(60_000);
  });
});
