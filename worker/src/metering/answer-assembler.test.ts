import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ChatCompletionStream } from "openai/lib/ChatCompletionStream";
import { AnswerAssembler, type AnswerKind } from "./answer-assembler.js";
import { MAX_TOOL_CALLS_PER_CHOICE } from "./output-tally.js";

// The shapes below follow OpenAI's API reference (the chat completion chunk object, streamed function calling) and
// the servers nodes run (vLLM's stop_reason and reasoning_content, llama.cpp's reasoning_content). Where openai-node
// merges a shape the same way, its own accumulator (ChatCompletionStream) is the second opinion.

type Json = Record<string, unknown>;

function assemble(kind: AnswerKind, payloads: readonly unknown[], maxChoices = 1): Json {
  const assembler = new AnswerAssembler(kind, maxChoices);
  for (const payload of payloads) assembler.add(payload);
  return assembler.result();
}

/** openai-node's whole answer for these chunks (it reads newline-delimited JSON from a ReadableStream). */
async function sdkAnswer(chunks: readonly unknown[]): Promise<unknown> {
  const bytes = new TextEncoder().encode(chunks.map((chunk) => `${JSON.stringify(chunk)}\n`).join(""));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
  const answer = await ChatCompletionStream.fromReadableStream(stream).finalChatCompletion();
  // `parsed` is the SDK's structured-output helper, not part of the API's answer.
  return {
    ...answer,
    choices: answer.choices.map(({ message: { parsed: _parsed, ...message }, ...choice }) => ({ ...choice, message })),
  };
}

const HEAD = {
  id: "chatcmpl-123",
  object: "chat.completion.chunk",
  created: 1694268190,
  model: "gpt-4o-mini",
  system_fingerprint: "fp_44709d6fcb",
};
const chatChunk = (choices: unknown[], extra: Json = {}): Json => ({ ...HEAD, choices, ...extra });
const delta = (d: Json, finish: string | null = null, index = 0): Json => ({
  index,
  delta: d,
  logprobs: null,
  finish_reason: finish,
});

const USAGE = {
  prompt_tokens: 82,
  completion_tokens: 17,
  total_tokens: 99,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: {
    reasoning_tokens: 0,
    audio_tokens: 0,
    accepted_prediction_tokens: 0,
    rejected_prediction_tokens: 0,
  },
};

