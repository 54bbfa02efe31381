import { describe, expect, it } from "vitest";
import { orThrow } from "../http/refusal.js";
import { feeBps, likelyPromptTokens, worstCaseCost } from "./request-cost.js";

describe("what a worst case costs", () => {
  it("guesses a quarter of the body's bytes as prompt tokens, for rate limits", () => {
    expect(likelyPromptTokens(1_000)).toBe(250);
    expect(likelyPromptTokens(1_001)).toBe(251);
  });

  it("prices the worst case at the node's price per million, rounded up, plus the fee", () => {
    // 1,000 prompt × 2,000,000 + 100 completion × 6,000,000 per million = 2,000 + 600 = 2,600 micro-units; 5% fee =
    // 130.
    expect(
      worstCaseCost({ promptTokens: 1_000, completionTokens: 100 }, { prompt: 2_000_000, completion: 6_000_000 }, 500),
    ).toBe(2_730);
    // One token at 1 micro-unit per million still costs a whole micro-unit (and the fee rounds up too).
    expect(worstCaseCost({ promptTokens: 1, completionTokens: 0 }, { prompt: 1, completion: 0 }, 500)).toBe(2);
    expect(worstCaseCost({ promptTokens: 10, completionTokens: 10 }, { prompt: 0, completion: 0 }, 500)).toBe(0);
  });

  it("stays exact where floating point would not", () => {
    // 4,194,308 × 999,999,000,000 is a whole number of micro-units (4,194,303,805,692); in floating point the product
    // (past 2^53) rounds up, and so would the charge.
    expect(
      worstCaseCost({ promptTokens: 0, completionTokens: 4_194_308 }, { prompt: 0, completion: 999_999_000_000 }, 0),
    ).toBe(4_194_303_805_692);
    expect(Math.ceil((4_194_308 * 999_999_000_000) / 1_000_000)).toBe(4_194_303_805_693);
  });

  it("reads the fee from GATEWAY_FEE_BPS, refusing nonsense", () => {
    // As the route reads it: a refusal is thrown as the client's error.
    expect(orThrow(feeBps({}))).toBe(0);
    expect(orThrow(feeBps({ GATEWAY_FEE_BPS: "250" }))).toBe(250);
    for (const bad of ["-1", "10001", "5%"])
      expect(() => orThrow(feeBps({ GATEWAY_FEE_BPS: bad }))).toThrow(/fee is misconfigured/);
  });
});
