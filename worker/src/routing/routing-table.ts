// The per-isolate view routing decides from: live nodes indexed by model, each with a sampling weight kept current as
// its load and record change, so a decision costs a few O(log n) draws, not a scan of every node.
import { observe } from "./node-state.js";
import { capacityOf, expectedTtft, isProven, needsExploring, trustOf, type RouteNode } from "./node-estimates.js";
import type { Outcome } from "./outcome.js";
import { WeightedSampler } from "./weighted-sampler.js";
import { isEjected, maxEjected } from "./outlier.js";
import { blendedPrice, priceFactor, referencePrice } from "./price-preference.js";

/**
 * How strongly trust counts: cost divides by trust¹⁶, so a node failing one request in twenty (trust ≈ 0.95) costs
 * 2.3× a reliable one and one failing one in five 36×: a failure costs a client a failover at best, a broken stream
 * at worst, so reliability outweighs a few milliseconds. Set with `npm run simulate` (docs/routing.md).
 */
export const TRUST_POWER = 16;
/**
 * Sampling favours fast nodes by 1/latency⁴: twice as fast, sixteen times as likely to be a candidate, so the two
 * candidates are usually among the fastest nodes with free slots (the oracle's choice), and the cost decides between.
 */
export const LATENCY_POWER = 4;

export interface ModelPool {
  model: string;
  nodes: RouteNode[];
  /** The nodes' sampling weights, for drawing one with probability proportional to its weight. */
  sampler: WeightedSampler;
  /**
   * Nodes still unproven for this model (too few good answers) and without a failure: the exploration share draws among
   * them.
   */
  explore: RouteNode[];
  /** Every node unproven for this model as the table was built: they take what proven nodes cannot (pick.ts). */
  unproven: RouteNode[];
  /** What the pool's nodes usually charge for the model (blended, see price-preference.ts). */
  priceReference: number;
}

/** What the node's price for the pool's model does to its cost (1 at the pool's usual price). */
export function poolPriceFactor(pool: ModelPool, node: RouteNode): number {
  return priceFactor(blendedPrice(node.models.get(pool.model) ?? null), pool.priceReference);
}

export interface RoutingTable {
  builtAt: number;
  nodes: Map<string, RouteNode>;
  pools: Map<string, ModelPool>;
  /** Where each node sits in each pool, to update its weight. */
  places: Map<string, { pool: ModelPool; index: number }[]>;
  /** The load each node was last noted with (noteLoad). */
  loads: Map<string, number>;
  /** Nodes ejected now, kept current as outcomes eject more, so the ejection cap holds between snapshots. */
  ejected: number;
}

/**
 * Expected cost of sending the node one more request: latency × (1 + in-flight / capacity), inflated by a poor
 * record and by a price above the model's usual one (`price`, see price-preference.ts). Peak EWMA's latency ×
 * (in-flight + 1) counted per slot: an inference server batches concurrent requests, so one request on a 16-slot
 * node barely slows the next, while a full node doubles its cost. An idle node costs its latency, so declaring more
 * slots buys no traffic by itself.
 */
export function nodeCost(
  node: RouteNode,
  model: string,
  load: number,
  now: number,
  price = 1,
  overflow = false,
): number {
  const latency = Math.max(1, expectedTtft(node, model, now)) * price;
  return (latency * (1 + load / capacityOf(node, model, now, overflow))) / trustOf(node, now) ** TRUST_POWER;
}

/**
 * How often a node is drawn as a candidate: free slots × trust¹⁶ / (latency × price factor)⁴. Zero while ejected or
 * full, so draws land on nodes that can take the request; zero while unproven for the model too, since unproven nodes
 * are candidates only through exploration or once no proven node has room (pick.ts), never in weighted draws.
 */
export function samplingWeight(node: RouteNode, model: string, load: number, now: number, price = 1): number {
  if (isEjected(node.state.outlier, now) || !isProven(node, model)) return 0;
  const free = Math.min(MAX_WEIGHED_SLOTS, capacityOf(node, model, now) - load);
  if (free <= 0) return 0;
  const latency = Math.max(1, expectedTtft(node, model, now)) * price;
  const weight = (free * trustOf(node, now) ** TRUST_POWER) / latency ** LATENCY_POWER;
  return Number.isFinite(weight) ? weight : 0;
}

