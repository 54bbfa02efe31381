// Money is integer micro-units (1,000,000 = one unit of the settlement currency, e.g. USDC's base unit) end to end.
// Prices are micro-units per million tokens, so a request's amount is a ratio: computed in BigInt, rounded up once.
import type { Price } from "../heartbeat.js";

const TOKENS_PER_PRICE_UNIT = 1_000_000n;
/** Fees are basis points of what the node is owed: 10,000 = 100%. */
const BPS = 10_000n;

export interface TokenCount {
  prompt_tokens: number;
  completion_tokens: number;
}

export const FREE: Price = { prompt: 0, completion: 0 };

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/**
 * What a node is owed for one answer: tokens × its prices per million, rounded up to a whole micro-unit (a node is
 * never paid less than its price; a request costs at most one micro-unit more than the exact ratio).
 */
export function nodeAmount(tokens: TokenCount, price: Price): number {
  const exact =
    BigInt(tokens.prompt_tokens) * BigInt(price.prompt) + BigInt(tokens.completion_tokens) * BigInt(price.completion);
  return Number(ceilDiv(exact, TOKENS_PER_PRICE_UNIT));
}

/** The gateway's fee on top of a node's amount, rounded up. */
export function gatewayFee(amount: number, feeBps: number): number {
  return Number(ceilDiv(BigInt(amount) * BigInt(feeBps), BPS));
}

/** What the client pays for an answer: the node's amount plus the gateway's fee. */
export function clientCost(amount: number, feeBps: number): number {
  return amount + gatewayFee(amount, feeBps);
}
