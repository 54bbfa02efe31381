// What every Response object the gateway writes shares, whole or streamed: the request's settings echoed back as
// OpenAI echoes them, the usage and the status read from the node's chat answer.
import type { ResponseObject, ResponseUsage, ResponsesRequest } from "@meshgate/schemas";
import type { Json } from "./json.js";

/** Ids and instants from the caller, so the translation stays pure. */
export interface ResponseIds {
  /** `resp_…`, unique. */
  responseId: string;
  /** Unix seconds the request arrived. */
  createdAt: number;
  /** Unix seconds now (the answer's completed_at). */
  now(): number;
  /** A fresh unique id with OpenAI's prefix (`msg_…`, `fc_…`, `rs_…`). */
  newItemId(prefix: "msg" | "fc" | "rs"): string;
}

/** The Response before any output: status in_progress, no usage. */
export function responseShell(req: ResponsesRequest, ids: ResponseIds, model: string): ResponseObject {
  return {
    id: ids.responseId,
    object: "response",
    created_at: ids.createdAt,
    completed_at: null,
    status: "in_progress",
    background: false,
    error: null,
    incomplete_details: null,
    instructions: req.instructions ?? null,
    max_output_tokens: req.max_output_tokens ?? null,
    metadata: req.metadata ?? {},
    model,
    output: [],
    parallel_tool_calls: req.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: typeof req.reasoning?.effort === "string" ? req.reasoning.effort : null, summary: null },
    store: false,
    temperature: req.temperature ?? null,
    text: { format: (req.text?.format as Json | undefined) ?? { type: "text" } },
    tool_choice: req.tool_choice ?? "auto",
    tools: req.tools ?? [],
    top_logprobs: req.top_logprobs ?? null,
    top_p: req.top_p ?? null,
    truncation: req.truncation ?? "disabled",
    usage: null,
    user: req.user ?? null,
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : 0;
}

/** Chat usage (prompt/completion tokens and their details) in the Responses names; null when the node sent none. */
export function usageFromChat(usage: unknown): ResponseUsage | null {
  if (typeof usage !== "object" || usage === null) return null;
  const u = usage as Json;
  const input = count(u["prompt_tokens"]);
  const output = count(u["completion_tokens"]);
  const inputDetails = (u["prompt_tokens_details"] ?? {}) as Json;
  const outputDetails = (u["completion_tokens_details"] ?? {}) as Json;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(inputDetails["cached_tokens"]) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(outputDetails["reasoning_tokens"]) },
    total_tokens: typeof u["total_tokens"] === "number" ? count(u["total_tokens"]) : input + output,
  };
}

/** How a chat answer's finish_reason ends the Response: cut by the cap or a filter is `incomplete`, anything else done. */
export function finishFromChat(
  finishReason: unknown,
): Pick<ResponseObject, "status" | "incomplete_details"> & { itemStatus: "completed" | "incomplete" } {
  if (finishReason === "length") {
    return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, itemStatus: "incomplete" };
  }
  if (finishReason === "content_filter") {
    return { status: "incomplete", incomplete_details: { reason: "content_filter" }, itemStatus: "incomplete" };
  }
  return { status: "completed", incomplete_details: null, itemStatus: "completed" };
}

/** A node's reasoning text, under either name servers use: `reasoning_content` (llama.cpp, DeepSeek, older vLLM) or
 * `reasoning` (vLLM since 0.9). */
export function reasoningFromChat(message: Json): string {
  const text = message["reasoning_content"] ?? message["reasoning"];
  return typeof text === "string" ? text : "";
}
