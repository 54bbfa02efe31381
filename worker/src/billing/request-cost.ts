// A request's worst case, reserved against its key's budget before any node is asked: an upper bound on the prompt
// (tokens never outnumber the bytes they encode: byte-level BPE tokenizers spend at least one byte per token, and the
// JSON around the messages more than covers a chat template's few tokens per message) and the completion cap, at the
// price of the node about to be asked, plus the gateway's fee.
import { clientCost, nodeAmount, type Price } from "@meshgate/schemas";
import { HttpError } from "../http/http-error.js";

/** No model generates more in one answer; a larger cap is refused (for keys with limits) rather than reserved for. */
export const MAX_COMPLETION_TOKENS = 10_000_000;

/** The most prompt tokens a request body of this many bytes can hold. */
export function worstCasePromptTokens(bodyBytes: number): number {
  return bodyBytes;
}

/** A fair guess at the prompt tokens (about four bytes per token), for the tokens-per-minute limit. */
export function likelyPromptTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

function wholeNumber(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : null;
}

/**
 * The completion cap the client set (per choice): chat's `max_completion_tokens` or the older `max_tokens`,
 * completions' `max_tokens`; null when none. With both, the larger: a server may honour either. Embeddings
 * generate nothing.
 */
export function requestedCompletionCap(body: Record<string, unknown>, generates: boolean): number | null {
  if (!generates) return 0;
  const caps = [wholeNumber(body["max_completion_tokens"]), wholeNumber(body["max_tokens"])].filter((c): c is number => c !== null);
  return caps.length === 0 ? null : Math.max(...caps);
}

/** A key with limits can't reserve for more than MAX_COMPLETION_TOKENS: such a request is refused. */
export function tooLargeToReserve(): HttpError {
  return new HttpError(400, `max_tokens (times n or best_of) may be at most ${MAX_COMPLETION_TOKENS} for a key with a budget or rate limits.`, {
    param: "max_tokens",
    code: "invalid_value",
  });
}

/** How many completions one request generates: `n` choices, or completions' `best_of` (which generates that many). */
export function completionsPerRequest(body: Record<string, unknown>): number {
  const counts = [body["n"], body["best_of"]].map(wholeNumber).filter((c): c is number => c !== null && c > 0);
  return Math.max(1, ...counts);
}

export interface WorstCase {
  promptTokens: number;
  completionTokens: number;
}

/** The most a request can cost at `price` (micro-units), fee included. */
export function worstCaseCost(worst: WorstCase, price: Price, feeBps: number): number {
  return clientCost(nodeAmount({ prompt_tokens: worst.promptTokens, completion_tokens: worst.completionTokens }, price), feeBps);
}

/**
 * GATEWAY_FEE_BPS: basis points of the node's amount, 0..10,000 (100%). Anything else is a configuration error,
 * answered as such (nothing is billed at a fee nobody set).
 */
export function feeBps(env: { GATEWAY_FEE_BPS?: string | undefined }): number {
  const text = env.GATEWAY_FEE_BPS ?? "";
  if (text.trim() === "") return 0;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) {
    console.error(`GATEWAY_FEE_BPS must be an integer from 0 to 10000, got ${JSON.stringify(text)}`);
    throw new HttpError(500, "The gateway's fee is misconfigured.", { code: "gateway_misconfigured" });
  }
  return value;
}
