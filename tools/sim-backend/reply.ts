// The simulated model's output: a deterministic function of the prompt, so tests can predict it.
import { optionalInt, type JsonObject } from "./http-io.js";
import { words } from "./tokenizer.js";

/** Used when the prompt has no words to echo (empty text, or token-id prompts). */
const FALLBACK_WORDS = ["simulated", "reply", "from", "the", "meshgate", "test", "backend"];
/** Tokens produced when the request does not set a limit. */
export const DEFAULT_REPLY_TOKENS = 16;
/** Upper bound on what one request may ask for, to keep a stray max_tokens from pinning the server. */
export const MAX_REPLY_TOKENS = 8192;

export interface Reply {
  /** Each element is one streamed piece; joined they form the full text. */
  pieces: string[];
  text: string;
  finishReason: "stop" | "length";
}

/**
 * Echoes the prompt's words round-robin. Each piece is exactly one token of the simulated tokenizer, so
 * `completion_tokens` equals `pieces.length` and equals the token count of `text`.
 */
export function buildReply(promptText: string, maxTokens: number | null): Reply {
  const source = words(promptText);
  const vocabulary = source.length > 0 ? source : FALLBACK_WORDS;
  const count = Math.min(maxTokens ?? DEFAULT_REPLY_TOKENS, MAX_REPLY_TOKENS);
  const pieces: string[] = [];
  for (let i = 0; i < count; i++) {
    const word = vocabulary[i % vocabulary.length]!;
    pieces.push(i === 0 ? word : ` ${word}`);
  }
  // An explicit limit is always used up, which is what a real model reports as "length".
  return { pieces, text: pieces.join(""), finishReason: maxTokens === null ? "stop" : "length" };
}

/**
 * The completion cap a request sets, as the servers nodes run read it: llama.cpp's `n_predict` wins over OpenAI's
 * `max_completion_tokens` / `max_tokens` (so a client can ask for more than the cap it shows a gateway).
 */
export function requestedCap(body: JsonObject, min: number): number | null {
  return (
    optionalInt(body, "n_predict", 1) ??
    optionalInt(body, "max_completion_tokens", min) ??
    optionalInt(body, "max_tokens", min)
  );
}

/** `n`: completions per prompt, each one generated (and counted in usage). */
export function choicesPerPrompt(body: JsonObject): number {
  return optionalInt(body, "n", 1) ?? 1;
}
