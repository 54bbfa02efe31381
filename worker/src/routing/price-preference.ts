// Default routing is price-aware: among nodes of similar speed and trust the cheaper wins, and a node priced far above
// its peers for a model gets almost no traffic (unless the client asks for it: provider.sort, only, order). A node's
// price counts like extra latency, relative to what the model's other nodes charge.
import type { Price } from "@meshgate/schemas";

/** One number per price: per-million prompt plus completion rates (both matter; their mix varies by request). */
export function blendedPrice(price: Price | null): number {
  return price ? price.prompt + price.completion : 0;
}

/** What the model's nodes usually charge: the median blended price (many cheap nodes are not moved by one dear one). */
export function referencePrice(prices: readonly number[]): number {
  if (prices.length === 0) return 0;
  const sorted = [...prices].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A node charging nothing costs this much of its latency: cheapness breaks near-ties, it does not buy slow nodes traffic. */
export const CHEAPEST_FACTOR = 0.8;

/**
 * What a node's price multiplies its routing cost by, from r = its price / the reference: 0.8 + 0.2r up to the
 * reference (so a free node looks 20% faster), ((1 + r) / 2)² above it (twice the usual price: 2.25× the cost; ten
 * times: 30×, which the sampling weight's fourth power makes about a millionth of the draws). Where the reference is
 * 0 (every other node is free) any price counts as 1,000,000 micro-units above it.
 */
export function priceFactor(blended: number, reference: number): number {
  const r = blended / Math.max(reference, 1);
  if (r <= 1) return CHEAPEST_FACTOR + (1 - CHEAPEST_FACTOR) * r;
  const half = (1 + Math.min(r, 1e6)) / 2;
  return half * half;
}
