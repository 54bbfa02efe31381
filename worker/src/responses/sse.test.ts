import { ResponsesRequestSchema } from "@meshgate/schemas";
import fc from "fast-check";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import type { ResponseIds } from "./response-shell.js";
import { MAX_STREAMED_OUTPUT } from "./event-stream.js";
import { chatToResponsesStream, encodeEvent } from "./sse.js";

// A node's Chat Completions SSE (OpenAI's chunk shapes, with the usage chunk and `data: [DONE]`) through the
// transform, then read by openai-node 6.49's own Responses stream parser, as `client.responses.create({stream: true})`
// and `client.responses.stream(...).finalResponse()` read the gateway's answer.

function fixedIds(): ResponseIds {
  let n = 0;
  return { responseId: "resp_sse", createdAt: 1741476542, now: () => 1741476549, newItemId: (p) => `${p}_${++n}` };
}

const req = ResponsesRequestSchema.parse({ model: "gpt-4.1", input: "hi", stream: true });
const HEAD = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1741476542, model: "gpt-4.1" };
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  data({ ...HEAD, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
const USAGE = data({ ...HEAD, choices: [], usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 } });

const TEXT_STREAM =
  ": keep-alive\n\n" +
  chunk({ role: "assistant", content: "" }) +
  chunk({ content: "Héllo, " }) +
  chunk({ content: "wörld ✓ 🌍" }) +
  chunk({}, "stop") +
  USAGE +
  "data: [DONE]\n\n";

const TOOL_STREAM =
  chunk({
    role: "assistant",
    content: null,
    tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "get_weather", arguments: "" } }],
  }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":"Par' } }] }) +
  chunk({
    tool_calls: [
      { index: 1, id: "call_b", type: "function", function: { name: "get_weather", arguments: '{"city":"Rome"}' } },
    ],
  }) +
  chunk({ tool_calls: [{ index: 0, function: { arguments: 'is"}' } }] }) +
  chunk({}, "tool_calls") +
  USAGE +
  "data: [DONE]\n\n";

const encode = (text: string) => new TextEncoder().encode(text);

/** The transform's output for the node's bytes cut into these pieces. */
async function translate(pieces: readonly Uint8Array[]): Promise<string> {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
  return new Response(source.pipeThrough(chatToResponsesStream(req, fixedIds()))).text();
}

const eventTypesOf = (sse: string): string[] => [...sse.matchAll(/^event: (.*)$/gm)].map((m) => m[1]!);

