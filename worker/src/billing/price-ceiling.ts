// The operator's price ceilings: the most a node may charge per million tokens, per model and by default. A node
// sets its own price, so without a ceiling one stranger could bill a client any amount per token.
import {
  ceilingFor,
  ModelIdSchema,
  priceWithin,
  PriceSchema,
  type AdvertisedModel,
  type Price,
  type PriceCeilings,
} from "@meshgate/schemas";

/**
 * Used when PRICE_CEILINGS names no default: 10 and 40 units of the settlement currency per million prompt and
 * completion tokens, above what any open-weight model is sold for, far below what would make one answer a fortune.
 */
export const DEFAULT_PRICE_CEILING = { prompt: 10_000_000, completion: 40_000_000 } as const;

/** The default's name in PRICE_CEILINGS. */
const DEFAULT_ENTRY = "*";

/**
 * PRICE_CEILINGS: comma-separated `MODEL=PROMPT:COMPLETION` entries (the agent's `--price` form), integer micro-units
 * per million tokens; `*=PROMPT:COMPLETION` is the default for every model not named. Empty: the built-in default.
 * Returns why the text is not that, rather than guess.
 */
export function parsePriceCeilings(text: string | undefined): PriceCeilings | { error: string } {
  const ceilings: PriceCeilings = { default: { ...DEFAULT_PRICE_CEILING }, models: {} };
  const seen = new Set<string>();
  for (const raw of (text ?? "").split(",")) {
    const entry = raw.trim();
    if (entry === "") continue;
    // The last "=": a model id may contain one, a price never does.
    const eq = entry.lastIndexOf("=");
    const model = entry.slice(0, Math.max(eq, 0)).trim();
    const [prompt, completion, extra] = entry.slice(eq + 1).split(":");
    const digits = (s: string | undefined): boolean => s !== undefined && /^\d{1,13}$/.test(s.trim());
    const price = PriceSchema.safeParse({ prompt: Number(prompt), completion: Number(completion) });
    const named = model === DEFAULT_ENTRY || ModelIdSchema.safeParse(model).success;
    if (eq <= 0 || !named || extra !== undefined || !digits(prompt) || !digits(completion) || !price.success) {
      return {
        error: `PRICE_CEILINGS entries must be MODEL=PROMPT:COMPLETION with integers up to 1e12, got ${JSON.stringify(entry)}`,
      };
    }
    if (seen.has(model)) return { error: `PRICE_CEILINGS names ${JSON.stringify(model)} twice` };
    seen.add(model);
    if (model === DEFAULT_ENTRY) ceilings.default = price.data;
    else ceilings.models[model] = price.data;
  }
  return ceilings;
}

/** A model a node advertises above the operator's ceiling for it. */
export interface PriceOverCeiling {
  /** Its index in the advertised list. */
  index: number;
  model: string;
  price: Price;
  ceiling: Price;
}

/** The first advertised model priced above its ceiling; null when every price is within. */
export function priceOverCeiling(models: readonly AdvertisedModel[], ceilings: PriceCeilings): PriceOverCeiling | null {
  for (const [index, model] of models.entries()) {
    const ceiling = ceilingFor(ceilings, model.id);
    if (model.price && !priceWithin(model.price, ceiling))
      return { index, model: model.id, price: model.price, ceiling };
  }
  return null;
}

/** The refusal's words, the same for a heartbeat and a session's state. */
export function priceOverCeilingMessage(over: PriceOverCeiling): string {
  return (
    `the price of ${JSON.stringify(over.model)} (${over.price.prompt}:${over.price.completion} micro-units per ` +
    `million prompt:completion tokens) is above this gateway's ceiling for it, ` +
    `${over.ceiling.prompt}:${over.ceiling.completion}`
  );
}
