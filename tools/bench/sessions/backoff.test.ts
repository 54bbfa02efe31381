import { describe, expect, it } from "vitest";
import { AGENT_BACKOFF, backoffCeilingMs, backoffDelayMs } from "./backoff.js";

describe("backoffCeilingMs", () => {
  it("doubles from the base and stops at the cap", () => {
    const ceilings = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((r) => backoffCeilingMs(r, AGENT_BACKOFF));
    expect(ceilings).toEqual([250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(backoffCeilingMs(10_000, AGENT_BACKOFF)).toBe(30_000);
  });

  it("refuses a retry number below 1", () => {
    expect(() => backoffCeilingMs(0, AGENT_BACKOFF)).toThrow();
    expect(() => backoffCeilingMs(1.5, AGENT_BACKOFF)).toThrow();
  });
});

describe("backoffDelayMs", () => {
  it("spans the whole range below the ceiling (full jitter)", () => {
    expect(backoffDelayMs(3, AGENT_BACKOFF, () => 0)).toBe(0);
    expect(backoffDelayMs(3, AGENT_BACKOFF, () => 0.5)).toBe(500);
    expect(backoffDelayMs(3, AGENT_BACKOFF, () => 0.999_999)).toBe(999);
  });
});
