// The models the mesh serves, as clients choose between them (OpenRouter's models list is the reference): how many live
// nodes serve each, its context length and price, and how fast its first token came. Pure: the nodes and the measured
// latencies come in as arguments.
import type { ModelObject, ModelPricing, Price } from "@meshgate/schemas";
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
export function catalogModels(nodes: readonly CatalogNode[], ttftP50: (model: string) => number | null): ModelObject[] {
  const entries: ModelObject[] = [];
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
