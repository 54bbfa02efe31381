import { describe, expect, it } from "vitest";
import { chunkTokens } from "./relayed-output.js";
import { CHAT_DIALECT, RESPONSES_DIALECT } from "./stream-dialect.js";

const completed = {
  type: "response.completed",
  sequence_number: 9,
  response: { object: "response", status: "completed", output: [], usage: { input_tokens: 12, output_tokens: 5 } },
};

describe("RESPONSES_DIALECT", () => {
  it("reads usage from the last event and from a whole Response", () => {
    expect(RESPONSES_DIALECT.usage(completed)).toEqual({ prompt_tokens: 12, completion_tokens: 5 });
    const incomplete = { ...completed, type: "response.incomplete" };
    expect(RESPONSES_DIALECT.usage(incomplete)).toEqual({ prompt_tokens: 12, completion_tokens: 5 });
    expect(RESPONSES_DIALECT.usage(completed.response)).toEqual({ prompt_tokens: 12, completion_tokens: 5 });
  });

  it("reads no usage from any other event, nor chat's prompt_tokens", () => {
    expect(RESPONSES_DIALECT.usage({ ...completed, type: "response.in_progress" })).toBeNull();
    expect(RESPONSES_DIALECT.usage({ object: "response", usage: { prompt_tokens: 1, total_tokens: 1 } })).toBeNull();
  });

  it("ends at response.completed or response.incomplete only", () => {
    expect(RESPONSES_DIALECT.isLast(completed)).toBe(true);
    expect(RESPONSES_DIALECT.isLast({ type: "response.incomplete" })).toBe(true);
    expect(RESPONSES_DIALECT.isLast({ type: "response.output_text.done" })).toBe(false);
    expect(RESPONSES_DIALECT.isMarker("[DONE]")).toBe(false);
  });

  it("counts deltas and named calls, never the events that repeat them", () => {
    const text = RESPONSES_DIALECT.outputs({ type: "response.output_text.delta", output_index: 0, delta: "héllo" });
    expect(text).toEqual([{ index: 0, textBytes: 6, logprobTokens: 0, toolCallIndexes: [] }]);
    const call = RESPONSES_DIALECT.outputs({
      type: "response.output_item.added",
      output_index: 1,
      item: { type: "function_call", name: "get_weather", arguments: "" },
    });
    expect(call).toEqual([{ index: 0, textBytes: 11, logprobTokens: 0, toolCallIndexes: [1] }]);
    const args = RESPONSES_DIALECT.outputs({ type: "response.function_call_arguments.delta", delta: '{"a":1}' });
    expect(args[0]?.textBytes).toBe(7);
    expect(RESPONSES_DIALECT.outputs({ type: "response.output_text.done", text: "héllo" })).toEqual([]);
    expect(RESPONSES_DIALECT.outputs(completed)).toEqual([]);
    expect(text[0] && chunkTokens(text[0])).toBe(1);
  });

  it("counts a whole Response's output items", () => {
    const whole = {
      object: "response",
      output: [
        { type: "reasoning", summary: [{ type: "summary_text", text: "hm" }] },
        { type: "message", content: [{ type: "output_text", text: "hi", logprobs: [{}, {}] }] },
        { type: "function_call", name: "f", arguments: "{}" },
      ],
    };
    expect(RESPONSES_DIALECT.outputs(whole)).toEqual([
      { index: 0, textBytes: 7, logprobTokens: 2, toolCallIndexes: [2] },
    ]);
  });

  it("takes error events for errors and a chat chunk for no event at all", () => {
    expect(RESPONSES_DIALECT.isError({ type: "error", message: "x" })).toBe(true);
    expect(RESPONSES_DIALECT.isError({ type: "response.failed", response: {} })).toBe(true);
    expect(RESPONSES_DIALECT.isError({ error: { message: "x" } })).toBe(true);
    expect(RESPONSES_DIALECT.isWellFormed({ object: "chat.completion.chunk", choices: [] })).toBe(false);
    expect(RESPONSES_DIALECT.isWellFormed({ type: "response.created" })).toBe(true);
  });
});

describe("CHAT_DIALECT", () => {
  it("ends at [DONE] and reads chat usage", () => {
    expect(CHAT_DIALECT.isMarker("[DONE]")).toBe(true);
    expect(CHAT_DIALECT.usage({ choices: [], usage: { prompt_tokens: 3, total_tokens: 5 } })).toEqual({
      prompt_tokens: 3,
      completion_tokens: 2,
    });
    expect(CHAT_DIALECT.isError({ error: { message: "x" } })).toBe(true);
    expect(CHAT_DIALECT.isLast(completed)).toBe(false);
  });
});
