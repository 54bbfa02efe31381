// The gateway publishes the most a node may charge (`price_ceilings` in /.well-known/meshgate.json) and refuses
// heartbeats that advertise more, so a node priced above it would run and never be routed to: it refuses to start.
import { ceilingFor, priceWithin, type Price, type PriceCeilings } from "@meshgate/schemas";

export interface PriceOverCeiling {
  model: string;
  price: Price;
  ceiling: Price;
}

/** The advertised prices above the gateway's ceilings; none when the gateway publishes no ceilings. */
export function pricesOverCeiling(
  prices: ReadonlyMap<string, Price>,
  ceilings: PriceCeilings | undefined,
): PriceOverCeiling[] {
  if (!ceilings) return [];
  const over: PriceOverCeiling[] = [];
  for (const [model, price] of prices) {
    const ceiling = ceilingFor(ceilings, model);
    if (!priceWithin(price, ceiling)) over.push({ model, price, ceiling });
  }
  return over;
}

const pair = (p: Price): string => `${p.prompt}:${p.completion}`;

/** Names each model, its price and the ceiling, in --price's own notation so the fix is plain. */
export function priceCeilingMessage(over: readonly PriceOverCeiling[]): string {
  const lines = over.map(
    ({ model, price, ceiling }) =>
      `  ${model}: --price ${model}=${pair(price)} is above the gateway's ceiling of ${pair(ceiling)}`,
  );
  return [
    "prices above the gateway's ceiling (micro-units per million prompt:completion tokens); the gateway refuses " +
      "heartbeats that advertise them:",
    ...lines,
    "Start again with a --price at or below the ceiling for each.",
  ].join("\n");
}
