import { createOpenAI } from "@ai-sdk/openai";
import { ResponsesRequestSchema } from "@meshgate/schemas";
import { generateText, jsonSchema, stepCountIs, streamText, tool } from "ai";
import { describe, expect, it } from "vitest";
import { chatRequestFrom, type ChatRequestBody } from "./chat-request.js";
import { responseFromChat } from "./response-object.js";
import type { ResponseIds } from "./response-shell.js";
import { chatToResponsesStream } from "./sse.js";

// The Vercel AI SDK's OpenAI provider (ai 6.0.333, @ai-sdk/openai 3.0.141: `openai("model")` calls /v1/responses)
// against the translation, with a scripted node behind it: its zod schemas check every Response and event, and its
// tool loop shows what it sends back (with `store` on by default, earlier assistant text as `item_reference`).

type Json = Record<string, unknown>;

// The SDK's warnings are asserted where they matter, not printed.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

/**
 * A node that first reasons, says something and calls `weather`, then answers from the tool's result; asked for at
 * most a few tokens, it stops there.
 */
function nodeMessage(chat: ChatRequestBody): { message: Json; finish: string } {
  if (typeof chat["max_tokens"] === "number") return { message: { content: "It is" }, finish: "length" };
  if (chat.messages.some((m) => m["role"] === "tool"))
    return { message: { content: "It is 14C in Paris." }, finish: "stop" };
  const call = { id: "call_1", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } };
  return {
    message: { reasoning_content: "I need the weather.", content: "Let me check.", tool_calls: [call] },
    finish: "tool_calls",
  };
}

const USAGE = { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };

function nodeStream(chat: ChatRequestBody, failAfterText: boolean): string {
  const { message, finish } = nodeMessage(chat);
  const head = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4.1" };
  const data = (value: Json) => `data: ${JSON.stringify({ ...head, ...value })}\n\n`;
  const delta = (d: Json, f: string | null = null) => data({ choices: [{ index: 0, delta: d, finish_reason: f }] });
  const text = message["content"] as string;
  const reasoning = typeof message["reasoning_content"] === "string" ? [message["reasoning_content"]] : [];
  let sse =
    delta({ role: "assistant", content: "" }) +
    reasoning.map((r) => delta({ reasoning_content: r })).join("") +
    delta({ content: text.slice(0, 4) }) +
    delta({ content: text.slice(4) });
  if (failAfterText)
    return sse + `data: ${JSON.stringify({ error: { message: "node lost its GPU", type: "server_error" } })}\n\n`;
  for (const [index, call] of ((message["tool_calls"] ?? []) as Json[]).entries()) {
    const fn = call["function"] as Json;
    sse += delta({
      tool_calls: [{ index, id: call["id"], type: "function", function: { name: fn["name"], arguments: "" } }],
    });
    sse += delta({ tool_calls: [{ index, function: { arguments: fn["arguments"] } }] });
  }
  return sse + delta({}, finish) + data({ choices: [], usage: USAGE }) + "data: [DONE]\n\n";
}

/** The gateway's translation in front of the scripted node, as the provider's `fetch`; records what the SDK sent. */
function gateway(options: { failAfterText?: boolean } = {}) {
  const sent: Json[] = [];
  let n = 0;
  const fetch = async (_url: unknown, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init?.body)) as Json;
    sent.push(body);
    const req = ResponsesRequestSchema.parse(body);
    const chat = chatRequestFrom(req);
    if (!chat.ok) {
      const { message, param, code } = chat.refusal;
      return Response.json({ error: { message, type: "invalid_request_error", param, code } }, { status: 400 });
    }
    n++;
    const ids: ResponseIds = {
      responseId: `resp_${n}`,
      createdAt: 1741476542,
      now: () => 1741476549,
      newItemId: (p) => `${p}_${n}`,
    };
    if (req.stream !== true) {
      const { message, finish } = nodeMessage(chat.value);
      const answer = {
        object: "chat.completion",
        model: "gpt-4.1",
        choices: [{ index: 0, message, finish_reason: finish }],
        usage: USAGE,
      };
      return Response.json(responseFromChat(answer, req, ids));
    }
    const source = new Response(nodeStream(chat.value, options.failAfterText === true)).body!;
    return new Response(source.pipeThrough(chatToResponsesStream(req, ids)), {
      headers: { "content-type": "text/event-stream" },
    });
  };
  const provider = createOpenAI({ apiKey: "mg-test", baseURL: "http://gateway.test/v1", fetch });
  return { model: provider("gpt-4.1"), sent };
}

