// The models the mesh serves, as clients choose between them (OpenRouter's models list is the reference): how many live
// nodes serve each, its context length and price, and how fast its first token came. Pure: the nodes and the measured
// latencies come in as arguments.
import type { Price } from "@meshgate/schemas";
import { lowerMedian } from "./median.js";

/** One node's offer of one model, as routing may use it (prices within today's ceilings; see route-nodes.ts). */
export interface CatalogOffer {
  id: string;
  owned_by?: string | undefined;
  /** Null: the node serves it free. */
  price: Price | null;
  context_length?: number | undefined;
}

export interface CatalogNode {
  /** When the node first registered, ms. */
  registered: number;
  offers: readonly CatalogOffer[];
}

/**
 * A model's price: the median over the nodes serving it (what a typical request pays; one node's extreme price moves
 * it no further than its neighbour's). `prompt`/`completion` are OpenRouter's form, USD per token as decimal strings;
 * the settlement unit is USD-pegged (1,000,000 micro-units = 1 USD), as `provider.max_price` already takes it.
 */
export interface ModelPricing {
  prompt: string;
  completion: string;
  usd_per_million: { prompt: number; completion: number };
  /** The settlement unit, as nodes state prices (`--price`): integer micro-units per million tokens. */
  micro_units_per_million: { prompt: number; completion: number };
}

export interface ModelEntry {
  id: string;
  object: "model";
  /** When the first node now serving it registered, unix seconds. */
  created: number;
  owned_by: string;
  /** Live nodes serving it. */
  nodes: number;
  /** Tokens of context (prompt and completion), the median of what its nodes state; null when none does. */
  context_length: number | null;
  pricing: ModelPricing;
  /** The median time to first token the gateway measured for it over the last hour, ms; null with no answers. */
  ttft_ms_p50: number | null;
}

/** `micros` × 10⁻¹² exactly, as a decimal string: micro-units per million tokens → units per token. */
export function perTokenDecimal(micros: number): string {
  const digits = String(micros).padStart(13, "0");
  const whole = digits.slice(0, -12).replace(/^0+(?=\d)/, "");
  const fraction = digits.slice(-12).replace(/0+$/, "");
  return fraction === "" ? whole : `${whole}.${fraction}`;
}

export function pricingOf(prompt: number, completion: number): ModelPricing {
  return {
    prompt: perTokenDecimal(prompt),
    completion: perTokenDecimal(completion),
    usd_per_million: { prompt: prompt / 1e6, completion: completion / 1e6 },
    micro_units_per_million: { prompt, completion },
  };
}

interface Gathered {
  created: number;
  owned_by: string;
  nodes: number;
  prompt: number[];
  completion: number[];
  contexts: number[];
}

function gather(nodes: readonly CatalogNode[]): Map<string, Gathered> {
  const models = new Map<string, Gathered>();
  for (const node of nodes) {
    const created = Math.floor(node.registered / 1000);
    for (const offer of node.offers) {
      let g = models.get(offer.id);
      if (!g) {
        g = { created, owned_by: offer.owned_by ?? "meshgate", nodes: 0, prompt: [], completion: [], contexts: [] };
        models.set(offer.id, g);
      }
      g.nodes++;
      g.created = Math.min(g.created, created);
      g.prompt.push(offer.price?.prompt ?? 0);
      g.completion.push(offer.price?.completion ?? 0);
      if (offer.context_length !== undefined) g.contexts.push(offer.context_length);
    }
  }
  return models;
}

/** Every model some node offers, sorted by id. `ttftP50`: the gateway's own measurement, never a node's word. */
export function catalogModels(nodes: readonly CatalogNode[], ttftP50: (model: string) => number | null): ModelEntry[] {
  const entries: ModelEntry[] = [];
  for (const [id, g] of gather(nodes)) {
    entries.push({
      id,
      object: "model",
      created: g.created,
      owned_by: g.owned_by,
      nodes: g.nodes,
      context_length: lowerMedian(g.contexts),
      pricing: pricingOf(lowerMedian(g.prompt) ?? 0, lowerMedian(g.completion) ?? 0),
      ttft_ms_p50: ttftP50(id),
    });
  }
  return entries.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
