import { describe, expect, it } from "vitest";
import { choiceOutputs, chunkTokens, utf8Length } from "./relayed-output.js";

describe("utf8Length", () => {
  it("counts UTF-8 bytes without encoding", () => {
    for (const text of ["", "abc", "héllo", "日本語", "emoji 😀 and 𝄞", "\ud800 lone"]) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length);
    }
  });
});

describe("choiceOutputs", () => {
  it("reads chat messages and deltas: content (string or parts), reasoning, refusal, tool calls", () => {
    const answer = {
      choices: [
        {
          index: 0,
          message: {
            content: [
              { type: "text", text: "ab" },
              { type: "text", text: "c" },
            ],
            reasoning_content: "rr",
            refusal: null,
          },
        },
        {
          index: 1,
          message: { content: null, tool_calls: [{ id: "call_1", function: { name: "get", arguments: '{"a":1}' } }] },
        },
      ],
    };
    expect(choiceOutputs(answer)).toEqual([
      { index: 0, textBytes: 5, logprobTokens: 0, toolCallIndexes: [] },
      { index: 1, textBytes: 10, logprobTokens: 0, toolCallIndexes: [0] },
    ]);
    const chunk = {
      choices: [{ index: 0, delta: { content: "x", reasoning: "yy" }, logprobs: { content: [{}, {}] } }],
    };
    expect(choiceOutputs(chunk)).toEqual([{ index: 0, textBytes: 3, logprobTokens: 2, toolCallIndexes: [] }]);
  });

  it("counts what a client shows once: the larger of two reasoning fields, no text beside a chat message", () => {
    expect(
      choiceOutputs({
        choices: [{ index: 0, delta: { reasoning: "abc", reasoning_content: "abc" }, text: "padding" }],
      })[0]?.textBytes,
    ).toBe(3);
  });

  it(
    "names each choice and tool call by its index, as a client merges them (position when none is given); an " +
      "unnamed call starts none",
    () => {
      const chunk = {
        choices: [
          {
            index: 3,
            delta: {
              tool_calls: [
                { index: 2, function: { name: "g", arguments: "x" } },
                { function: { name: "f" } },
                {},
                { index: 9, function: { arguments: "y" } },
              ],
            },
          },
          { delta: { content: "y" } },
          { index: -1, delta: { content: "z" } },
        ],
      };
      expect(choiceOutputs(chunk).map((o) => [o.index, o.toolCallIndexes])).toEqual([
        [3, [2, 1]],
        [1, []],
        [2, []],
      ]);
    },
  );

  it("reads text completions and their log probabilities", () => {
    expect(choiceOutputs({ choices: [{ index: 0, text: "four", logprobs: { tokens: ["f", "our"] } }] })).toEqual([
      { index: 0, textBytes: 4, logprobTokens: 2, toolCallIndexes: [] },
    ]);
  });

  it("finds nothing in what is not an answer", () => {
    for (const value of [
      undefined,
      null,
      "text",
      [],
      { object: "list", data: [] },
      { choices: [], usage: {} },
      { error: { message: "x" } },
    ]) {
      expect(choiceOutputs(value)).toEqual([]);
    }
  });
});

describe("chunkTokens", () => {
  it("counts log-probability entries, else one for a chunk that carried anything, else none", () => {
    const output = { index: 0, textBytes: 0, logprobTokens: 0, toolCallIndexes: [] };
    expect(chunkTokens({ ...output, textBytes: 9, logprobTokens: 3 })).toBe(3);
    expect(chunkTokens({ ...output, textBytes: 9 })).toBe(1);
    expect(chunkTokens({ ...output, toolCallIndexes: [0] })).toBe(1);
    expect(chunkTokens(output)).toBe(0);
  });
});
