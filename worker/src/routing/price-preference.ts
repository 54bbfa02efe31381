// Default routing is price-aware: among nodes of similar speed and trust the cheaper wins, and a node priced far above
// its peers for a model gets almost no traffic (unless the client asks for it: provider.sort, only, order). A node's
// price counts like extra latency, relative to what the model's other nodes charge.
import type { Price } from "@meshgate/schemas";

/** One number per price: per-million prompt plus completion rates (both matter; their mix varies by request). */
export function blendedPrice(price: Price | null): number {
  return price ? price.prompt + price.completion : 0;
}

/**
 * What the model's nodes usually charge: the weighted median blended price (many cheap nodes are not moved by one
 * dear one). Each price weighs what its node counts for in routing; weight 0 leaves it out, so identities that cannot
 * take traffic (new, ejected, distrusted) cannot raise the reference for a dear node. All weights 0: a plain median.
 */
export function referencePrice(prices: readonly number[], weights?: readonly number[]): number {
  if (prices.length === 0) return 0;
  const entries = prices.map((price, i) => ({ price, weight: weights ? Math.max(0, weights[i] ?? 0) : 1 }));
  const total = entries.reduce((sum, entry) => sum + entry.weight, 0);
  if (!(total > 0) || !Number.isFinite(total)) return referencePrice(prices);
  entries.sort((a, b) => a.price - b.price);
  let below = 0;
  for (let i = 0; i < entries.length; i++) {
    const { price, weight } = entries[i]!;
    below += weight;
    // Exactly half the weight at or below this price: halfway to the next weighted price, as a plain median does.
    if (below === total / 2)
      return (price + (entries.slice(i + 1).find((entry) => entry.weight > 0)?.price ?? price)) / 2;
    if (below > total / 2) return price;
  }
  return entries[entries.length - 1]?.price ?? 0;
}

/**
 * A node charging nothing costs this much of its latency: cheapness breaks near-ties, it does not buy slow nodes
 * traffic.
 */
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
