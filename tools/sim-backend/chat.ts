// POST /v1/chat/completions: a `chat.completion`, or `chat.completion.chunk` events when `stream: true`.
import { ApiError, optionalInt, type JsonObject } from "./http-io.js";
import { buildReply } from "./reply.js";
import { responseId, SYSTEM_FINGERPRINT, unixSeconds, usage, type SimResponse } from "./responses.js";
import { countTokens } from "./tokenizer.js";

/** The text of a message's content: a string, or the text parts of a content-part array. */
function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === "object" && part !== null && "text" in part && typeof part.text === "string") texts.push(part.text);
  }
  return texts.join(" ");
}

function promptText(body: JsonObject): string {
  const messages = body["messages"];
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new ApiError(400, "`messages` must be a non-empty array.", "invalid_request_error", "invalid_value", "messages");
  }
  const texts: string[] = [];
  for (const message of messages as unknown[]) {
    if (typeof message === "object" && message !== null && "content" in message) texts.push(contentText(message.content));
  }
  return texts.join("\n");
}

export function chatCompletion(body: JsonObject, model: string): SimResponse {
  const prompt = promptText(body);
  const maxTokens = optionalInt(body, "max_completion_tokens", 1) ?? optionalInt(body, "max_tokens", 1);
  const reply = buildReply(prompt, maxTokens);
  const counts = usage(countTokens(prompt), reply.pieces.length);
  const base = { id: responseId("chatcmpl"), created: unixSeconds(), model, system_fingerprint: SYSTEM_FINGERPRINT };

  if (body["stream"] !== true) {
    const message = { role: "assistant", content: reply.text, refusal: null };
    const choice = { index: 0, message, logprobs: null, finish_reason: reply.finishReason };
    return { kind: "json", body: { ...base, object: "chat.completion", choices: [choice], usage: counts } };
  }

  const includeUsage = (body["stream_options"] as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  // With include_usage, OpenAI puts `"usage": null` on every chunk and adds one usage chunk with no choices.
  const chunk = (delta: object, finishReason: string | null): object => ({
    ...base,
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = [chunk({ role: "assistant", content: "", refusal: null }, null)];
  for (const piece of reply.pieces) events.push(chunk({ content: piece }, null));
  events.push(chunk({}, reply.finishReason));
  if (includeUsage) events.push({ ...base, object: "chat.completion.chunk", choices: [], usage: counts });
  return { kind: "stream", events };
}
