// What a request's worst case (token-bounds.ts) costs at the price of the node about to be asked, plus the gateway's
// fee: what a budget reserves before any node is asked.
import { clientCost, nodeAmount, type Price } from "@meshgate/schemas";
import { invalid, ok, refuse, type Invalid, type Misconfigured, type Result } from "../lib/refusal.js";
import type { TokenLimits } from "./token-bounds.js";

/** No model generates more in one answer; a larger cap is refused (for keys with limits) rather than reserved for. */
export const MAX_COMPLETION_TOKENS = 10_000_000;

/** A fair guess at the prompt tokens (about four bytes per token), for the tokens-per-minute limit. */
export function likelyPromptTokens(bodyBytes: number): number {
  return Math.ceil(bodyBytes / 4);
}

/** A key with limits can't reserve for more than MAX_COMPLETION_TOKENS: such a request is refused. */
export function tooLargeToReserve(): Invalid {
  return invalid(
    "max_tokens",
    `max_tokens (times n or best_of) may be at most ${MAX_COMPLETION_TOKENS} for a key with a budget or rate limits.`,
  );
}

/** The most a request can cost at `price` (micro-units), fee included. */
export function worstCaseCost(worst: TokenLimits, price: Price, feeBps: number): number {
  return clientCost(
    nodeAmount({ prompt_tokens: worst.promptTokens, completion_tokens: worst.completionTokens }, price),
    feeBps,
  );
}

/**
 * GATEWAY_FEE_BPS: basis points of the node's amount, 0..10,000 (100%). Anything else is a configuration error,
 * refused as such (nothing is billed at a fee nobody set).
 */
export function feeBps(env: { GATEWAY_FEE_BPS?: string | undefined }): Result<number, Misconfigured> {
  const text = env.GATEWAY_FEE_BPS ?? "";
  if (text.trim() === "") return ok(0);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 10_000) {
    return refuse({
      kind: "misconfigured",
      message: "The gateway's fee is misconfigured.",
      detail: `GATEWAY_FEE_BPS must be an integer from 0 to 10000, got ${JSON.stringify(text)}`,
    });
  }
  return ok(value);
}
