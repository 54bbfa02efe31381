// POST /v1/chat/completions: a `chat.completion`, or `chat.completion.chunk` events when `stream: true`.
import { completionBudget } from "./context-window.js";
import { ApiError, type JsonObject } from "./http-io.js";
import { buildReply, choicesPerPrompt, requestedCap } from "./reply.js";
import { responseId, SYSTEM_FINGERPRINT, unixSeconds, usage, type SimResponse } from "./responses.js";
import { countTokens } from "./tokenizer.js";
import { argumentFragments, toolCallFor, toolCallTokens, type ToolCall } from "./tool-calls.js";

/** The text of a message's content: a string, or the text parts of a content-part array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string")
      texts.push(part.text);
  }
  return texts.join(" ");
}

function promptText(body: JsonObject): string {
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ApiError(
      400,
      "`messages` must be a non-empty array.",
      "invalid_request_error",
      "invalid_value",
      "messages",
    );
  }
  const texts: string[] = [];
  for (const message of messages as unknown[]) {
    if (typeof message === "object" && message !== null && "content" in message)
      texts.push(contentText(message.content));
  }
  return texts.join("\n");
}

type Base = { id: string; created: number; model: string; system_fingerprint: string };

/** A reply that calls a tool (tool-calls.ts): one choice, finish_reason "tool_calls". */
function toolCallAnswer(body: JsonObject, base: Base, call: ToolCall, promptTokens: number): SimResponse {
  const counts = usage(promptTokens, toolCallTokens(call));
  const toolCall = { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } };
  if (body["stream"] !== true) {
    const message = { role: "assistant", content: null, refusal: null, tool_calls: [toolCall] };
    const choices = [{ index: 0, message, logprobs: null, finish_reason: "tool_calls" }];
    return { kind: "json", body: { ...base, object: "chat.completion", choices, usage: counts } };
  }
  const includeUsage =
    (body["stream_options"] as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  const chunk = (delta: object, finishReason: string | null): object => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const [first, ...rest] = argumentFragments(call.arguments);
  const events: object[] = [
    chunk(
      {
        role: "assistant",
        content: null,
        tool_calls: [{ index: 0, ...toolCall, function: { name: call.name, arguments: first } }],
      },
      null,
    ),
    ...rest.map((fragment) => chunk({ tool_calls: [{ index: 0, function: { arguments: fragment } }] }, null)),
    chunk({}, "tool_calls"),
  ];
  if (includeUsage) events.push({ ...base, object: "chat.completion.chunk", choices: [], usage: counts });
  return { kind: "stream", events };
}

/** `contextLength`: the model's context, checked as vLLM does (see context-window.ts); none: no check. */
export function chatCompletion(body: JsonObject, model: string, contextLength?: number): SimResponse {
  const prompt = promptText(body);
  const promptTokens = countTokens(prompt);
  const call = toolCallFor(body, responseId("call"));
  if (call) {
    const base = { id: responseId("chatcmpl"), created: unixSeconds(), model, system_fingerprint: SYSTEM_FINGERPRINT };
    return toolCallAnswer(body, base, call, promptTokens);
  }
  const budget = completionBudget(promptTokens, requestedCap(body, 1), contextLength);
  const replies = Array.from({ length: choicesPerPrompt(body) }, () => buildReply(prompt, budget));
  const counts = usage(
    promptTokens,
    replies.reduce((sum, r) => sum + r.pieces.length, 0),
  );
  const base = { id: responseId("chatcmpl"), created: unixSeconds(), model, system_fingerprint: SYSTEM_FINGERPRINT };

  if (body["stream"] !== true) {
    const choices = replies.map((reply, index) => ({
      index,
      message: { role: "assistant", content: reply.text, refusal: null },
      logprobs: null,
      finish_reason: reply.finishReason,
    }));
    return { kind: "json", body: { ...base, object: "chat.completion", choices, usage: counts } };
  }

  const includeUsage =
    (body["stream_options"] as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  // With include_usage, OpenAI puts `"usage": null` on every chunk and adds one usage chunk with no choices.
  const chunk = (index: number, delta: object, finishReason: string | null): object => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = [];
  replies.forEach((reply, index) => {
    events.push(chunk(index, { role: "assistant", content: "", refusal: null }, null));
    for (const piece of reply.pieces) events.push(chunk(index, { content: piece }, null));
    events.push(chunk(index, {}, reply.finishReason));
  });
  if (includeUsage) events.push({ ...base, object: "chat.completion.chunk", choices: [], usage: counts });
  return { kind: "stream", events };
}
