import { describe, expect, it } from "vitest";
import { OutputTally } from "../metering/output-tally.js";
import { requestShape } from "./request-shape.js";
import {
  AFTER_LEAVE_GRACE,
  CHOICE_END_TOKENS,
  completionBound,
  DEFAULT_CONTEXT_TOKENS,
  MEDIA_PART_TOKENS,
  PROMPT_TEMPLATE_TOKENS,
  promptBound,
  TOOL_CALL_TOKENS,
  worstCase,
  type AnswerOutput,
} from "./token-bounds.js";

const MAX_CHOICES = 1_000;

function tally(values: readonly unknown[]): OutputTally {
  const t = new OutputTally(MAX_CHOICES);
  for (const v of values) t.add(v);
  return t;
}
/** An answer whose client stayed to the end. */
function relayed(...values: unknown[]): AnswerOutput {
  return { relayed: tally(values), afterLeave: tally([]) };
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

  it(
    "counts reasoning, refusals, tool calls (with their template, when tools were offered) and " + "completions' text",
    () => {
      const shape = requestShape({ tools: [{ type: "function", function: { name: "f" } }] }, true);
      const call = {
        choices: [
          {
            index: 0,
            delta: {
              reasoning_content: "abc",
              tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: "{}" } }],
            },
          },
        ],
      };
      expect(completionBound(relayed(call), shape, null)).toBe(3 + 1 + 2 + TOOL_CALL_TOKENS + CHOICE_END_TOKENS);
      expect(completionBound(relayed({ choices: [{ index: 0, text: "héllo" }] }), shape, null)).toBe(
        6 + CHOICE_END_TOKENS,
      );
    },
  );

  it("counts log-probability entries only when the client asked for them", () => {
    const chunk = { choices: [{ index: 0, delta: { content: "" }, logprobs: { content: [{}, {}, {}] } }] };
    expect(completionBound(relayed(chunk), requestShape({ logprobs: true }, true), null)).toBe(3 + CHOICE_END_TOKENS);
    expect(completionBound(relayed(chunk), requestShape({}, true), null)).toBe(CHOICE_END_TOKENS);
  });

  it(
    "is never above the client's cap nor the node's context (the default when it advertised none), per choice; " +
      "embeddings generate nothing",
    () => {
      const long = relayed(delta("x".repeat(10_000)), delta("y".repeat(10_000), 1));
      expect(completionBound(long, requestShape({ max_tokens: 50, n: 2 }, true), null)).toBe(100);
      expect(completionBound(long, requestShape({}, true), 4_096)).toBe(4_096);
      expect(completionBound(relayed(delta("x".repeat(40_000))), requestShape({}, true), null)).toBe(
        DEFAULT_CONTEXT_TOKENS,
      );
      expect(completionBound(long, requestShape({}, false), null)).toBe(0);
    },
  );

  it("bounds each choice by its own output: a node cannot pile one choice's text against another's cap", () => {
    // n = 10, cap 100: 1,000 bytes in choice 0 and nothing in the nine others.
    const shape = requestShape({ n: 10, max_tokens: 100 }, true);
    expect(completionBound(relayed(delta("x".repeat(1_000))), shape, null)).toBe(100 + 9 * CHOICE_END_TOKENS);
    // A choice numbered past those asked for carries nothing billable.
    expect(completionBound(relayed(delta("x".repeat(1_000), 10)), shape, null)).toBe(10 * CHOICE_END_TOKENS);
  });

  it("gives the choices nothing came for the bound of an empty choice, without a step per choice", () => {
    const shape = requestShape({ prompt: Array.from({ length: 2_048 }, () => ""), stop: "END" }, true);
    expect(completionBound(relayed(delta("hi", 7)), shape, null)).toBe(2_048 * (CHOICE_END_TOKENS + 3) + 2);
  });

  it("counts a tool call once however many deltas carry it, and none when no tools were offered", () => {
    const tools = [{ type: "function", function: { name: "f" } }];
    const fn = (i: number) => (i === 0 ? { name: "f", arguments: "x" } : { arguments: "x" });
    const deltas = Array.from({ length: 1_000 }, (_, i) => ({
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "c", function: fn(i) }] } }],
    }));
    expect(completionBound(relayed(...deltas), requestShape({ tools }, true), null)).toBe(
      1_001 + TOOL_CALL_TOKENS + CHOICE_END_TOKENS,
    );
    expect(completionBound(relayed(...deltas), requestShape({}, true), null)).toBe(1_001 + CHOICE_END_TOKENS);
    // Entries naming no call start none.
    const empty = { choices: [{ index: 0, delta: { tool_calls: Array.from({ length: 128 }, () => ({})) } }] };
    expect(completionBound(relayed(empty), requestShape({ tools }, true), null)).toBe(CHOICE_END_TOKENS);
  });

  it("allows for the stop sequence a server counts but takes out of the answer", () => {
    const shape = requestShape({ stop: ["END", "\n\nThe end of it all"] }, true);
    expect(completionBound(relayed(delta("hi")), shape, null)).toBe(2 + CHOICE_END_TOKENS + 19);
  });

  it("is the cap alone for a request asking for output it does not see", () => {
    const shape = requestShape({ logit_bias: { "128002": 50 }, max_tokens: 300, n: 2 }, true);
    expect(shape.hiddenOutput).toBe("logit_bias");
    expect(completionBound(relayed(delta("hi")), shape, null)).toBe(600);
  });

  it("counts what came after the client left up to a grace per choice; all of it when judging the node", () => {
    const shape = requestShape({ max_tokens: 100_000 }, true);
    const output = { relayed: tally([delta("hi")]), afterLeave: tally([delta("x".repeat(100_000))]) };
    expect(completionBound(output, shape, 131_072)).toBe(2 + CHOICE_END_TOKENS + AFTER_LEAVE_GRACE);
    expect(completionBound(output, shape, 131_072, Infinity)).toBe(100_000);
  });

  it("gives every requested choice its allowance, however many prompts a completions request sends", () => {
    const shape = requestShape({ prompt: Array.from({ length: 50 }, () => "p"), max_tokens: 16 }, true);
    const answers = relayed({
      choices: Array.from({ length: 50 }, (_, index) => ({ index, text: " a b c d e f g h i j k l m n o p" })),
    });
    // 50 choices × 16 tokens of one-byte words and spaces: within the bound, and within 50 × 16.
    expect(completionBound(answers, shape, null)).toBe(800);
  });
});

describe("worstCase", () => {
  it("reserves per choice the cap, within the node's context length (else the default context)", () => {
    expect(worstCase(400, requestShape({ max_tokens: 100_000 }, true), 8_192).completionTokens).toBe(8_192);
    expect(worstCase(400, requestShape({ max_tokens: 100, n: 3 }, true), 8_192)).toEqual({
      promptTokens: 400 + PROMPT_TEMPLATE_TOKENS,
      completionTokens: 300,
    });
    expect(worstCase(400, requestShape({}, true), 4_096)).toEqual({
      promptTokens: 400 + PROMPT_TEMPLATE_TOKENS,
      completionTokens: 4_096,
    });
    expect(worstCase(400, requestShape({}, true), null).completionTokens).toBe(DEFAULT_CONTEXT_TOKENS);
    expect(worstCase(400, requestShape({}, false), null).completionTokens).toBe(0);
  });
});
