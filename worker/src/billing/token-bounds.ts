// The most tokens one answer may be billed for, derived from what the gateway itself saw: the request body (prompt)
// and what the node relayed to the client (completion). A node sets the counts on its receipt; these bound them,
// whatever the node claims, for every key. The worst case a budget reserves before any node is asked is here too.
import type { OutputTally } from "../metering/output-tally.js";
import type { RequestShape } from "./request-shape.js";

/**
 * A chat template's own tokens (role headers, a default system prompt) beyond the body's bytes. Tokens never
 * outnumber the bytes they encode (byte-level BPE spends at least a byte per token), and the JSON around each
 * message already outweighs its template, so this is headroom, not an estimate.
 */
export const PROMPT_TEMPLATE_TOKENS = 256;
/**
 * An image or audio part given by reference is a few bytes in the body but many tokens to the model: up to 16,384
 * for the largest image a vision model reads by default (Qwen2-VL's max_pixels / 28²).
 */
export const MEDIA_PART_TOKENS = 16_384;
/** Tokens that decode to nothing: the end of a completion, a reasoning parser's stripped tags. Per choice. */
export const CHOICE_END_TOKENS = 8;
/** A tool call's template around the name and arguments relayed (`<tool_call>{"name": …, "arguments": …}`). */
export const TOOL_CALL_TOKENS = 32;
/**
 * The context assumed for a model whose node advertises none, when a client sets no cap and a budget must be
 * reserved: the defaults of the servers that do not report theirs (Ollama, llama.cpp, LM Studio) fit in it.
 */
export const DEFAULT_CONTEXT_TOKENS = 32_768;

export interface TokenLimits {
  promptTokens: number;
  completionTokens: number;
}

/** The most prompt tokens a request of this body can hold. */
export function promptBound(bodyBytes: number, shape: RequestShape): number {
  return bodyBytes + PROMPT_TEMPLATE_TOKENS + MEDIA_PART_TOKENS * shape.mediaParts;
}

/**
 * The most completion tokens an answer may be billed for, given what was relayed: every token is at least a byte of
 * text relayed (or a log-probability entry, when asked for), apart from a few per choice and per tool call; never
 * more than the client's cap, nor the node's own context length, per choice.
 */
export function completionBound(relayed: OutputTally, shape: RequestShape, contextLength: number | null): number {
  if (!shape.generates) return 0;
  const seen =
    relayed.textBytes + (shape.logprobs ? relayed.logprobTokens : 0) + TOOL_CALL_TOKENS * relayed.toolCalls + CHOICE_END_TOKENS * shape.choices;
  const limits = [seen];
  if (shape.cap !== null) limits.push(shape.cap * shape.choices);
  if (contextLength !== null) limits.push(contextLength * shape.choices);
  return Math.min(...limits);
}

/**
 * What a budget reserves before asking a node: the prompt bound, and per choice the client's cap, else the node's
 * context length (no answer is longer), else DEFAULT_CONTEXT_TOKENS.
 */
export function worstCase(bodyBytes: number, shape: RequestShape, contextLength: number | null): TokenLimits {
  const perChoice = shape.cap ?? contextLength ?? DEFAULT_CONTEXT_TOKENS;
  return { promptTokens: promptBound(bodyBytes, shape), completionTokens: shape.generates ? perChoice * shape.choices : 0 };
}
