// The most tokens one answer may be billed for, derived from what the gateway itself saw: the request body (prompt)
// and what the node relayed to the client (completion). A node sets the counts on its receipt; these bound them,
// whatever the node claims, for every key. The worst case a budget reserves before any node is asked is here too.
import type { ChoiceTally, OutputTally } from "../metering/output-tally.js";
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
/**
 * A tool call's template around the name and arguments relayed (`<tool_call>{"name": …, "arguments": …}`), per
 * distinct call of a request that offered tools.
 */
export const TOOL_CALL_TOKENS = 32;
/**
 * The context assumed for a model whose node advertises none: what a budget reserves when a client sets no cap, and
 * the longest answer such a node is paid for. The defaults of the servers that do not report theirs (Ollama,
 * llama.cpp, LM Studio) fit in it; an operator who raised it says so with `--context-length`.
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
 * What a node sent after its client left, counted for it per choice up to this (in the bound's units, a token a byte):
 * what an honest node had on its way before the gateway's cancel reached it (a fraction of a second of output). The
 * rest of what it sends then reaches nobody, so nobody pays for it.
 */
export const AFTER_LEAVE_GRACE = 256;

/** What an answer carried: to its client, and after the client left (nothing, if it stayed). */
export interface AnswerOutput {
  relayed: OutputTally;
  afterLeave: OutputTally;
}

/**
 * What one choice carried that tokens may be billed for: a token is at least a byte of text or a log-probability entry.
 */
function carried(choice: Readonly<ChoiceTally> | undefined, shape: RequestShape): number {
  if (!choice) return 0;
  return (
    choice.textBytes +
    (shape.logprobs ? choice.logprobTokens : 0) +
    (shape.tools ? TOOL_CALL_TOKENS * choice.toolCalls.size : 0)
  );
}

/**
 * The most completion tokens an answer may be billed for, given what was relayed, choice by choice: what the choice
 * carried (plus its end, its stop sequence, and up to `afterLeaveGrace` of what came after the client left), never
 * more than the client's cap nor the node's context length (DEFAULT_CONTEXT_TOKENS when it advertised none). A
 * request asking for output it does not see (shape.hiddenOutput) is bounded by its cap alone.
 */
export function completionBound(
  output: AnswerOutput,
  shape: RequestShape,
  contextLength: number | null,
  afterLeaveGrace = AFTER_LEAVE_GRACE,
): number {
  if (!shape.generates) return 0;
  const perChoiceLimit = Math.min(shape.cap ?? Infinity, contextLength ?? DEFAULT_CONTEXT_TOKENS);
  const choiceBound = (index: number | null): number => {
    const relayed = index === null ? undefined : output.relayed.choice(index);
    const afterLeave = index === null ? undefined : output.afterLeave.choice(index);
    const seen = shape.hiddenOutput !== null ? Infinity : carried(relayed, shape) + CHOICE_END_TOKENS + shape.stopBytes;
    return Math.min(seen + Math.min(carried(afterLeave, shape), afterLeaveGrace), perChoiceLimit);
  };
  // Only the choices something came for are looked at one by one; the rest all have the bound of an empty choice.
  const tallied = new Set(
    [...output.relayed.indexes(), ...output.afterLeave.indexes()].filter((index) => index < shape.choices),
  );
  let bound = (shape.choices - tallied.size) * choiceBound(null);
  for (const index of tallied) bound += choiceBound(index);
  return bound;
}

/**
 * What a budget reserves before asking a node: the prompt bound, and per choice the most completionBound allows (the
 * client's cap, and the node's context length or DEFAULT_CONTEXT_TOKENS), so no bill passes what was reserved.
 */
export function worstCase(bodyBytes: number, shape: RequestShape, contextLength: number | null): TokenLimits {
  const perChoice = Math.min(shape.cap ?? Infinity, contextLength ?? DEFAULT_CONTEXT_TOKENS);
  return {
    promptTokens: promptBound(bodyBytes, shape),
    completionTokens: shape.generates ? perChoice * shape.choices : 0,
  };
}
