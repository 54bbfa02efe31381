import { ResponsesRequestSchema, type ResponsesRequest } from "@meshgate/schemas";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { chatRequestFrom } from "./chat-request.js";
import { responseFromChat } from "./response-object.js";
import type { ResponseIds } from "./response-shell.js";

// Chat answers in the shape of OpenAI's API reference (the chat completion object, function calling); the Response
// read back by openai-node 6.49's own client, as a user of `client.responses.create` would.

function fixedIds(): ResponseIds {
  let n = 0;
  return { responseId: "resp_test", createdAt: 1741476542, now: () => 1741476545, newItemId: (p) => `${p}_${++n}` };
}

const request = (body: Record<string, unknown>): ResponsesRequest =>
  ResponsesRequestSchema.parse({ model: "gpt-4.1", input: "hi", ...body });

const USAGE = {
  prompt_tokens: 19,
  completion_tokens: 10,
  total_tokens: 29,
  prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 2, audio_tokens: 0 },
};

function completion(message: Record<string, unknown>, finish = "stop"): Record<string, unknown> {
  return {
    id: "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    object: "chat.completion",
    created: 1741570283,
    model: "gpt-4o-2024-08-06",
    choices: [
      { index: 0, message: { role: "assistant", refusal: null, ...message }, logprobs: null, finish_reason: finish },
    ],
    usage: USAGE,
    system_fingerprint: "fp_fc9f1d7035",
  };
}

/** The Response as openai-node's `responses.create` returns it to its caller. */
async function throughSdk(body: unknown): Promise<OpenAI.Responses.Response> {
  const client = new OpenAI({
    apiKey: "mg-test",
    baseURL: "http://gateway.test/v1",
    fetch: async () => new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } }),
  });
  return client.responses.create({ model: "gpt-4.1", input: "hi" });
}

