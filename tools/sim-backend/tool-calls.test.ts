import { describe, expect, it } from "vitest";
import { chatCompletion } from "./chat.js";

const weather = {
  type: "function",
  function: {
    name: "get_weather",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, days: { type: "integer" }, unit: { enum: ["c", "f"] } },
    },
  },
};
const ask = [{ role: "user", content: "weather in Paris?" }];

describe("the simulated backend's tool calls", () => {
  it("calls the offered tool with arguments of its schema's types, then answers in text after the result", () => {
    const first = chatCompletion({ model: "m", messages: ask, tools: [weather] }, "m");
    expect(first.kind).toBe("json");
    const body = (first as { body: { choices: { message: { tool_calls: unknown[] }; finish_reason: string }[] } }).body;
    expect(body.choices[0]!.finish_reason).toBe("tool_calls");
    expect(body.choices[0]!.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call-/),
        type: "function",
        function: { name: "get_weather", arguments: '{"city":"city-value","days":1,"unit":"c"}' },
      },
    ]);
    const after = chatCompletion(
      {
        model: "m",
        tools: [weather],
        messages: [
          ...ask,
          { role: "assistant", content: null, tool_calls: body.choices[0]!.message.tool_calls },
          { role: "tool", tool_call_id: "x", content: "sunny" },
        ],
      },
      "m",
    );
    const text = (after as { body: { choices: { message: { content: string }; finish_reason: string }[] } }).body;
    expect(text.choices[0]!.finish_reason).toBe("stop");
    expect(text.choices[0]!.message.content).toBeTruthy();
  });

  it("does not call a tool when tool_choice is none, and calls the named one", () => {
    const none = chatCompletion({ model: "m", messages: ask, tools: [weather], tool_choice: "none" }, "m");
    expect(JSON.stringify(none)).not.toContain("tool_calls");
    const other = { type: "function", function: { name: "other", parameters: { type: "object" } } };
    const named = chatCompletion(
      {
        model: "m",
        messages: ask,
        tools: [weather, other],
        tool_choice: { type: "function", function: { name: "other" } },
      },
      "m",
    );
    expect(JSON.stringify(named)).toContain('"name":"other"');
  });

  it("streams the arguments in fragments that join to the whole, with usage last when asked", () => {
    const streamed = chatCompletion(
      { model: "m", messages: ask, tools: [weather], stream: true, stream_options: { include_usage: true } },
      "m",
    );
    expect(streamed.kind).toBe("stream");
    const events = (
      streamed as {
        events: { choices: { delta: { tool_calls?: { function: { arguments: string } }[] } }[]; usage?: unknown }[];
      }
    ).events;
    const args = events
      .flatMap((e) => e.choices.flatMap((c) => c.delta.tool_calls ?? []))
      .map((t) => t.function.arguments);
    expect(args.length).toBeGreaterThan(2);
    expect(JSON.parse(args.join(""))).toEqual({ city: "city-value", days: 1, unit: "c" });
    expect(events.at(-1)!.usage).toMatchObject({ completion_tokens: expect.any(Number) });
  });
});
