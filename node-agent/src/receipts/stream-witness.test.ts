import { RESPONSES_DIALECT, SseDecoder, StreamDigest } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { StreamWitness } from "./stream-witness.js";

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const MiB = 1024 * 1024;

function witness(chunks: readonly string[]): ReturnType<StreamWitness["end"]> {
  const w = new StreamWitness();
  for (const chunk of chunks) w.push(enc(chunk));
  return w.end();
}

function digestOf(payloads: readonly string[]): string {
  const d = new StreamDigest();
  for (const p of payloads) d.add(p);
  return d.finish();
}

describe("StreamWitness", () => {
  it("digests every data payload in order and keeps the last usage, however the bytes are split", () => {
    const stream =
      'data: {"n":1,"usage":null}\r\n\r\n: ping\r\n\r\ndata: {"usage":{"prompt_tokens":1,"total_tokens":1}}\r\n\r\ndata: {"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}\r\n\r\ndata: [DONE]\r\n\r\n';
    const whole = witness([stream]);
    const bytewise = witness([...stream]);
    const expected = {
      usage: { prompt_tokens: 4, completion_tokens: 6 },
      bodyDigest: digestOf([
        '{"n":1,"usage":null}',
        '{"usage":{"prompt_tokens":1,"total_tokens":1}}',
        '{"usage":{"prompt_tokens":4,"completion_tokens":6,"total_tokens":10}}',
        "[DONE]",
      ]),
    };
    expect(whole).toEqual(expected);
    expect(bytewise).toEqual(expected);
  });

  it.each([
    ["without usage", ['data: {"n":1}\n\n', "data: [DONE]\n\n"]],
    ["without [DONE]", ['data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n']],
    [
      "with its last event unterminated",
      ['data: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n', "data: [DONE]\n"],
    ],
  ])("sees no receipt in a stream %s", (_, chunks) => {
    expect(witness(chunks)).toBeNull();
  });

  it("stops witnessing, so signs nothing, once more than 1 MiB waits for an event's blank line", () => {
    const line = `data: ${"x".repeat(64 * 1024)}`;
    const tail = [
      '\n\ndata: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}\n\n',
      "data: [DONE]\n\n",
    ];
    const chunks = (bytes: number): string[] => [
      ...Array.from({ length: Math.ceil(bytes / line.length) }, () => line),
      ...tail,
    ];
    // Just under the limit the event is still witnessed; past it, the answer gets no receipt even once it ends well.
    expect(witness(chunks(MiB - line.length))).not.toBeNull();
    expect(witness(chunks(MiB + 1))).toBeNull();
  });
});

describe("StreamWitness.stop", () => {
  const chunk = (delta: object, extra: object = {}): string =>
    `data: ${JSON.stringify({ choices: [{ index: 0, delta }], ...extra })}\n\n`;

  function stopped(chunks: readonly string[]): ReturnType<StreamWitness["stop"]> {
    const w = new StreamWitness();
    for (const c of chunks) w.push(enc(c));
    return w.stop();
  }

  it("counts the tokens the chunks carried: one per chunk with text or a tool call, or its logprob entries", () => {
    const chunks = [
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "Hel" }),
      chunk({ content: "lo" }),
      chunk({ tool_calls: [{ index: 0, id: "call_1", function: { name: "f", arguments: "" } }] }),
      `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: "ab" }, logprobs: { content: [{}, {}, {}] } }] })}\n\n`,
      `data: ${JSON.stringify({
        choices: [
          { index: 0, delta: { content: "x" } },
          { index: 1, delta: { content: "y" } },
        ],
      })}\n\n`,
      "data: not json\n\n",
      ": keep-alive\n\n",
    ];
    const result = stopped(chunks);
    expect(result.closer).toBe("");
    expect(result.seen).toEqual({
      usage: null,
      relayedTokens: 0 + 1 + 1 + 1 + 3 + 2,
      bodyDigest: digestOf(chunks.slice(0, 7).map((c) => c.slice("data: ".length, -2))),
    });
  });

  it("keeps the last usage reported during the stream", () => {
    const result = stopped([
      chunk({ content: "a" }, { usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }),
      chunk({ content: "b" }, { usage: null }),
    ]);
    expect(result.seen).toMatchObject({ usage: { prompt_tokens: 5, completion_tokens: 1 }, relayedTokens: 2 });
  });

  it.each([
    ["inside a line", 'data: {"a', "\n\n"],
    ["after a line end", 'data: {"a":1}\n', "\n"],
    ["after a CR line end", 'data: {"a":1}\r', "\n\n"],
    ["after a CRLF line end", 'data: {"a":1}\r\n', "\n"],
    ["after a line end and a CR", 'data: {"a":1}\n\r', "\n"],
  ])("closes an event it stops %s with just what ends it, and digests its payload", (_, partial, closer) => {
    const result = stopped([chunk({ content: "a" }), partial]);
    expect(result.closer).toBe(closer);
    const decoder = new SseDecoder();
    const events = decoder.push(chunk({ content: "a" }) + partial + closer + ": meshgate-receipt x\n\n");
    expect(decoder.buffered).toBe(0);
    expect(events.at(-1)!.raw).toBe(": meshgate-receipt x\n\n");
    expect(result.seen!.bodyDigest).toBe(digestOf(events.flatMap((e) => (e.data === null ? [] : [e.data]))));
  });

  it("gives no receipt for a stream it had given up on, and still closes the event", () => {
    const result = stopped([`data: ${"x".repeat(MiB + 10)}`]);
    expect(result).toEqual({ closer: "\n\n", seen: null });
  });
});

describe("StreamWitness of a Responses stream", () => {
  const ev = (value: { type: string } & Record<string, unknown>): string =>
    `event: ${value.type}\ndata: ${JSON.stringify(value)}\n\n`;
  const deltas = [
    ev({ type: "response.created", response: { object: "response" } }),
    ev({ type: "response.output_text.delta", output_index: 0, delta: "hi" }),
    ev({ type: "response.output_item.added", output_index: 1, item: { type: "function_call", name: "f" } }),
    ev({ type: "response.function_call_arguments.delta", output_index: 1, delta: "{}" }),
  ];
  const completed = ev({
    type: "response.completed",
    response: { object: "response", usage: { input_tokens: 9, output_tokens: 4, total_tokens: 13 } },
  });

  function witnessed(chunks: readonly string[]): StreamWitness {
    const w = new StreamWitness(RESPONSES_DIALECT);
    for (const chunk of chunks) w.push(enc(chunk));
    return w;
  }

  it("ends at response.completed with its usage, and the digest of every event's data", () => {
    const seen = witnessed([...deltas, completed]).end();
    expect(seen?.usage).toEqual({ prompt_tokens: 9, completion_tokens: 4 });
    const decoder = new SseDecoder();
    const payloads = decoder.push([...deltas, completed].join("")).flatMap((e) => (e.data === null ? [] : [e.data]));
    expect(seen?.bodyDigest).toBe(digestOf(payloads));
  });

  it("signs nothing for a stream without its last event, nor for chat's [DONE] in its place", () => {
    expect(witnessed(deltas).end()).toBeNull();
    expect(witnessed([...deltas, "data: [DONE]\n\n"]).end()).toBeNull();
  });

  it("counts a stopped stream's tokens by its deltas and named calls", () => {
    expect(witnessed(deltas).stop().seen?.relayedTokens).toBe(3);
  });
});
