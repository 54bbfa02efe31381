// A request's worst case, reserved against its key's budget before any node is asked: an upper bound on the prompt
// (tokens never outnumber the bytes they encode: byte-level BPE tokenizers spend at least one byte per token, and the
// JSON around the messages more than covers a chat template's few tokens per message) and the completion cap, at the
// price of the node about to be asked, plus the gateway's fee.
import { clientCost, nodeAmount, type Price } from "@meshgate/schemas";

/** The completion cap a budgeted key's request gets when it names none: its worst case must be finite. */
export const DEFAULT_COMPLETION_CAP = 4_096;

/** The most prompt tokens a request body of this many bytes can hold. */
export function worstCasePromptTokens(bodyBytes: number): number {
  return bodyBytes;
}

/** A fair guess at the prompt tokens (about four bytes per token), for the tokens-per-minute limit. */
export function likelyPromptTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

function positiveInt(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : null;
}

/**
 * The completion cap the client set: chat's `max_completion_tokens` (or the older `max_tokens`), completions'
 * `max_tokens`; null when none. Embeddings generate nothing.
 */
export function requestedCompletionCap(body: Record<string, unknown>, generates: boolean): number | null {
  if (!generates) return 0;
  return positiveInt(body["max_completion_tokens"]) ?? positiveInt(body["max_tokens"]);
}

export interface WorstCase {
  promptTokens: number;
  completionTokens: number;
}

/** The most a request can cost at `price` (micro-units), fee included. */
export function worstCaseCost(worst: WorstCase, price: Price, feeBps: number): number {
  return clientCost(nodeAmount({ prompt_tokens: worst.promptTokens, completion_tokens: worst.completionTokens }, price), feeBps);
}

/** GATEWAY_FEE_BPS: basis points of the node's amount, 0..10,000 (100%); anything else is a configuration error. */
export function feeBps(env: { GATEWAY_FEE_BPS?: string | undefined }): number {
  const text = env.GATEWAY_FEE_BPS ?? "";
  if (text.trim() === "") return 0;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) throw new Error(`GATEWAY_FEE_BPS must be an integer from 0 to 10000, got ${JSON.stringify(text)}`);
  return value;
}