describe("AnswerAssembler: OpenAI's chat shapes", () => {
  it("assembles text, with the include_usage chunk's usage (details and all) and the service tier", async () => {
    const chunks = [
      chatChunk([delta({ role: "assistant", content: "", refusal: null })], { service_tier: "default", usage: null }),
      chatChunk([delta({ content: "Hello" })], { service_tier: "default", usage: null }),
      chatChunk([delta({ content: "! How can I help?" })], { service_tier: "default", usage: null }),
      chatChunk([delta({}, "stop")], { service_tier: "default", usage: null }),
      chatChunk([], { service_tier: "default", usage: USAGE }),
    ];
    const answer = assemble("chat", chunks);
    expect(answer).toStrictEqual({
      id: "chatcmpl-123",
      object: "chat.completion",
      created: 1694268190,
      model: "gpt-4o-mini",
      system_fingerprint: "fp_44709d6fcb",
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: "Hello! How can I help?", refusal: null },
          logprobs: null,
          finish_reason: "stop",
        },
      ],
      service_tier: "default",
      usage: USAGE,
    });
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("merges parallel tool calls split over many chunks by their index, with no index on the calls", async () => {
    // As OpenAI streams them: the first delta of a call has its id, type and name; later ones only argument pieces.
    const call = (index: number, fields: Json): Json => ({ index, ...fields });
    const chunks = [
      chatChunk([
        delta({
          role: "assistant",
          content: null,
          tool_calls: [
            call(0, {
              id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
              type: "function",
              function: { name: "get_weather", arguments: "" },
            }),
          ],
          refusal: null,
        }),
      ]),
      chatChunk([delta({ tool_calls: [call(0, { function: { arguments: '{"loc' } })] })]),
      chatChunk([delta({ tool_calls: [call(0, { function: { arguments: 'ation": "Paris, France"}' } })] })]),
      chatChunk([
        delta({
          tool_calls: [
            call(1, { id: "call_ABCDEF", type: "function", function: { name: "get_weather", arguments: "" } }),
          ],
        }),
      ]),
      // The docs' accumulation example has explicit nulls for what a later delta leaves out.
      chatChunk([
        delta({
          tool_calls: [call(1, { id: null, type: null, function: { name: null, arguments: '{"location": ' } })],
        }),
      ]),
      chatChunk([delta({ tool_calls: [call(1, { function: { arguments: '"Bogotá, Colombia"}' } })] })]),
      chatChunk([delta({}, "tool_calls")]),
    ];
    const answer = assemble("chat", chunks);
    expect(answer["choices"]).toStrictEqual([
      {
        index: 0,
        message: {
          role: "assistant",
          content: null,
          refusal: null,
          tool_calls: [
            {
              id: "call_DdmO9pD3xa9XTPNJ32zg2hcA",
              type: "function",
              function: { name: "get_weather", arguments: '{"location": "Paris, France"}' },
            },
            {
              id: "call_ABCDEF",
              type: "function",
              function: { name: "get_weather", arguments: '{"location": "Bogotá, Colombia"}' },
            },
          ],
        },
        logprobs: null,
        finish_reason: "tool_calls",
      },
    ]);
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("orders tool calls by index whatever order their deltas came in, several calls in one delta", () => {
    const chunks = [
      chatChunk([
        delta({
          tool_calls: [
            { index: 2, id: "c2", type: "function", function: { name: "b", arguments: "{}" } },
            { index: 0, id: "c0", type: "function", function: { name: "a", arguments: "{" } },
          ],
        }),
      ]),
      chatChunk([delta({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }, "tool_calls")]),
    ];
    const calls = (assemble("chat", chunks)["choices"] as Json[])[0]!["message"] as Json;
    expect(calls["tool_calls"]).toStrictEqual([
      { id: "c0", type: "function", function: { name: "a", arguments: "{}" } },
      { id: "c2", type: "function", function: { name: "b", arguments: "{}" } },
    ]);
  });

  it("assembles a refusal, content staying null", async () => {
    const chunks = [
      chatChunk([delta({ role: "assistant", content: null, refusal: "" })]),
      chatChunk([delta({ refusal: "I'm sorry, " })]),
      chatChunk([delta({ refusal: "I can't help with that." })]),
      chatChunk([delta({}, "stop")]),
    ];
    const answer = assemble("chat", chunks);
    expect((answer["choices"] as Json[])[0]!["message"]).toStrictEqual({
      role: "assistant",
      content: null,
      refusal: "I'm sorry, I can't help with that.",
    });
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("concatenates logprobs' content and refusal entries across chunks", async () => {
    const entry = (token: string, logprob: number) => ({
      token,
      logprob,
      bytes: Array.from(new TextEncoder().encode(token)),
      top_logprobs: [{ token, logprob, bytes: null }],
    });
    const chunks = [
      chatChunk([
        {
          index: 0,
          delta: { role: "assistant", content: "" },
          logprobs: { content: [], refusal: null },
          finish_reason: null,
        },
      ]),
      chatChunk([
        {
          index: 0,
          delta: { content: "Hello" },
          logprobs: { content: [entry("Hello", -0.31)], refusal: null },
          finish_reason: null,
        },
      ]),
      chatChunk([
        {
          index: 0,
          delta: { content: "!" },
          logprobs: { content: [entry("!", -0.02)], refusal: null },
          finish_reason: null,
        },
      ]),
      chatChunk([{ index: 0, delta: {}, logprobs: null, finish_reason: "stop" }]),
    ];
    const answer = assemble("chat", chunks);
    expect((answer["choices"] as Json[])[0]!["logprobs"]).toStrictEqual({
      content: [entry("Hello", -0.31), entry("!", -0.02)],
      refusal: null,
    });
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("keeps interleaved choices apart and sorts them by index (n = 3)", async () => {
    const chunks = [
      chatChunk([delta({ role: "assistant", content: "" }, null, 2)]),
      chatChunk([
        delta({ role: "assistant", content: "" }, null, 0),
        delta({ role: "assistant", content: "" }, null, 1),
      ]),
      chatChunk([delta({ content: "c-one" }, null, 2)]),
      chatChunk([delta({ content: "a-one" }, null, 0)]),
      chatChunk([delta({ content: " b-one" }, null, 1), delta({ content: " c-two" }, null, 2)]),
      chatChunk([delta({ content: " a-two" }, null, 0)]),
      chatChunk([delta({}, "length", 1)]),
      chatChunk([delta({}, "stop", 2), delta({}, "stop", 0)]),
      chatChunk([], { usage: USAGE }),
    ];
    const answer = assemble("chat", chunks, 3);
    const summary = (answer["choices"] as Json[]).map((c) => [
      c["index"],
      (c["message"] as Json)["content"],
      c["finish_reason"],
    ]);
    expect(summary).toStrictEqual([
      [0, "a-one a-two", "stop"],
      [1, " b-one", "length"],
      [2, "c-one c-two", "stop"],
    ]);
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("merges a legacy function_call", async () => {
    const chunks = [
      chatChunk([
        delta({ role: "assistant", content: null, function_call: { name: "get_current_weather", arguments: "" } }),
      ]),
      chatChunk([delta({ function_call: { arguments: '{"location":' } })]),
      chatChunk([delta({ function_call: { arguments: '"Boston"}' } })]),
      chatChunk([delta({}, "function_call")]),
    ];
    const answer = assemble("chat", chunks);
    expect((answer["choices"] as Json[])[0]!["message"]).toStrictEqual({
      role: "assistant",
      content: null,
      refusal: null,
      function_call: { name: "get_current_weather", arguments: '{"location":"Boston"}' },
    });
    expect(answer).toEqual(await sdkAnswer(chunks));
  });

  it("keeps vLLM's stop_reason (last non-null) and concatenates reasoning_content / reasoning", () => {
    const vllm = (d: Json, finish: string | null, stop: unknown): Json => ({
      index: 0,
      delta: d,
      logprobs: null,
      finish_reason: finish,
      stop_reason: stop,
    });
    const chunks = [
      chatChunk([vllm({ role: "assistant", content: "" }, null, null)]),
      chatChunk([vllm({ reasoning_content: "The user greets; " }, null, null)]),
      chatChunk([vllm({ reasoning_content: "answer briefly." }, null, null)]),
      chatChunk([vllm({ content: "Hi" }, null, null)]),
      chatChunk([vllm({ content: " there." }, "stop", "</answer>")]),
      chatChunk([vllm({}, null, null)]),
    ];
    const choice = (assemble("chat", chunks)["choices"] as Json[])[0]!;
    expect(choice).toStrictEqual({
      index: 0,
      message: {
        role: "assistant",
        content: "Hi there.",
        refusal: null,
        reasoning_content: "The user greets; answer briefly.",
      },
      logprobs: null,
      finish_reason: "stop",
      stop_reason: "</answer>",
    });
    const named = (
      assemble("chat", [
        chatChunk([delta({ reasoning: "a" })]),
        chatChunk([delta({ reasoning: "b", content: "c" }, "stop")]),
      ])["choices"] as Json[]
    )[0]!;
    expect(named["message"]).toStrictEqual({ role: "assistant", content: "c", refusal: null, reasoning: "ab" });
  });

  it("keeps other fields: top level, choice and delta (last non-null wins), drops stream-only obfuscation", () => {
    const chunks = [
      chatChunk([{ ...delta({ role: "assistant", content: "x", annotations: null }), extra_choice: 1 }], {
        obfuscation: "aB3",
        prompt_logprobs: null,
        kv_transfer_params: null,
      }),
      chatChunk([{ ...delta({ annotations: [{ type: "url_citation" }] }, "stop"), extra_choice: null }], {
        obfuscation: "zz",
        kv_transfer_params: { k: 1 },
      }),
    ];
    const answer = assemble("chat", chunks);
    expect(answer).not.toHaveProperty("obfuscation");
    expect(answer).toMatchObject({ prompt_logprobs: null, kv_transfer_params: { k: 1 } });
    expect((answer["choices"] as Json[])[0]).toStrictEqual({
      index: 0,
      message: { role: "assistant", content: "x", refusal: null, annotations: [{ type: "url_citation" }] },
      logprobs: null,
      finish_reason: "stop",
      extra_choice: 1,
    });
  });

  it("takes the first role, defaults it to assistant, and leaves usage out when none came", () => {
    const answer = assemble("chat", [
      chatChunk([delta({ content: "a" })]),
      chatChunk([delta({ role: "tool", content: "b" }, "stop")]),
    ]);
    expect(answer).not.toHaveProperty("usage");
    expect((answer["choices"] as Json[])[0]!["message"]).toMatchObject({ role: "tool", content: "ab" });
    const defaulted = assemble("chat", [chatChunk([delta({ content: "a" }, "stop")], { usage: null })]);
    expect(defaulted["usage"]).toBeNull();
    expect((defaulted["choices"] as Json[])[0]!["message"]).toMatchObject({ role: "assistant" });
  });

  it("appends streamed content parts, text around them kept as text parts", () => {
    const chunks = [
      chatChunk([delta({ content: "lead " })]),
      chatChunk([delta({ content: [{ type: "thinking", thinking: [{ type: "text", text: "hmm" }] }] })]),
      chatChunk([delta({ content: "an" })]),
      chatChunk([delta({ content: "swer" }, "stop")]),
    ];
    expect(((assemble("chat", chunks)["choices"] as Json[])[0]!["message"] as Json)["content"]).toStrictEqual([
      { type: "text", text: "lead " },
      { type: "thinking", thinking: [{ type: "text", text: "hmm" }] },
      { type: "text", text: "answer" },
    ]);
  });

  it("reports an error envelope and counts what is not an object, merging neither", () => {
    const assembler = new AnswerAssembler("chat", 1);
    assembler.add(chatChunk([delta({ content: "partial" })]));
    assembler.add("not json at all");
    assembler.add({ error: { message: "boom", type: "server_error", param: null, code: null } });
    assembler.add({ error: { message: "second" } });
    expect(assembler.error).toStrictEqual({
      error: { message: "boom", type: "server_error", param: null, code: null },
    });
    expect([assembler.chunks, assembler.ignored]).toStrictEqual([1, 1]);
    expect(assembler.result()).not.toHaveProperty("error");
  });
});

describe("AnswerAssembler: text completions", () => {
  it("concatenates text and the four logprobs arrays, keeps finish_reason and extras", () => {
    const head = { id: "cmpl-7", object: "text_completion", created: 1700000000, model: "gpt-3.5-turbo-instruct" };
    const lp = (token: string, logprob: number, offset: number) => ({
      tokens: [token],
      token_logprobs: [logprob],
      top_logprobs: [{ [token]: logprob }],
      text_offset: [offset],
    });
    const chunks = [
      {
        ...head,
        choices: [{ text: "Hello", index: 0, logprobs: lp("Hello", -0.1, 12), finish_reason: null, stop_reason: null }],
      },
      {
        ...head,
        choices: [
          { text: " world", index: 0, logprobs: lp(" world", -0.4, 17), finish_reason: null, stop_reason: null },
        ],
      },
      { ...head, choices: [{ text: "", index: 0, logprobs: null, finish_reason: "length", stop_reason: null }] },
      { ...head, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
    ];
    expect(assemble("completions", chunks)).toStrictEqual({
      ...head,
      choices: [
        {
          text: "Hello world",
          index: 0,
          logprobs: {
            tokens: ["Hello", " world"],
            token_logprobs: [-0.1, -0.4],
            top_logprobs: [{ Hello: -0.1 }, { " world": -0.4 }],
            text_offset: [12, 17],
          },
          finish_reason: "length",
          stop_reason: null,
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it("names the answer text_completion and gives a choice that came no text an empty one", () => {
    const answer = assemble(
      "completions",
      [
        {
          id: "c",
          object: "bogus",
          choices: [
            { index: 1, finish_reason: "stop" },
            { index: 0, text: "a" },
          ],
        },
      ],
      2,
    );
    expect(answer["object"]).toBe("text_completion");
    expect(answer["choices"]).toStrictEqual([
      { text: "a", index: 0, logprobs: null, finish_reason: null },
      { text: "", index: 1, logprobs: null, finish_reason: "stop" },
    ]);
  });
});

describe("AnswerAssembler: hostile input", () => {
  it(
    "drops choices past those asked for, huge or not; a negative or fractional index is the choice's position, as " +
      "the meter reads it",
    () => {
      const chunks = [
        chatChunk([delta({ content: "far" }, null, 1e9)]),
        chatChunk([delta({ content: "next" }, null, 1)]),
        chatChunk([delta({ content: "neg" }, null, -5), delta({ content: "frac" }, null, 1.5)]),
        chatChunk([{ index: Number.MAX_SAFE_INTEGER + 2, delta: { content: "unsafe" } }]),
      ];
      const answer = assemble("chat", chunks, 2);
      const contents = (answer["choices"] as Json[]).map((c) => [c["index"], (c["message"] as Json)["content"]]);
      expect(contents).toStrictEqual([
        [0, "negunsafe"],
        [1, "nextfrac"],
      ]);
    },
  );

  it("holds at most the meter's bound of tool calls per choice, whatever their indexes", () => {
    const calls = Array.from({ length: 10_000 }, (_, i) => ({
      index: i * 100_003,
      id: `c${i}`,
      type: "function",
      function: { name: "f", arguments: "{}" },
    }));
    const answer = assemble("chat", [
      chatChunk([delta({ tool_calls: calls })]),
      chatChunk([delta({ tool_calls: [{ index: 1e15, function: { arguments: "x" } }] }, "tool_calls")]),
    ]);
    const merged = ((answer["choices"] as Json[])[0]!["message"] as Json)["tool_calls"] as Json[];
    expect(merged).toHaveLength(MAX_TOOL_CALLS_PER_CHOICE);
    expect(merged[0]).toStrictEqual({ id: "c0", type: "function", function: { name: "f", arguments: "{}" } });
    expect(merged.at(-1)!["id"]).toBe(`c${MAX_TOOL_CALLS_PER_CHOICE - 1}`);
  });

  it("ignores junk payloads and wrong types anywhere without throwing", () => {
    const junk: unknown[] = [
      null,
      0,
      -1,
      "x",
      "[DONE]",
      true,
      [],
      [1, 2],
      { choices: "x" },
      { choices: [null, 1, "a", []] },
      chatChunk([{ index: 0, delta: "text" }]),
      chatChunk([{ index: 0, delta: null, message: 7 }]),
      chatChunk([delta({ content: 5, refusal: {}, reasoning_content: [], role: 3 })]),
      chatChunk([delta({ tool_calls: "call" })]),
      chatChunk([delta({ tool_calls: [null, "x", 3, { index: "0", function: "f" }] })]),
      chatChunk([delta({ tool_calls: [{ index: 0, id: 7, type: {}, function: { name: 1, arguments: { a: 1 } } }] })]),
      chatChunk([delta({ function_call: "f" })]),
      chatChunk([delta({ function_call: { name: [], arguments: null } })]),
      chatChunk([{ index: 0, delta: {}, logprobs: "x" }]),
      chatChunk([{ index: 0, delta: {}, logprobs: { content: "x", refusal: 3 } }]),
      chatChunk([{ index: 0, delta: {}, logprobs: [] }]),
      { error: "flat" },
    ];
    for (const kind of ["chat", "completions"] as const) {
      const assembler = new AnswerAssembler(kind, 1);
      for (const value of junk) expect(() => assembler.add(value)).not.toThrow();
      const answer = assembler.result();
      expect(() => JSON.stringify(answer)).not.toThrow();
      expect((answer["choices"] as unknown[]).length).toBeLessThanOrEqual(1);
    }
    const chat = assemble("chat", junk);
    // Wrong-typed fields are ignored; the calls themselves remain, empty: index 0, and position 3 for a string index.
    const empty = { type: "function", function: { name: "", arguments: "" } };
    expect(((chat["choices"] as Json[])[0]!["message"] as Json)["tool_calls"]).toStrictEqual([empty, empty]);
  });

  it("treats __proto__ keys as data: no prototype is set or polluted", () => {
    const payload = JSON.parse(
      '{"__proto__":{"polluted":1},"choices":[{"index":0,"__proto__":{"p":2},"delta":{"content":"a","__proto__":{"p":3},"tool_calls":[{"index":0,"__proto__":{"p":4},"function":{"__proto__":{"p":5}}}]},"logprobs":{"__proto__":{"p":6}}}]}',
    ) as unknown;
    const answer = assemble("chat", [payload]);
    expect(Object.getPrototypeOf(answer)).toBe(Object.prototype);
    expect(({} as Json)["polluted"]).toBeUndefined();
    expect(Object.hasOwn(answer, "__proto__")).toBe(true);
    const choice = (answer["choices"] as Json[])[0]!;
    expect(Object.getPrototypeOf(choice)).toBe(Object.prototype);
    expect(
      Object.hasOwn(choice, "__proto__") &&
        Object.hasOwn(choice["message"] as Json, "__proto__") &&
        Object.hasOwn(choice["logprobs"] as Json, "__proto__"),
    ).toBe(true);
    const call = ((choice["message"] as Json)["tool_calls"] as Json[])[0]!;
    expect(Object.hasOwn(call, "__proto__") && Object.hasOwn(call["function"] as Json, "__proto__")).toBe(true);
  });

  it("appends huge logprob arrays without spreading them onto the stack", () => {
    const big = Array.from({ length: 300_000 }, () => 0);
    const answer = assemble("completions", [
      { choices: [{ index: 0, text: "a", logprobs: { token_logprobs: big } }] },
      { choices: [{ index: 0, text: "b", logprobs: { token_logprobs: big } }] },
    ]);
    expect((((answer["choices"] as Json[])[0]!["logprobs"] as Json)["token_logprobs"] as unknown[]).length).toBe(
      600_000,
    );
  });

  it("assembles 200,000 one-character chunks into the text (pieces joined once)", () => {
    const assembler = new AnswerAssembler("chat", 1);
    for (let i = 0; i < 200_000; i++) assembler.add(chatChunk([delta({ content: "x" })]));
    expect((((assembler.result()["choices"] as Json[])[0]!["message"] as Json)["content"] as string).length).toBe(
      200_000,
    );
  });

  it("never throws on arbitrary JSON, and holds no more choices or tool calls than its bounds", () => {
    const choice = fc.record(
      {
        index: fc.oneof(fc.integer({ min: -3, max: 6 }), fc.jsonValue()),
        delta: fc.jsonValue(),
        text: fc.jsonValue(),
        logprobs: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.jsonValue(),
      fc.record({ choices: fc.array(fc.oneof(choice, fc.jsonValue()), { maxLength: 4 }) }, { requiredKeys: [] }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<AnswerKind>("chat", "completions"),
        fc.integer({ min: 0, max: 3 }),
        fc.array(payload, { maxLength: 12 }),
        (kind, maxChoices, payloads) => {
          const answer = assemble(kind, payloads, maxChoices);
          const choices = answer["choices"] as Json[];
          expect(choices.length).toBeLessThanOrEqual(maxChoices);
          for (const c of choices) expect(c["index"]).toBeLessThan(maxChoices);
          JSON.stringify(answer);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("assembles any split of a text and its tool-call arguments back into them", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string(), { maxLength: 20 }),
        fc.array(fc.string(), { maxLength: 20 }),
        (textPieces, argPieces) => {
          const chunks = [
            ...textPieces.map((piece) => chatChunk([delta({ content: piece })])),
            ...argPieces.map((piece) =>
              chatChunk([delta({ tool_calls: [{ index: 0, function: { arguments: piece } }] })]),
            ),
          ];
          const message = (assemble("chat", chunks)["choices"] as Json[])[0]?.["message"] as Json | undefined;
          if (chunks.length === 0) return;
          expect(message?.["content"]).toBe(textPieces.length > 0 ? textPieces.join("") : null);
          // Past the content check, there is a message.
          if (argPieces.length > 0)
            expect(((message!["tool_calls"] as Json[])[0]!["function"] as Json)["arguments"]).toBe(argPieces.join(""));
        },
      ),
      { numRuns: 200 },
    );
  });
});