function cut(bytes: Uint8Array, at: readonly number[]): Uint8Array[] {
  const points = [...new Set(at.map((n) => n % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    pieces.push(bytes.subarray(from, p));
    from = p;
  }
  return pieces;
}

function client(sse: string): OpenAI {
  return new OpenAI({
    apiKey: "mg-test",
    baseURL: "http://gateway.test/v1",
    maxRetries: 0,
    fetch: async () => new Response(sse, { headers: { "content-type": "text/event-stream" } }),
  });
}

describe("encodeEvent", () => {
  it("is OpenAI's framing: the event's type, then its JSON on one data line", () => {
    const text = encodeEvent({
      type: "response.output_text.delta",
      item_id: "msg_1",
      output_index: 0,
      content_index: 0,
      delta: "a\nb",
      logprobs: [],
      sequence_number: 4,
    });
    expect(text).toBe(
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"a\\nb","logprobs":[],"sequence_number":4}\n\n',
    );
  });
});

describe("chatToResponsesStream read by openai-node", () => {
  it("a text answer: the SDK's deltas and its final response", async () => {
    const sse = await translate([encode(TEXT_STREAM)]);
    const stream = client(sse).responses.stream({ model: "gpt-4.1", input: "hi" });
    const deltas: string[] = [];
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas).toStrictEqual(["Héllo, ", "wörld ✓ 🌍"]);
    expect(final.output_text).toBe("Héllo, wörld ✓ 🌍");
    expect(final.status).toBe("completed");
    expect(final.usage).toMatchObject({ input_tokens: 5, output_tokens: 7, total_tokens: 12 });
  });

  it("reasoning: openai-node accumulates the reasoning item's text", async () => {
    const sse = await translate([
      encode(
        chunk({ reasoning_content: "Think" }) +
          chunk({ reasoning_content: "ing." }) +
          chunk({ content: "Done." }, "stop") +
          USAGE,
      ),
    ]);
    const final = await client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse();
    expect(final.output[0]).toMatchObject({
      type: "reasoning",
      content: [{ type: "reasoning_text", text: "Thinking." }],
    });
    expect(final.output_text).toBe("Done.");
  });

  it("parallel tool calls, fragments interleaved: each call whole, in order", async () => {
    const sse = await translate([encode(TOOL_STREAM)]);
    const final = await client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse();
    expect(final.output.map((item) => item.type === "function_call" && [item.call_id, item.arguments])).toStrictEqual([
      ["call_a", '{"city":"Paris"}'],
      ["call_b", '{"city":"Rome"}'],
    ]);
  });

  it("responses.create({stream: true}) yields every event, numbered in order", async () => {
    const sse = await translate([encode(TEXT_STREAM)]);
    const events = [];
    for await (const event of await client(sse).responses.create({ model: "gpt-4.1", input: "hi", stream: true }))
      events.push(event);
    expect(events.map((e) => e.sequence_number)).toStrictEqual(events.map((_, i) => i));
    expect(events[0]?.type).toBe("response.created");
    expect(events[events.length - 1]?.type).toBe("response.completed");
  });

  it("an error chunk mid-stream is raised by the SDK with the node's message", async () => {
    const sse = await translate([
      encode(
        chunk({ content: "Hel" }) +
          data({ error: { message: "the node ran out of memory", type: "server_error", code: null } }),
      ),
    ]);
    expect(sse).toContain("event: error\n");
    expect(sse).toContain("event: response.failed\n");
    await expect(client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse()).rejects.toThrow(
      /the node ran out of memory/,
    );
  });

  it("a node stream that stops without [DONE] or usage still ends the response (failed, raised)", async () => {
    const sse = await translate([encode(chunk({ content: "Hel" }))]);
    expect(sse.endsWith("\n\n")).toBe(true);
    expect(sse).toContain("event: response.failed\n");
    await expect(client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse()).rejects.toThrow(
      /ended before/,
    );
  });

  it("a node event that is not JSON, or too long to read, fails the response with what went wrong", async () => {
    const garbled = await translate([encode(chunk({ content: "Hi" }) + "data: {not json\n\n" + chunk({}, "stop"))]);
    await expect(client(garbled).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse()).rejects.toThrow(
      /not JSON/,
    );
    const endless = await translate([encode(chunk({ content: "Hi" }) + `data: "${"x".repeat(1024 * 1024 + 1)}`)]);
    expect(endless).toContain("too long to read");
    expect(endless.match(/event: response\.failed\n/g)).toHaveLength(1);
  });

  it("a node that streams more output than a Responses stream holds fails it, and what follows is dropped", async () => {
    // The translation keeps the answer to send it whole at the end (the done events, response.completed): a node
    // streaming without end must not grow that without bound.
    const piece = encode(chunk({ content: "x".repeat(64 * 1024) }));
    const pieces = Array.from({ length: (MAX_STREAMED_OUTPUT * 2) / (64 * 1024) }, () => piece);
    const sse = await translate([...pieces, encode(chunk({}, "stop") + USAGE + "data: [DONE]\n\n")]);
    expect(sse.match(/event: response\.failed\n/g)).toHaveLength(1);
    expect(sse).not.toContain("event: response.completed\n");
    expect(sse).toMatch(/"message":"the node's answer is longer than a Responses stream carries/);
    expect(sse.length).toBeLessThan(MAX_STREAMED_OUTPUT * 3);
  });

  it("past the output bound the client's stream ends at once and the node's is cancelled", {
    timeout: 10_000,
  }, async () => {
    const piece = encode(chunk({ content: "x".repeat(64 * 1024) }));
    let cancelled: unknown = null;
    let sent = 0;
    // A node that streams on and never ends by itself.
    const source = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < (MAX_STREAMED_OUTPUT * 2) / (64 * 1024)) controller.enqueue(piece);
        else return new Promise(() => {});
      },
      cancel(reason) {
        cancelled = reason ?? "cancelled";
      },
    });
    const sse = await new Response(source.pipeThrough(chatToResponsesStream(req, fixedIds()))).text();
    expect(sse.endsWith("\n\n")).toBe(true);
    expect(eventTypesOf(sse).slice(-2)).toEqual(["error", "response.failed"]);
    expect(cancelled).not.toBeNull();
  });

  it("a node stream that finished but omits [DONE] completes", async () => {
    const sse = await translate([encode(chunk({ content: "Hi" }) + chunk({}, "stop") + USAGE)]);
    const final = await client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse();
    expect(final.output_text).toBe("Hi");
    expect(final.status).toBe("completed");
  });
});