/**
 * Free slots beyond this add no weight: capacity is declared by the node, so declaring 100,000 slots must not make
 * it a candidate in every draw (its 429s would lower it only slowly).
 */
export const MAX_WEIGHED_SLOTS = 32;

/**
 * What a node's price counts for in the pool's reference: its trust as routing weighs it, if it can be drawn at all.
 */
function priceWeight(node: RouteNode, model: string, now: number): number {
  if (isEjected(node.state.outlier, now) || !isProven(node, model)) return 0;
  return trustOf(node, now) ** TRUST_POWER;
}

/** `load`: what each node has in flight as the table is built (kept current afterwards with noteLoad). */
export function buildTable(
  nodes: readonly RouteNode[],
  now: number,
  load: (node: RouteNode) => number = () => 0,
): RoutingTable {
  const byId = new Map<string, RouteNode>();
  const grouped = new Map<string, RouteNode[]>();
  const loads = new Map<string, number>();
  let ejected = 0;
  for (const node of nodes) {
    byId.set(node.id, node);
    loads.set(node.id, load(node));
    if (isEjected(node.state.outlier, now)) ejected++;
    for (const model of node.models.keys()) {
      const list = grouped.get(model);
      if (list) list.push(node);
      else grouped.set(model, [node]);
    }
  }
  const pools = new Map<string, ModelPool>();
  const places = new Map<string, { pool: ModelPool; index: number }[]>();
  for (const [model, list] of grouped) {
    const explore = list.filter((node) => needsExploring(node, model, now));
    const unproven = list.filter((node) => !isProven(node, model));
    const priceReference = referencePrice(
      list.map((node) => blendedPrice(node.models.get(model) ?? null)),
      list.map((node) => priceWeight(node, model, now)),
    );
    const price = (node: RouteNode): number =>
      priceFactor(blendedPrice(node.models.get(model) ?? null), priceReference);
    const sampler = new WeightedSampler(
      list.map((node) => samplingWeight(node, model, loads.get(node.id) ?? 0, now, price(node))),
    );
    const pool: ModelPool = { model, nodes: list, sampler, explore, unproven, priceReference };
    pools.set(model, pool);
    list.forEach((node, index) => {
      const at = places.get(node.id);
      if (at) at.push({ pool, index });
      else places.set(node.id, [{ pool, index }]);
    });
  }
  return { builtAt: now, nodes: byId, pools, places, loads, ejected };
}

function reweigh(table: RoutingTable, node: RouteNode, now: number): void {
  const load = table.loads.get(node.id) ?? 0;
  for (const { pool, index } of table.places.get(node.id) ?? [])
    pool.sampler.set(index, samplingWeight(node, pool.model, load, now, poolPriceFactor(pool, node)));
}

/** The node's load changed (a request sent or finished): its weight follows at once. */
export function noteLoad(table: RoutingTable, nodeId: string, load: number, now: number): void {
  const node = table.nodes.get(nodeId);
  if (!node) return;
  table.loads.set(nodeId, load);
  reweigh(table, node, now);
}

/** Applies this isolate's own outcome at once; the next snapshot replaces it with the registry's merged view. */
export function observeInTable(table: RoutingTable, outcome: Outcome): void {
  const node = table.nodes.get(outcome.nodeId);
  if (!node) return;
  const wasEjected = isEjected(node.state.outlier, outcome.at);
  const mayEject = table.ejected < maxEjected(table.nodes.size);
  node.state = observe(node.state, outcome, { declaredCapacity: node.declaredCapacity, mayEject });
  if (!wasEjected && isEjected(node.state.outlier, outcome.at)) table.ejected++;
  reweigh(table, node, outcome.at);
}

/** Draws a node with probability proportional to its weight; null when every weight is zero. */
export function drawWeighted(pool: ModelPool, random: () => number): RouteNode | null {
  const index = pool.sampler.draw(random);
  return index < 0 ? null : (pool.nodes[index] ?? null);
}
