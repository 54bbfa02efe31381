import { describe, expect, it } from "vitest";
import { OutputTally } from "../metering/output-tally.js";
import { requestShape } from "./request-shape.js";
import { CHOICE_END_TOKENS, completionBound, DEFAULT_CONTEXT_TOKENS, MEDIA_PART_TOKENS, PROMPT_TEMPLATE_TOKENS, promptBound, TOOL_CALL_TOKENS, worstCase } from "./token-bounds.js";

function relayed(...values: unknown[]): OutputTally {
  const tally = new OutputTally();
  for (const v of values) tally.add(v);
  return tally;
}
const delta = (content: string, index = 0) => ({ choices: [{ index, delta: { content } }] });

describe("promptBound", () => {
  it("is the body's bytes plus a template's headroom, plus an allowance per media part", () => {
    expect(promptBound(1_000, requestShape({}, true))).toBe(1_000 + PROMPT_TEMPLATE_TOKENS);
    const messages = [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x" } }] }];
    expect(promptBound(100, requestShape({ messages }, true))).toBe(100 + PROMPT_TEMPLATE_TOKENS + MEDIA_PART_TOKENS);
  });
});

describe("completionBound", () => {
  it("is the text relayed (a byte per token at least), plus a few tokens per choice that decode to nothing", () => {
    const shape = requestShape({}, true);
    // "hi" + " there" = 8 bytes.
    expect(completionBound(relayed(delta("hi"), delta(" there")), shape, null)).toBe(8 + CHOICE_END_TOKENS);
    // Two bytes relayed: a claim of 100,000,000 tokens is far outside it.
    expect(completionBound(relayed(delta("hi")), shape, null)).toBeLessThan(100);
  });

  it("counts reasoning, refusals, tool calls (with their template) and completions' text", () => {
    const shape = requestShape({}, true);
    const call = { choices: [{ index: 0, delta: { reasoning_content: "abc", tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: "{}" } }] } }] };
    expect(completionBound(relayed(call), shape, null)).toBe(3 + 1 + 2 + TOOL_CALL_TOKENS + CHOICE_END_TOKENS);
    expect(completionBound(relayed({ choices: [{ index: 0, text: "héllo" }] }), shape, null)).toBe(6 + CHOICE_END_TOKENS);
  });

  it("counts log-probability entries only when the client asked for them", () => {
    const chunk = { choices: [{ index: 0, delta: { content: "" }, logprobs: { content: [{}, {}, {}] } }] };
    expect(completionBound(relayed(chunk), requestShape({ logprobs: true }, true), null)).toBe(3 + CHOICE_END_TOKENS);
    expect(completionBound(relayed(chunk), requestShape({}, true), null)).toBe(CHOICE_END_TOKENS);
  });

  it("is never above the client's cap nor the node's context, per choice; embeddings generate nothing", () => {
    const long = relayed(delta("x".repeat(10_000)));
    expect(completionBound(long, requestShape({ max_tokens: 50, n: 2 }, true), null)).toBe(100);
    expect(completionBound(long, requestShape({}, true), 4_096)).toBe(4_096);
    expect(completionBound(long, requestShape({}, false), null)).toBe(0);
  });

  it("gives every requested choice its allowance, however many prompts a completions request sends", () => {
    const shape = requestShape({ prompt: Array.from({ length: 50 }, () => "p"), max_tokens: 16 }, true);
    const answers = relayed({ choices: Array.from({ length: 50 }, (_, index) => ({ index, text: " a b c d e f g h i j k l m n o p" })) });
    // 50 choices × 16 tokens of one-byte words and spaces: within the bound, and within 50 × 16.
    expect(completionBound(answers, shape, null)).toBe(800);
  });
});

describe("worstCase", () => {
  it("reserves the cap per choice, else the node's context length, else the default context", () => {
    expect(worstCase(400, requestShape({ max_tokens: 100, n: 3 }, true), 8_192)).toEqual({ promptTokens: 400 + PROMPT_TEMPLATE_TOKENS, completionTokens: 300 });
    expect(worstCase(400, requestShape({}, true), 4_096)).toEqual({ promptTokens: 400 + PROMPT_TEMPLATE_TOKENS, completionTokens: 4_096 });
    expect(worstCase(400, requestShape({}, true), null).completionTokens).toBe(DEFAULT_CONTEXT_TOKENS);
    expect(worstCase(400, requestShape({}, false), null).completionTokens).toBe(0);
  });
});
