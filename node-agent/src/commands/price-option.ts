// Parses `--price MODEL=PROMPT:COMPLETION` (repeatable): integer micro-units per million prompt/completion tokens.
import { ModelIdSchema, PriceSchema, type Price } from "@meshgate/schemas";
import { UsageError } from "./usage-error.js";

const INTEGER = /^\d+$/;

function parsePrice(text: string): [string, Price] {
  // Split at the last "=": a model id may contain one, a price never does.
  const eq = text.lastIndexOf("=");
  const model = text.slice(0, Math.max(eq, 0));
  const [prompt, completion, extra] = text.slice(eq + 1).split(":");
  const price = { prompt: Number(prompt), completion: Number(completion) };
  const wellFormed =
    eq > 0 &&
    ModelIdSchema.safeParse(model).success &&
    extra === undefined &&
    INTEGER.test(prompt ?? "") &&
    INTEGER.test(completion ?? "");
  if (!wellFormed || !PriceSchema.safeParse(price).success) {
    throw new UsageError(
      `--price must be MODEL=PROMPT:COMPLETION with integers from 0 to 1e12 (micro-units per million tokens), got ${JSON.stringify(text)}`,
    );
  }
  return [model, price];
}

/** Each model's price; a model named twice is a mistake, not an override. */
export function parsePrices(texts: readonly string[]): Map<string, Price> {
  const prices = new Map<string, Price>();
  for (const text of texts) {
    const [model, price] = parsePrice(text);
    if (prices.has(model)) throw new UsageError(`--price names ${JSON.stringify(model)} twice`);
    prices.set(model, price);
  }
  return prices;
}
