// The node's prices: attached to the models it advertises, and read back when it signs a receipt.
import type { AdvertisedModel, Price } from "@meshgate/schemas";

export interface PricedModels {
  models: AdvertisedModel[];
  /** Priced models the node does not serve: their prices are not advertised. */
  unserved: string[];
}

export function priceModels(models: readonly AdvertisedModel[], prices: ReadonlyMap<string, Price>): PricedModels {
  const priced = models.map((m) => {
    const price = prices.get(m.id);
    return price ? { ...m, price } : m;
  });
  const served = new Set(models.map((m) => m.id));
  return { models: priced, unserved: [...prices.keys()].filter((id) => !served.has(id)) };
}

/** The prices the node advertises, by model: what its receipts charge (a model not in it is free). */
export function advertisedPrices(models: readonly AdvertisedModel[]): Map<string, Price> {
  const prices = new Map<string, Price>();
  for (const m of models) if (m.price) prices.set(m.id, m.price);
  return prices;
}
