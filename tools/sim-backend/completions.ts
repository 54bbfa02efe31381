// POST /v1/completions: a legacy `text_completion`, streamed as `text_completion` chunks when `stream: true`.
import { ApiError, optionalInt, type JsonObject } from "./http-io.js";
import { buildReply } from "./reply.js";
import { responseId, SYSTEM_FINGERPRINT, unixSeconds, usage, type SimResponse } from "./responses.js";
import { countTokens } from "./tokenizer.js";

interface Prompt {
  text: string;
  tokens: number;
}

/** Accepts every prompt form OpenAI does; token-id prompts count their ids and echo nothing. */
function readPrompt(value: unknown): Prompt {
  if (typeof value === "string") return { text: value, tokens: countTokens(value) };
  if (Array.isArray(value)) {
    const parts = (value as unknown[]).map(readPrompt);
    return { text: parts.map((p) => p.text).join("\n"), tokens: parts.reduce((sum, p) => sum + p.tokens, 0) };
  }
  if (typeof value === "number" && Number.isInteger(value)) return { text: "", tokens: 1 };
  throw new ApiError(400, "`prompt` must be a string, an array of strings, or token ids.", "invalid_request_error", "invalid_value", "prompt");
}

export function textCompletion(body: JsonObject, model: string): SimResponse {
  if (body["prompt"] === undefined) throw new ApiError(400, "`prompt` is required.", "invalid_request_error", "missing_required_parameter", "prompt");
  const prompt = readPrompt(body["prompt"]);
  const reply = buildReply(prompt.text, optionalInt(body, "max_tokens", 0));
  const counts = usage(prompt.tokens, reply.pieces.length);
  const base = { id: responseId("cmpl"), object: "text_completion", created: unixSeconds(), model, system_fingerprint: SYSTEM_FINGERPRINT };

  if (body["stream"] !== true) {
    const choice = { text: reply.text, index: 0, logprobs: null, finish_reason: reply.finishReason };
    return { kind: "json", body: { ...base, choices: [choice], usage: counts } };
  }

  const includeUsage = (body["stream_options"] as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  const chunk = (text: string, finishReason: string | null): object => ({
    ...base,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = reply.pieces.map((piece) => chunk(piece, null));
  events.push(chunk("", reply.finishReason));
  if (includeUsage) events.push({ ...base, choices: [], usage: counts });
  return { kind: "stream", events };
}