const tools = {
  weather: tool({
    description: "The weather in a city",
    inputSchema: jsonSchema<{ city: string }>({
      type: "object",
      properties: { city: { type: "string" } },
      required: ["city"],
    }),
    execute: async () => ({ temp: 14 }),
  }),
};

describe("the AI SDK's OpenAI provider through the translation", () => {
  it("generateText's tool loop with store on (the default): its item_reference to the text resolves", async () => {
    const { model, sent } = gateway();
    const result = await generateText({ model, prompt: "Weather in Paris?", tools, stopWhen: stepCountIs(3) });
    expect(result.text).toBe("It is 14C in Paris.");
    expect(result.steps.map((s) => s.finishReason)).toStrictEqual(["tool-calls", "stop"]);
    expect(result.steps[0]?.toolCalls.map((c) => [c.toolName, c.input])).toStrictEqual([
      ["weather", { city: "Paris" }],
    ]);
    expect(result.totalUsage.inputTokens).toBe(20);
    // Its reasoning comes back as a reference too, which the gateway drops (chat has no place for it).
    expect(sent[1]?.["input"]).toStrictEqual([
      { role: "user", content: [{ type: "input_text", text: "Weather in Paris?" }] },
      { type: "item_reference", id: "rs_1" },
      { type: "item_reference", id: expect.stringMatching(/^msg_mg_/) },
      { type: "function_call", call_id: "call_1", name: "weather", arguments: '{"city":"Paris"}' },
      { type: "function_call_output", call_id: "call_1", output: '{"temp":14}' },
    ]);
  });

  it("streamText's tool loop with store off: text streamed, the call made, the answer completed", async () => {
    const { model } = gateway();
    const result = streamText({
      model,
      prompt: "Weather in Paris?",
      tools,
      stopWhen: stepCountIs(3),
      providerOptions: { openai: { store: false } },
    });
    const deltas: string[] = [];
    for await (const part of result.fullStream) if (part.type === "text-delta") deltas.push(part.text);
    expect(deltas).toStrictEqual(["Let ", "me check.", "It i", "s 14C in Paris."]);
    expect(await result.finishReason).toBe("stop");
    expect((await result.steps)[0]?.toolCalls.map((c) => c.input)).toStrictEqual([{ city: "Paris" }]);
    expect((await result.totalUsage).outputTokens).toBe(10);
    // Without store the SDK leaves out reasoning it cannot send back (it says so); the gateway would drop it anyway.
    expect((await result.steps)[1]?.warnings).toContainEqual(
      expect.objectContaining({ message: expect.stringMatching(/Skipping reasoning/) }),
    );
  });

  it("streamText with store on: a streamed message cannot carry its text in its id, so the next step is refused, saying how to fix it", async () => {
    const { model } = gateway();
    const errors: string[] = [];
    const result = streamText({
      model,
      prompt: "Weather in Paris?",
      tools,
      stopWhen: stepCountIs(3),
      onError: ({ error }) => {
        errors.push(error instanceof Error ? error.message : String(error));
      },
    });
    await result.consumeStream();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/item_reference cannot be resolved.*store: false/);
  });

  it("an answer cut by the cap ends as the AI SDK's length, whole or streamed", async () => {
    const { model } = gateway();
    const whole = await generateText({ model, prompt: "Weather?", maxOutputTokens: 2 });
    expect([whole.text, whole.finishReason]).toStrictEqual(["It is", "length"]);
    const streamed = streamText({ model, prompt: "Weather?", maxOutputTokens: 2 });
    expect([await streamed.text, await streamed.finishReason]).toStrictEqual(["It is", "length"]);
  });

  it("an error from the node mid-stream reaches streamText as an error", async () => {
    const { model } = gateway({ failAfterText: true });
    const errors: string[] = [];
    const result = streamText({
      model,
      prompt: "hi",
      onError: ({ error }) => {
        errors.push(error instanceof Error ? error.message : JSON.stringify(error));
      },
    });
    await result.consumeStream();
    expect(errors.join(" ")).toMatch(/node lost its GPU/);
    expect(await result.finishReason).toBe("error");
  });
});