describe("responseFromChat", () => {
  it("a text answer: one completed message, usage in the Responses names, the request's settings echoed", async () => {
    const req = request({
      instructions: "Be kind.",
      temperature: 0.5,
      max_output_tokens: 100,
      metadata: { k: "v" },
      store: true,
    });
    const response = responseFromChat(completion({ content: "Hello! How can I help?" }), req, fixedIds());
    expect(response).toMatchObject({
      id: "resp_test",
      object: "response",
      created_at: 1741476542,
      completed_at: 1741476545,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be kind.",
      max_output_tokens: 100,
      metadata: { k: "v" },
      model: "gpt-4o-2024-08-06",
      parallel_tool_calls: true,
      store: false,
      temperature: 0.5,
      text: { format: { type: "text" } },
      tool_choice: "auto",
      tools: [],
      top_p: null,
      truncation: "disabled",
      usage: {
        input_tokens: 19,
        input_tokens_details: { cached_tokens: 4 },
        output_tokens: 10,
        output_tokens_details: { reasoning_tokens: 2 },
        total_tokens: 29,
      },
    });
    expect(response.output).toMatchObject([
      {
        type: "message",
        status: "completed",
        role: "assistant",
        content: [{ type: "output_text", text: "Hello! How can I help?", annotations: [], logprobs: [] }],
      },
    ]);
    const parsed = await throughSdk(response);
    expect(parsed.output_text).toBe("Hello! How can I help?");
    expect(parsed.usage?.output_tokens).toBe(10);
  });

  it("parallel tool calls: a function_call item each, in order, whose ids bring the calls back in a later request", async () => {
    const calls = [
      {
        id: "call_12345xyz",
        type: "function",
        function: { name: "get_weather", arguments: '{"location":"Paris, France"}' },
      },
      {
        id: "call_67890abc",
        type: "function",
        function: { name: "get_weather", arguments: '{"location":"Bogotá, Colombia"}' },
      },
    ];
    const response = responseFromChat(
      completion({ content: null, tool_calls: calls }, "tool_calls"),
      request({}),
      fixedIds(),
    );
    expect(response.status).toBe("completed");
    expect(
      response.output.map((item) => item.type === "function_call" && [item.call_id, item.name, item.arguments]),
    ).toStrictEqual([
      ["call_12345xyz", "get_weather", '{"location":"Paris, France"}'],
      ["call_67890abc", "get_weather", '{"location":"Bogotá, Colombia"}'],
    ]);
    const parsed = await throughSdk(response);
    expect(parsed.output.map((item) => item.type)).toStrictEqual(["function_call", "function_call"]);
    // The next step of the loop refers to the calls by id: the gateway reads them back out of the ids.
    const next = chatRequestFrom(
      request({
        input: [
          ...response.output.map((item) => ({ type: "item_reference", id: item.id })),
          { type: "function_call_output", call_id: "call_12345xyz", output: "14C" },
          { type: "function_call_output", call_id: "call_67890abc", output: "22C" },
        ],
      }),
    );
    expect(next.ok && next.value.messages[0]).toStrictEqual({
      role: "assistant",
      content: null,
      tool_calls: calls,
    });
  });

  it("a message's id brings its text back, so the AI SDK's item_reference (store on by default) resolves", () => {
    const response = responseFromChat(completion({ content: "Here is the plan." }), request({}), fixedIds());
    const next = chatRequestFrom(
      request({
        input: [
          { role: "user", content: "Plan?" },
          { type: "item_reference", id: response.output[0]!.id },
          { role: "user", content: "Go" },
        ],
      }),
    );
    expect(next.ok && next.value.messages).toStrictEqual([
      { role: "user", content: "Plan?" },
      { role: "assistant", content: "Here is the plan." },
      { role: "user", content: "Go" },
    ]);
  });

  it("openai-node's own loop: the previous output items sent back as input are the assistant's turn again", async () => {
    const calls = [{ id: "call_1", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }];
    const parsed = await throughSdk(
      responseFromChat(completion({ content: "Looking.", tool_calls: calls }, "tool_calls"), request({}), fixedIds()),
    );
    const next = chatRequestFrom(
      request({
        input: [
          { role: "user", content: "x?" },
          ...parsed.output,
          { type: "function_call_output", call_id: "call_1", output: "y" },
        ],
      }),
    );
    expect(next.ok && next.value.messages).toStrictEqual([
      { role: "user", content: "x?" },
      { role: "assistant", content: "Looking.", tool_calls: calls },
      { role: "tool", tool_call_id: "call_1", content: "y" },
    ]);
  });

  it("an answer cut by the cap is incomplete (max_output_tokens), one stopped by a filter incomplete (content_filter)", async () => {
    const cut = responseFromChat(
      completion({ content: "Once upon a" }, "length"),
      request({ max_output_tokens: 3 }),
      fixedIds(),
    );
    expect(cut).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "max_output_tokens" },
      completed_at: null,
    });
    expect(cut.output[0]?.status).toBe("incomplete");
    expect((await throughSdk(cut)).output_text).toBe("Once upon a");
    const filtered = responseFromChat(completion({ content: "" }, "content_filter"), request({}), fixedIds());
    expect(filtered).toMatchObject({
      status: "incomplete",
      incomplete_details: { reason: "content_filter" },
      output: [],
    });
  });

  it("a refusal is a refusal part; logprobs come along when asked for", () => {
    const refused = responseFromChat(
      completion({ content: null, refusal: "I can't help with that." }),
      request({}),
      fixedIds(),
    );
    expect(refused.output[0]).toMatchObject({
      type: "message",
      content: [{ type: "refusal", refusal: "I can't help with that." }],
    });
    const answer = completion({ content: "Hi" });
    (answer["choices"] as Record<string, unknown>[])[0]!["logprobs"] = {
      content: [
        {
          token: "Hi",
          logprob: -0.01,
          bytes: [72, 105],
          top_logprobs: [{ token: "Hello", logprob: -4.2, bytes: null }],
        },
      ],
    };
    const withLogprobs = responseFromChat(answer, request({ top_logprobs: 1 }), fixedIds());
    expect(withLogprobs.output[0]).toMatchObject({
      content: [
        {
          type: "output_text",
          logprobs: [
            {
              token: "Hi",
              logprob: -0.01,
              bytes: [72, 105],
              top_logprobs: [{ token: "Hello", logprob: -4.2, bytes: [] }],
            },
          ],
        },
      ],
    });
  });

  it("the node's reasoning is a reasoning item before the message; a reference to it later is dropped", async () => {
    const response = responseFromChat(
      completion({ reasoning_content: "Simple greeting.", content: "Hello!" }),
      request({}),
      fixedIds(),
    );
    expect(response.output).toMatchObject([
      { type: "reasoning", id: "rs_1", summary: [], content: [{ type: "reasoning_text", text: "Simple greeting." }] },
      { type: "message", content: [{ type: "output_text", text: "Hello!" }] },
    ]);
    expect((await throughSdk(response)).output_text).toBe("Hello!");
    const next = chatRequestFrom(
      request({
        input: [
          ...response.output.map((item) => ({ type: "item_reference", id: item.id })),
          { role: "user", content: "and?" },
        ],
      }),
    );
    expect(next.ok && next.value.messages).toStrictEqual([
      { role: "assistant", content: "Hello!" },
      { role: "user", content: "and?" },
    ]);
  });

  it("an answer too long to carry in its id gets a plain id (a reference to it is refused)", () => {
    const response = responseFromChat(completion({ content: "x".repeat(70_000) }), request({}), fixedIds());
    expect(response.output[0]?.id).toBe("msg_1");
  });
});
