// The models the mesh serves, as clients choose between them (OpenRouter's models list is the reference): how many live
// nodes serve each, its context length and price, and how fast its first token came. Pure: the nodes and the measured
// latencies come in as arguments.
import type { ModelObject, ModelPricing, Price } from "@meshgate/schemas";
import { lowerMedian } from "./median.js";

/**
 * Models listed at most: those most nodes serve (ties by id). A node names up to 256 models of its own choosing, so
 * without a bound a few dozen nodes of made-up names would make the public status, and every model list, megabytes
 * (40 such nodes: 10,240 models, 6.9 MB). A model left out is still served; it is only not listed.
 */
export const MAX_CATALOG_MODELS = 1_024;

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
  /** How many of its nodes name each owner. */
  owners: Map<string, number>;
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
        g = { created, owners: new Map(), nodes: 0, prompt: [], completion: [], contexts: [] };
        models.set(offer.id, g);
      }
      g.nodes++;
      g.created = Math.min(g.created, created);
      const owner = offer.owned_by ?? "meshgate";
      g.owners.set(owner, (g.owners.get(owner) ?? 0) + 1);
      g.prompt.push(offer.price?.prompt ?? 0);
      g.completion.push(offer.price?.completion ?? 0);
      if (offer.context_length !== undefined) g.contexts.push(offer.context_length);
    }
  }
  return models;
}

/** The owner most of a model's nodes name (the first named among equals): one node cannot relabel a popular model. */
function mostNamed(owners: ReadonlyMap<string, number>): string {
  let best = "meshgate";
  let count = 0;
  for (const [owner, n] of owners) {
    if (n > count) {
      best = owner;
      count = n;
    }
  }
  return best;
}

const byId = <T extends { id: string }>(a: T, b: T): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The MAX_CATALOG_MODELS models most nodes serve. */
function mostServed(models: Map<string, Gathered>): [string, Gathered][] {
  const all = [...models];
  if (all.length <= MAX_CATALOG_MODELS) return all;
  return all
    .map(([id, g]) => ({ id, g }))
    .sort((a, b) => b.g.nodes - a.g.nodes || byId(a, b))
    .slice(0, MAX_CATALOG_MODELS)
    .map(({ id, g }) => [id, g]);
}

/**
 * The models some node offers (at most MAX_CATALOG_MODELS, those most nodes serve), sorted by id. `ttftP50`: the
 * gateway's own measurement, never a node's word.
 */
export function catalogModels(nodes: readonly CatalogNode[], ttftP50: (model: string) => number | null): ModelObject[] {
  const entries: ModelObject[] = [];
  for (const [id, g] of mostServed(gather(nodes))) {
    entries.push({
      id,
      object: "model",
      created: g.created,
      owned_by: mostNamed(g.owners),
      nodes: g.nodes,
      context_length: lowerMedian(g.contexts),
      pricing: pricingOf(lowerMedian(g.prompt) ?? 0, lowerMedian(g.completion) ?? 0),
      ttft_ms_p50: ttftP50(id),
    });
  }
  return entries.sort(byId);
}
