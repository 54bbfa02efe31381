import { describe, expect, it } from "vitest";
import { estimatePromptTokens } from "./prompt-estimate.js";

const body = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

describe("estimatePromptTokens", () => {
  it("counts a quarter of the chat messages' text bytes, rounded up, and four tokens a message", () => {
    // 9 + 11 bytes of text: ceil(20 / 4) = 5, and 2 messages.
    const chat = {
      model: "m",
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hello there" },
      ],
    };
    expect(estimatePromptTokens(body(chat))).toBe(5 + 8);
    // 21 bytes: ceil(21 / 4) = 6.
    expect(estimatePromptTokens(body({ messages: [{ role: "user", content: "x".repeat(21) }] }))).toBe(6 + 4);
  });

  it("counts a Responses request's instructions and input items as messages", () => {
    // 9 + 11 + 4 (a tool result) bytes: ceil(24 / 4) = 6, and 3 messages.
    const responses = {
      model: "m",
      instructions: "Be brief.",
      input: [
        { role: "user", content: [{ type: "input_text", text: "Hello there" }] },
        { type: "function_call_output", call_id: "c", output: "22 C" },
      ],
    };
    expect(estimatePromptTokens(body(responses))).toBe(6 + 12);
    expect(estimatePromptTokens(body({ model: "m", input: "x".repeat(8) }))).toBe(2 + 4);
  });

  it("counts UTF-8 bytes, not characters", () => {
    // "é" is two bytes, "😀" four: 2 * 3 + 4 = 10 bytes, ceil(10 / 4) = 3.
    expect(estimatePromptTokens(body({ messages: [{ role: "user", content: "ééé😀" }] }))).toBe(3 + 4);
  });

  it("counts only the text parts of content-part arrays, and still four for a message without text", () => {
    const messages = [
      {
        role: "user",
        content: [
          { type: "text", text: "abcd" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAAAAAAAAAAAAAA" } },
          { type: "text", text: "efgh" },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "{}" } }],
      },
    ];
    expect(estimatePromptTokens(body({ messages }))).toBe(2 + 8);
  });

  it("counts completions prompts: strings by bytes, token ids one each, lists of either", () => {
    expect(estimatePromptTokens(body({ prompt: "one two three" }))).toBe(4);
    expect(estimatePromptTokens(body({ prompt: ["abcd", "efgh"] }))).toBe(2);
    expect(estimatePromptTokens(body({ prompt: [1, 2, 3] }))).toBe(3);
    expect(
      estimatePromptTokens(
        body({
          prompt: [
            [1, 2],
            [3, 4, 5],
          ],
        }),
      ),
    ).toBe(5);
  });

  it("estimates nothing for a body that is not a JSON object", () => {
    expect(estimatePromptTokens(Buffer.from("{not json"))).toBe(0);
    expect(estimatePromptTokens(body(["a"]))).toBe(0);
    expect(estimatePromptTokens(body({ model: "m" }))).toBe(0);
  });
});
