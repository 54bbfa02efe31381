import { ResponsesRequestSchema, type ResponsesEvent } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { ResponsesEventStream } from "./event-stream.js";
import type { ResponseIds } from "./response-shell.js";

// Chunks in the shape of OpenAI's chat completion chunk object and its streamed function calling (parallel calls by
// index, arguments in fragments, usage in a last chunk without choices); the events expected are those of OpenAI's
// Responses streaming reference, in its order.

function fixedIds(): ResponseIds {
  let n = 0;
  return { responseId: "resp_s", createdAt: 1741476542, now: () => 1741476549, newItemId: (p) => `${p}_${++n}` };
}

const req = ResponsesRequestSchema.parse({ model: "gpt-4.1", input: "hi", stream: true });
const HEAD = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1741476542, model: "gpt-4.1-2025-04-14" };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  ...HEAD,
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  usage: null,
});
const usageChunk = { ...HEAD, choices: [], usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 } };
const call = (index: number, fields: Record<string, unknown>) => ({ tool_calls: [{ index, ...fields }] });

function run(chunks: readonly unknown[], end: (s: ResponsesEventStream) => ResponsesEvent[] = (s) => s.end()) {
  const stream = new ResponsesEventStream(req, fixedIds());
  const events = [...stream.start(), ...chunks.flatMap((c) => stream.push(c)), ...end(stream)];
  expect(events.map((e) => e.sequence_number)).toStrictEqual(events.map((_, i) => i));
  return events;
}

/** Each event's type with what it says about items, for comparing whole sequences. */
function outline(events: readonly ResponsesEvent[]): string[] {
  return events.map((e) => {
    const at = "output_index" in e ? ` ${e.output_index}` : "";
    const what = "delta" in e ? ` ${JSON.stringify(e.delta)}` : "item" in e ? ` ${e.item.type} ${e.item.status}` : "";
    return `${e.type}${at}${what}`;
  });
}

