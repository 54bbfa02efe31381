// POST /v1/completions: a legacy `text_completion`, streamed as `text_completion` chunks when `stream: true`.
import { completionBudget } from "./context-window.js";
import { ApiError, type JsonObject } from "./http-io.js";
import { buildReply, choicesPerPrompt, requestedCap } from "./reply.js";
import { responseId, SYSTEM_FINGERPRINT, unixSeconds, usage, type SimResponse } from "./responses.js";
import { countTokens } from "./tokenizer.js";

interface Prompt {
  text: string;
  tokens: number;
}

/** One prompt: text, or token ids (counted, echoing nothing). */
function readOne(value: unknown): Prompt {
  if (typeof value === "string") return { text: value, tokens: countTokens(value) };
  if (Array.isArray(value) && value.every((v) => typeof v === "number" && Number.isInteger(v)))
    return { text: "", tokens: value.length };
  throw new ApiError(
    400,
    "`prompt` must be a string, an array of strings, or token ids.",
    "invalid_request_error",
    "invalid_value",
    "prompt",
  );
}

/** Every prompt form OpenAI accepts: one prompt (a string or a token list), or an array of them, each answered. */
function readPrompts(value: unknown): Prompt[] {
  if (Array.isArray(value) && value.length > 0 && !value.every((v) => typeof v === "number"))
    return (value as unknown[]).map(readOne);
  return [readOne(value)];
}

/** `contextLength`: the model's context, checked per prompt as vLLM does (see context-window.ts); none: no check. */
export function textCompletion(body: JsonObject, model: string, contextLength?: number): SimResponse {
  if (body["prompt"] === undefined)
    throw new ApiError(400, "`prompt` is required.", "invalid_request_error", "missing_required_parameter", "prompt");
  const prompts = readPrompts(body["prompt"]);
  const cap = requestedCap(body, 0);
  const n = choicesPerPrompt(body);
  // Each prompt answered n times, choice index prompt × n + i, as vLLM numbers them.
  const replies = prompts.flatMap((p) =>
    Array.from({ length: n }, () => buildReply(p.text, completionBudget(p.tokens, cap, contextLength))),
  );
  const counts = usage(
    prompts.reduce((sum, p) => sum + p.tokens, 0),
    replies.reduce((sum, r) => sum + r.pieces.length, 0),
  );
  const base = {
    id: responseId("cmpl"),
    object: "text_completion",
    created: unixSeconds(),
    model,
    system_fingerprint: SYSTEM_FINGERPRINT,
  };

  if (body["stream"] !== true) {
    const choices = replies.map((reply, index) => ({
      text: reply.text,
      index,
      logprobs: null,
      finish_reason: reply.finishReason,
    }));
    return { kind: "json", body: { ...base, choices, usage: counts } };
  }

  const includeUsage =
    (body["stream_options"] as { include_usage?: unknown } | null | undefined)?.include_usage === true;
  const chunk = (index: number, text: string, finishReason: string | null): object => ({
    ...base,
    choices: [{ text, index, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const events: object[] = [];
  replies.forEach((reply, index) => {
    for (const piece of reply.pieces) events.push(chunk(index, piece, null));
    events.push(chunk(index, "", reply.finishReason));
  });
  if (includeUsage) events.push({ ...base, choices: [], usage: counts });
  return { kind: "stream", events };
}
