import { describe, expect, it } from "vitest";
import { feeBps, likelyPromptTokens, requestedCompletionCap, worstCaseCost, worstCasePromptTokens } from "./request-cost.js";

describe("worst case of a request", () => {
  it("bounds prompt tokens by body bytes, and guesses a quarter of that for rate limits", () => {
    expect(worstCasePromptTokens(1_000)).toBe(1_000);
    expect(likelyPromptTokens(1_000)).toBe(250);
    expect(likelyPromptTokens(1_001)).toBe(251);
  });

  it("reads the client's completion cap: max_completion_tokens before max_tokens; none for embeddings", () => {
    expect(requestedCompletionCap({ max_tokens: 100 }, true)).toBe(100);
    expect(requestedCompletionCap({ max_completion_tokens: 50, max_tokens: 100 }, true)).toBe(50);
    expect(requestedCompletionCap({}, true)).toBeNull();
    expect(requestedCompletionCap({ max_tokens: 0 }, true)).toBeNull();
    expect(requestedCompletionCap({ max_tokens: 1.5 }, true)).toBeNull();
    expect(requestedCompletionCap({ max_tokens: 100 }, false)).toBe(0);
  });

  it("prices the worst case at the node's price per million, rounded up, plus the fee", () => {
    // 1,000 prompt × 2,000,000 + 100 completion × 6,000,000 per million = 2,000 + 600 = 2,600 micro-units; 5% fee = 130.
    expect(worstCaseCost({ promptTokens: 1_000, completionTokens: 100 }, { prompt: 2_000_000, completion: 6_000_000 }, 500)).toBe(2_730);
    // One token at 1 micro-unit per million still costs a whole micro-unit (and the fee rounds up too).
    expect(worstCaseCost({ promptTokens: 1, completionTokens: 0 }, { prompt: 1, completion: 0 }, 500)).toBe(2);
    expect(worstCaseCost({ promptTokens: 10, completionTokens: 10 }, { prompt: 0, completion: 0 }, 500)).toBe(0);
  });

  it("stays exact where floating point would not (a 100M-token worst case at the top price)", () => {
    expect(worstCaseCost({ promptTokens: 0, completionTokens: 9_007_199 }, { prompt: 0, completion: 1_000_000_000_000 }, 0)).toBe(9_007_199_000_000);
  });

  it("reads the fee from GATEWAY_FEE_BPS, refusing nonsense", () => {
    expect(feeBps({})).toBe(0);
    expect(feeBps({ GATEWAY_FEE_BPS: "250" })).toBe(250);
    expect(() => feeBps({ GATEWAY_FEE_BPS: "-1" })).toThrow(/GATEWAY_FEE_BPS/);
    expect(() => feeBps({ GATEWAY_FEE_BPS: "10001" })).toThrow(/GATEWAY_FEE_BPS/);
    expect(() => feeBps({ GATEWAY_FEE_BPS: "5%" })).toThrow(/GATEWAY_FEE_BPS/);
  });
});
