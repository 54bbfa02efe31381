import { ChatCompletionRequestSchema, ResponsesRequestSchema } from "@meshgate/schemas";
import { describe, expect, it } from "vitest";
import { refusalHttpError } from "../http/refusal.js";
import { chatRequestFrom } from "./chat-request.js";
import { functionCallItemId, messageItemId } from "./item-ids.js";

// Request shapes from OpenAI's API reference (Create a model response, function calling, structured outputs, images)
// and from what the AI SDK's OpenAI provider (@ai-sdk/openai 3.0.141, convertToOpenAIResponsesInput) sends.

function translate(body: Record<string, unknown>) {
  return chatRequestFrom(ResponsesRequestSchema.parse({ model: "gpt-4.1", ...body }));
}

function chat(body: Record<string, unknown>): Record<string, unknown> {
  const result = translate(body);
  if (!result.ok) throw new Error(`refused: ${result.refusal.message}`);
  // Whatever the node is asked must pass the gateway's own chat checks, which the request path applies next.
  expect(ChatCompletionRequestSchema.safeParse(result.value).error).toBeUndefined();
  return result.value;
}

function refusal(body: Record<string, unknown>) {
  const result = translate(body);
  if (result.ok) throw new Error("expected a refusal");
  return result.refusal;
}

describe("chatRequestFrom: what the node is asked", () => {
  it("a string input with instructions is a system and a user message; settings pass on, metadata does not", () => {
    expect(
      chat({
        instructions: "Talk like a pirate.",
        input: "Are semicolons optional in JavaScript?",
        temperature: 0.2,
        top_p: 0.9,
        max_output_tokens: 300,
        parallel_tool_calls: false,
        user: "user-1234",
        metadata: { session: "abc" },
        store: true,
        truncation: "disabled",
      }),
    ).toStrictEqual({
      model: "gpt-4.1",
      messages: [
        { role: "system", content: "Talk like a pirate." },
        { role: "user", content: "Are semicolons optional in JavaScript?" },
      ],
      temperature: 0.2,
      top_p: 0.9,
      parallel_tool_calls: false,
      user: "user-1234",
      max_tokens: 300,
    });
  });

  it("a stream asks the node for usage too", () => {
    const body = chat({ input: "hi", stream: true });
    expect(body["stream"]).toBe(true);
    expect(body["stream_options"]).toStrictEqual({ include_usage: true });
    expect(chat({ input: "hi" })).not.toHaveProperty("stream");
  });

  it("messages of every role, as typed items or easy messages; developer becomes system", () => {
    const body = chat({
      input: [
        { role: "developer", content: "Be brief." },
        { type: "message", role: "system", content: [{ type: "input_text", text: "Answer in French." }] },
        {
          role: "user",
          content: [
            { type: "input_text", text: "Hello" },
            { type: "input_text", text: " there" },
          ],
        },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Bonjour", annotations: [] }] },
        { role: "assistant", content: "Encore?" },
      ],
    });
    expect(body["messages"]).toStrictEqual([
      { role: "system", content: "Be brief." },
      { role: "system", content: "Answer in French." },
      { role: "user", content: "Hello there" },
      { role: "assistant", content: "Bonjour" },
      { role: "assistant", content: "Encore?" },
    ]);
  });

  it("images by URL or data URL, with their detail, as image_url parts", () => {
    const body = chat({
      input: [
        {
          role: "user",
          content: [
            { type: "input_text", text: "what's in this image?" },
            { type: "input_image", image_url: "https://example.com/cat.jpg", detail: "low" },
            { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=" },
          ],
        },
      ],
    });
    expect(body["messages"]).toStrictEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "what's in this image?" },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "low" } },
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        ],
      },
    ]);
  });

  it("a tool loop: parallel function calls join one assistant message, their outputs become tool messages", () => {
    const body = chat({
      input: [
        { role: "user", content: "Weather in Paris and Bogotá?" },
        { type: "reasoning", id: "rs_1", summary: [] },
        { role: "assistant", content: [{ type: "output_text", text: "Checking both." }] },
        { type: "function_call", id: "fc_1", call_id: "call_a", name: "get_weather", arguments: '{"city":"Paris"}' },
        {
          type: "function_call",
          call_id: "call_b",
          name: "get_weather",
          arguments: '{"city":"Bogotá"}',
          status: "completed",
        },
        { type: "function_call_output", call_id: "call_a", output: '{"temp":14}' },
        {
          type: "function_call_output",
          call_id: "call_b",
          output: [
            { type: "input_text", text: '{"temp":' },
            { type: "input_text", text: "22}" },
          ],
        },
      ],
    });
    expect(body["messages"]).toStrictEqual([
      { role: "user", content: "Weather in Paris and Bogotá?" },
      {
        role: "assistant",
        content: "Checking both.",
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
          { id: "call_b", type: "function", function: { name: "get_weather", arguments: '{"city":"Bogotá"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_a", content: '{"temp":14}' },
      { role: "tool", tool_call_id: "call_b", content: '{"temp":22}' },
    ]);
  });

  it("the assistant's text after its calls joins the message with the calls, so the tool messages follow it", () => {
    const body = chat({
      input: [
        { role: "user", content: "Weather?" },
        { type: "function_call", call_id: "call_a", name: "get_weather", arguments: "{}" },
        { type: "message", role: "assistant", content: [{ type: "output_text", text: "Checking." }] },
        { type: "function_call_output", call_id: "call_a", output: "sunny" },
      ],
    });
    expect(body["messages"]).toStrictEqual([
      { role: "user", content: "Weather?" },
      {
        role: "assistant",
        content: "Checking.",
        tool_calls: [{ id: "call_a", type: "function", function: { name: "get_weather", arguments: "{}" } }],
      },
      { role: "tool", tool_call_id: "call_a", content: "sunny" },
    ]);
  });

  it("function tools, tool_choice, and a json_schema format as chat's", () => {
    const parameters = {
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    };
    const schema = { type: "object", properties: { answer: { type: "string" } }, required: ["answer"] };
    const body = chat({
      input: "hi",
      tools: [{ type: "function", name: "get_weather", description: "Weather now", parameters, strict: true }],
      tool_choice: { type: "function", name: "get_weather" },
      text: { format: { type: "json_schema", name: "answer", schema, strict: true, description: "An answer" } },
    });
    expect(body["tools"]).toStrictEqual([
      { type: "function", function: { name: "get_weather", description: "Weather now", parameters, strict: true } },
    ]);
    expect(body["tool_choice"]).toStrictEqual({ type: "function", function: { name: "get_weather" } });
    expect(body["response_format"]).toStrictEqual({
      type: "json_schema",
      json_schema: { name: "answer", schema, strict: true, description: "An answer" },
    });
    for (const choice of ["auto", "none", "required"])
      expect(chat({ input: "hi", tool_choice: choice })["tool_choice"]).toBe(choice);
    expect(chat({ input: "hi", text: { format: { type: "json_object" } } })["response_format"]).toStrictEqual({
      type: "json_object",
    });
    expect(chat({ input: "hi", text: { format: { type: "text" } } })).not.toHaveProperty("response_format");
  });

  it("top_logprobs, reasoning effort and verbosity in chat's names; routing controls kept as they are", () => {
    const body = chat({
      input: "hi",
      top_logprobs: 3,
      reasoning: { effort: "low", summary: "auto" },
      text: { verbosity: "low" },
      provider: { sort: "latency" },
      models: ["fallback-model"],
    });
    expect(body).toMatchObject({
      logprobs: true,
      top_logprobs: 3,
      reasoning_effort: "low",
      verbosity: "low",
      provider: { sort: "latency" },
      models: ["fallback-model"],
    });
    expect(body).not.toHaveProperty("n");
  });

  it("an item_reference to an item the gateway minted is that item again", () => {
    const messageId = messageItemId([{ type: "output_text", text: "Let me look that up." }])!;
    const callId = functionCallItemId({ call_id: "call_9", name: "lookup", arguments: '{"q":"x"}' })!;
    const body = chat({
      input: [
        { role: "user", content: "Look up x" },
        { type: "item_reference", id: messageId },
        { type: "item_reference", id: callId },
        { type: "function_call_output", call_id: "call_9", output: "found" },
      ],
    });
    expect(body["messages"]).toStrictEqual([
      { role: "user", content: "Look up x" },
      {
        role: "assistant",
        content: "Let me look that up.",
        tool_calls: [{ id: "call_9", type: "function", function: { name: "lookup", arguments: '{"q":"x"}' } }],
      },
      { role: "tool", tool_call_id: "call_9", content: "found" },
    ]);
  });
});

describe("chatRequestFrom: what is refused, naming the field", () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    [
      "previous_response_id",
      { input: "hi", previous_response_id: "resp_1" },
      "previous_response_id",
      /stores no conversation/,
    ],
    ["conversation", { input: "hi", conversation: "conv_1" }, "conversation", /stores no conversation/],
    ["background", { input: "hi", background: true }, "background", /fetched later/],
    ["prompt", { prompt: { id: "pmpt_1" } }, "prompt", /stored prompt/],
    [
      "context_management",
      { input: "hi", context_management: [{ type: "compaction" }] },
      "context_management",
      /state/,
    ],
    ["moderation", { input: "hi", moderation: { model: "omni-moderation-latest" } }, "moderation", /moderation/],
    [
      "web_search",
      { input: "hi", tools: [{ type: "web_search" }] },
      "tools[0].type",
      /web_search tools are not supported/,
    ],
    [
      "file_search",
      { input: "hi", tools: [{ type: "file_search", vector_store_ids: ["vs_1"] }] },
      "tools[0].type",
      /built-in/,
    ],
    [
      "code_interpreter",
      { input: "hi", tools: [{ type: "code_interpreter", container: { type: "auto" } }] },
      "tools[0].type",
      /built-in/,
    ],
    ["computer_use_preview", { input: "hi", tools: [{ type: "computer_use_preview" }] }, "tools[0].type", /built-in/],
    ["image_generation", { input: "hi", tools: [{ type: "image_generation" }] }, "tools[0].type", /built-in/],
    ["mcp", { input: "hi", tools: [{ type: "mcp", server_label: "x" }] }, "tools[0].type", /built-in/],
    ["local_shell", { input: "hi", tools: [{ type: "local_shell" }] }, "tools[0].type", /built-in/],
    [
      "a hosted tool_choice",
      { input: "hi", tool_choice: { type: "web_search_preview" } },
      "tool_choice",
      /tool_choice must be/,
    ],
    [
      "input_file",
      { input: [{ role: "user", content: [{ type: "input_file", file_id: "file-1" }] }] },
      "input[0].content[0].type",
      /input_file parts are not supported/,
    ],
    [
      "an image by file_id",
      { input: [{ role: "user", content: [{ type: "input_image", file_id: "file-1", detail: "auto" }] }] },
      "input[0].content[0].image_url",
      /file_id/,
    ],
    [
      "an item_reference the gateway did not mint",
      {
        input: [
          { role: "user", content: "hi" },
          { type: "item_reference", id: "msg_67ccd2bf17f0819081ff3bb2cf6508e6" },
        ],
      },
      "input[1].id",
      /store: false/,
    ],
    [
      "a forged self-contained id",
      { input: [{ type: "item_reference", id: "msg_mg_bm90IGpzb24" }] },
      "input[0].id",
      /cannot be resolved/,
    ],
    [
      "a built-in tool's item",
      { input: [{ type: "web_search_call", id: "ws_1", status: "completed" }] },
      "input[0].type",
      /web_search_call items/,
    ],
    [
      "a text format of another kind",
      { input: "hi", text: { format: { type: "grammar" } } },
      "text.format.type",
      /json_schema/,
    ],
    ["no input at all", {}, "input", /input is required/],
    [
      "instructions and as many items as input takes: one message more than a chat request holds",
      { instructions: "Be brief.", input: Array.from({ length: 10_000 }, () => ({ role: "user", content: "x" })) },
      "input",
      /at most 10000 messages/,
    ],
  ];
  it.each(cases)("%s", (_name, body, param, message) => {
    const refused = refusal(body);
    expect(refused.param).toBe(param);
    expect(refused.message).toMatch(message);
  });

  it("a refusal is the client's 400 naming the field", () => {
    const error = refusalHttpError(refusal({ input: "hi", previous_response_id: "resp_1" }));
    expect(error.status).toBe(400);
    expect(error.param).toBe("previous_response_id");
    expect(error.code).toBe("unsupported_parameter");
  });

  it("store: true, background: false and null stateful fields are accepted", () => {
    expect(
      chat({ input: "hi", store: true, background: false, previous_response_id: null, conversation: null })["messages"],
    ).toStrictEqual([{ role: "user", content: "hi" }]);
  });
});