describe("chatToResponsesStream: bytes split anywhere", () => {
  it("gives the same stream however the node's bytes are cut (at every byte boundary, and at random points)", async () => {
    for (const source of [TEXT_STREAM, TOOL_STREAM]) {
      const bytes = encode(source);
      const whole = await translate([bytes]);
      const everyByte = Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
      expect(await translate(everyByte)).toBe(whole);
      await fc.assert(
        fc.asyncProperty(fc.array(fc.nat(), { maxLength: 12 }), async (at) => {
          expect(await translate(cut(bytes, at))).toBe(whole);
        }),
        { numRuns: 60 },
      );
    }
  });

  it("CRLF line ends and a last event without its blank line are read too", async () => {
    const crlf = TEXT_STREAM.replace(/\n/g, "\r\n").replace(/\r\n\r\n$/, "");
    const sse = await translate([encode(crlf)]);
    const final = await client(sse).responses.stream({ model: "gpt-4.1", input: "hi" }).finalResponse();
    expect(final.output_text).toBe("Héllo, wörld ✓ 🌍");
  });
});

/** Cuts a text into pieces at the given points (by UTF-16 code unit: a server may split anywhere in its tokens). */
function fragments(text: string, at: readonly number[]): string[] {
  const points = [...new Set(at.map((n) => n % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of [...points, text.length]) {
    if (p > from) pieces.push(text.slice(from, p));
    from = p;
  }
  return pieces;
}

describe("chatToResponsesStream: any answer, any fragments", () => {
  it("openai-node's final response holds the node's text and every call's arguments, whole", async () => {
    const answer = fc.record({
      text: fc.string({ unit: "grapheme", maxLength: 40 }),
      textCuts: fc.array(fc.nat(), { maxLength: 6 }),
      calls: fc.array(fc.record({ args: fc.json({ maxDepth: 2 }), cuts: fc.array(fc.nat(), { maxLength: 4 }) }), {
        maxLength: 3,
      }),
    });
    await fc.assert(
      fc.asyncProperty(answer, async ({ text, textCuts, calls }) => {
        let sse = fragments(text, textCuts)
          .map((piece) => chunk({ content: piece }))
          .join("");
        for (const [index, call] of calls.entries()) {
          const head = { index, id: `call_${index}`, type: "function", function: { name: `f${index}`, arguments: "" } };
          sse += chunk({ tool_calls: [head] });
          for (const piece of fragments(call.args, call.cuts)) {
            sse += chunk({ tool_calls: [{ index, function: { arguments: piece } }] });
          }
        }
        sse += chunk({}, calls.length > 0 ? "tool_calls" : "stop") + USAGE + "data: [DONE]\n\n";
        const final = await client(await translate([encode(sse)]))
          .responses.stream({ model: "gpt-4.1", input: "hi" })
          .finalResponse();
        expect(final.status).toBe("completed");
        expect(final.output_text).toBe(text);
        const made = final.output.filter((item) => item.type === "function_call");
        expect(made.map((item) => [item.call_id, item.name, item.arguments])).toStrictEqual(
          calls.map((call, i) => [`call_${i}`, `f${i}`, call.args]),
        );
      }),
      { numRuns: 80 },
    );
  });
});