describe("ResponsesEventStream", () => {
  it("text then two parallel tool calls, arguments in fragments: OpenAI's events, in order, usage at the end", () => {
    const events = run([
      chunk({ role: "assistant", content: "", refusal: null }),
      chunk({ content: "Checking" }),
      chunk({ content: " both." }),
      chunk(call(0, { id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } })),
      chunk(call(0, { function: { arguments: '{"city":' } })),
      chunk(call(0, { function: { arguments: '"Paris"}' } })),
      chunk(call(1, { id: "call_b", type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } })),
      chunk({}, "tool_calls"),
      usageChunk,
    ]);
    expect(outline(events)).toStrictEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added 0 message in_progress",
      "response.content_part.added 0",
      'response.output_text.delta 0 "Checking"',
      'response.output_text.delta 0 " both."',
      "response.output_text.done 0",
      "response.content_part.done 0",
      "response.output_item.done 0 message completed",
      "response.output_item.added 1 function_call in_progress",
      'response.function_call_arguments.delta 1 "{\\"city\\":"',
      'response.function_call_arguments.delta 1 "\\"Paris\\"}"',
      "response.output_item.added 2 function_call in_progress",
      'response.function_call_arguments.delta 2 "{\\"tz\\":\\"CET\\"}"',
      "response.function_call_arguments.done 1",
      "response.output_item.done 1 function_call completed",
      "response.function_call_arguments.done 2",
      "response.output_item.done 2 function_call completed",
      "response.completed",
    ]);
    expect(events[0]).toMatchObject({
      type: "response.created",
      response: { id: "resp_s", status: "in_progress", output: [], usage: null },
    });
    const completed = events[events.length - 1]!;
    expect(completed).toMatchObject({
      type: "response.completed",
      response: {
        status: "completed",
        completed_at: 1741476549,
        model: "gpt-4.1-2025-04-14",
        store: false,
        usage: { input_tokens: 12, output_tokens: 30, total_tokens: 42 },
        output: [
          {
            type: "message",
            id: "msg_1",
            status: "completed",
            content: [{ type: "output_text", text: "Checking both." }],
          },
          {
            type: "function_call",
            id: "fc_2",
            call_id: "call_a",
            name: "get_weather",
            arguments: '{"city":"Paris"}',
            status: "completed",
          },
          {
            type: "function_call",
            id: "fc_3",
            call_id: "call_b",
            name: "get_time",
            arguments: '{"tz":"CET"}',
            status: "completed",
          },
        ],
      },
    });
    expect(events.find((e) => e.type === "response.output_text.done")).toMatchObject({
      item_id: "msg_1",
      content_index: 0,
      text: "Checking both.",
    });
    expect(events.find((e) => e.type === "response.function_call_arguments.done")).toMatchObject({
      item_id: "fc_2",
      name: "get_weather",
      arguments: '{"city":"Paris"}',
    });
  });

  it("the node's reasoning (reasoning_content or reasoning) is a reasoning item, ended when the answer begins", () => {
    const events = run([
      chunk({ role: "assistant", reasoning_content: "The user" }),
      chunk({ reasoning: " greets me." }),
      chunk({ content: "Hi!" }),
      chunk({}, "stop"),
      usageChunk,
    ]);
    expect(outline(events)).toStrictEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added 0 reasoning in_progress",
      "response.content_part.added 0",
      'response.reasoning_text.delta 0 "The user"',
      'response.reasoning_text.delta 0 " greets me."',
      "response.reasoning_text.done 0",
      "response.content_part.done 0",
      "response.output_item.done 0 reasoning completed",
      "response.output_item.added 1 message in_progress",
      "response.content_part.added 1",
      'response.output_text.delta 1 "Hi!"',
      "response.output_text.done 1",
      "response.content_part.done 1",
      "response.output_item.done 1 message completed",
      "response.completed",
    ]);
    expect(events[events.length - 1]).toMatchObject({
      response: {
        output: [
          {
            type: "reasoning",
            id: "rs_1",
            summary: [],
            content: [{ type: "reasoning_text", text: "The user greets me." }],
          },
          { type: "message", id: "msg_2" },
        ],
      },
    });
  });

  it("an event sent keeps what it said: later text does not change it", () => {
    const events = run([chunk({ content: "a" }), chunk({ content: "b" }), chunk({}, "stop"), usageChunk]);
    expect(events.find((e) => e.type === "response.output_item.added")).toMatchObject({ item: { content: [] } });
    expect(events.find((e) => e.type === "response.content_part.added")).toMatchObject({ part: { text: "" } });
  });

  it("cut by the cap: the items and the response are incomplete, with the reason", () => {
    const events = run([chunk({ content: "Once upon" }), chunk({}, "length"), usageChunk]);
    expect(events.find((e) => e.type === "response.output_item.done")).toMatchObject({
      item: { status: "incomplete" },
    });
    expect(events[events.length - 1]).toMatchObject({
      type: "response.incomplete",
      response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, completed_at: null },
    });
  });

  it("logprobs asked for come with each delta and, whole, with the text's done", () => {
    const token = (t: string, logprob: number) => ({
      token: t,
      logprob,
      bytes: [...new TextEncoder().encode(t)],
      top_logprobs: [],
    });
    const withLogprobs = (content: string, lp: unknown[]) => ({
      ...HEAD,
      choices: [{ index: 0, delta: { content }, logprobs: { content: lp }, finish_reason: null }],
    });
    const events = run([
      withLogprobs("Hi", [token("Hi", -0.1)]),
      withLogprobs("!", [token("!", -0.5)]),
      chunk({}, "stop"),
    ]);
    const deltas = events.filter((e) => e.type === "response.output_text.delta");
    expect(deltas.map((e) => e.logprobs)).toStrictEqual([[token("Hi", -0.1)], [token("!", -0.5)]]);
    expect(events.find((e) => e.type === "response.output_text.done")).toMatchObject({
      text: "Hi!",
      logprobs: [token("Hi", -0.1), token("!", -0.5)],
    });
  });

  it("a refusal streams as a refusal part", () => {
    const events = run([chunk({ refusal: "I can't" }), chunk({ refusal: " help." }), chunk({}, "stop")]);
    expect(outline(events).slice(2, 9)).toStrictEqual([
      "response.output_item.added 0 message in_progress",
      "response.content_part.added 0",
      'response.refusal.delta 0 "I can\'t"',
      'response.refusal.delta 0 " help."',
      "response.refusal.done 0",
      "response.content_part.done 0",
      "response.output_item.done 0 message completed",
    ]);
  });

  it("an error mid-stream: OpenAI's error event, then response.failed with the text so far; nothing after", () => {
    const stream = new ResponsesEventStream(req, fixedIds());
    const before = [...stream.start(), ...stream.push(chunk({ content: "Hel" }))];
    const failed = stream.fail({ message: "node overloaded", type: "server_error", code: "overloaded" });
    expect(failed.map((e) => e.type)).toStrictEqual(["error", "response.failed"]);
    expect(failed[0]).toMatchObject({
      code: "overloaded",
      message: "node overloaded",
      error: { type: "server_error", code: "overloaded", message: "node overloaded" },
      sequence_number: before.length,
    });
    expect(failed[1]).toMatchObject({
      response: {
        status: "failed",
        error: { code: "overloaded", message: "node overloaded" },
        output: [{ content: [{ text: "Hel" }] }],
      },
    });
    expect([
      ...stream.push(chunk({ content: "lo" })),
      ...stream.end(),
      ...stream.fail({ message: "again" }),
    ]).toStrictEqual([]);
  });

  it("a stream that ends before a finish_reason fails: the answer was cut short", () => {
    const events = run([chunk({ content: "Hel" })]);
    expect(events.slice(-2).map((e) => e.type)).toStrictEqual(["error", "response.failed"]);
    expect(events[events.length - 1]).toMatchObject({ response: { error: { code: "server_error" } } });
  });

  it("a finished answer without a usage chunk still completes, with usage null", () => {
    const events = run([chunk({ content: "Hi" }, "stop")]);
    expect(events[events.length - 1]).toMatchObject({ type: "response.completed", response: { usage: null } });
  });

  it("start is sent once, even when the first chunk comes before it is asked for", () => {
    const stream = new ResponsesEventStream(req, fixedIds());
    const events = [...stream.push(chunk({ content: "x" })), ...stream.start()];
    expect(events.filter((e) => e.type === "response.created")).toHaveLength(1);
    expect(events[0]?.type).toBe("response.created");
  });
});
