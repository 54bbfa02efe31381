// Chooses the node for one attempt of a request: weighted power of two choices over eligible proven nodes, a small
// exploration share for unproven ones, never above a node's capacity; unproven nodes take the rest only once no proven
// node has room. The client's controls (order, only, ignore, sort, max_price) narrow or order the choice. Pure: time,
// load and randomness come in as arguments.
import type { RoutingControls } from "./client-controls.js";
import { capacityOf, expectedThroughput, expectedTtft, isProven, trustOf, type RouteNode } from "./node-estimates.js";
import { perfOf } from "./node-state.js";
import { isEjected } from "./outlier.js";
import {
  drawWeighted,
  nodeCost,
  poolPriceFactor,
  TRUST_POWER,
  type ModelPool,
  type RoutingTable,
} from "./routing-table.js";

/**
 * Share of first attempts sent to nodes still unproven for the model while proven nodes have room: their only way in
 * then (they are not candidates in the weighted draws), shared among all of them (one is drawn at random), so a
 * hundred fresh identities take this share together, not a hundred times it.
 */
export const EXPLORE_SHARE = 0.005;
/**
 * The share grows with the part of the pool still unexplored, up to MAX_EXPLORE_SHARE: in a small mesh (three nodes,
 * two new) new nodes are tried within a few requests; in a large settled one the share stays near EXPLORE_SHARE. The
 * cap bounds what any number of new identities take from proven nodes with room: a fifth of first attempts (each at
 * most UNPROVEN_SLOTS at a time) is enough to prove a few new nodes within tens of requests, and leaves four fifths
 * to nodes with a record, however many identities an attacker registers.
 */
export const EXPLORE_BOOST = 0.2;
export const MAX_EXPLORE_SHARE = 0.2;

export function exploreShare(pool: ModelPool): number {
  if (pool.explore.length === 0 || pool.nodes.length === 0) return 0;
  return Math.min(MAX_EXPLORE_SHARE, EXPLORE_SHARE + (EXPLORE_BOOST * pool.explore.length) / pool.nodes.length);
}
/** Draws tried to find two eligible candidates: by weight, then uniformly, before falling back to a scan. */
const WEIGHTED_DRAWS = 12;
const UNIFORM_DRAWS = 24;

export interface PickQuery {
  model: string;
  controls: RoutingControls;
  now: number;
  random: () => number;
  /** Requests the gateway believes the node has in flight now. */
  load: (node: RouteNode) => number;
  /** Nodes already tried for this request. */
  exclude: ReadonlySet<string>;
  /** 0 for the first node tried for this model, 1 for the first failover, … */
  attempt: number;
  /**
   * Rules out nodes for a reason of the caller's (a budget too small for their worst case); all allowed when absent.
   */
  allow?: ((node: RouteNode) => boolean) | undefined;
}

/**
 * A query with the pool it picks from (whose usual price a node's price is weighed against), and its phase: first
 * proven nodes (unproven ones only by exploration, at UNPROVEN_SLOTS), then, if none could take it, `overflow`: any
 * node, unproven ones at their full capacity.
 */
type Query = PickQuery & { readonly pool: ModelPool; readonly overflow: boolean };

export type PickResult =
  | { kind: "node"; node: RouteNode; explored: boolean }
  /** No node serves the model. */
  | { kind: "unknown_model" }
  /** Nodes serve the model, but none passes the client's controls. */
  | { kind: "no_eligible" }
  /** Some pass the controls, but all are full, ejected, or already tried. */
  | { kind: "saturated" };

/** When no node could be picked anywhere, the most hopeful reason is told: "busy, retry" beats "filtered" beats "unknown". */
export const REFUSAL_RANK = { unknown_model: 0, no_eligible: 1, saturated: 2 } as const;

/** Passes the client's only / ignore / max_price. */
export function allowedByControls(node: RouteNode, model: string, c: RoutingControls): boolean {
  if (c.only && !c.only.has(node.id)) return false;
  if (c.ignore.has(node.id)) return false;
  if (c.maxPrice) {
    const price = node.models.get(model) ?? null;
    if (price && c.maxPrice.prompt !== null && price.prompt > c.maxPrice.prompt) return false;
    if (price && c.maxPrice.completion !== null && price.completion > c.maxPrice.completion) return false;
  }
  return true;
}

function available(node: RouteNode, q: Query): boolean {
  return (
    !q.exclude.has(node.id) &&
    !isEjected(node.state.outlier, q.now) &&
    q.load(node) < capacityOf(node, q.model, q.now, q.overflow)
  );
}

function eligible(node: RouteNode, q: Query): boolean {
  return (
    node.models.has(q.model) &&
    available(node, q) &&
    allowedByControls(node, q.model, q.controls) &&
    (q.allow?.(node) ?? true)
  );
}

/** Eligible and a candidate in this phase: unproven nodes only once no proven one could take the request. */
function isCandidate(node: RouteNode, q: Query): boolean {
  return (q.overflow || isProven(node, q.model)) && eligible(node, q);
}

function cost(node: RouteNode, q: Query): number {
  return nodeCost(node, q.model, q.load(node), q.now, poolPriceFactor(q.pool, node), q.overflow);
}

function cheaper(a: RouteNode, b: RouteNode | null, q: Query): RouteNode {
  return b === null || cost(a, q) <= cost(b, q) ? a : b;
}

/**
 * Power of two choices. Candidates are drawn by weight (full and ejected nodes weigh nothing); when the client's
 * ignore / max_price rule out the nodes the weight favours, draws are wasted on them, so the exact cheapest allowed
 * node is found by a scan instead of settling for uniform draws. Uniform draws, then a scan, are the fallback
 * otherwise.
 */
function twoChoices(pool: ModelPool, q: Query): RouteNode | null {
  let first: RouteNode | null = null;
  const consider = (candidate: RouteNode | null | undefined): RouteNode | null => {
    if (!candidate || candidate === first || !isCandidate(candidate, q)) return null;
    if (first) return cheaper(first, candidate, q);
    first = candidate;
    return null;
  };
  for (let i = 0; i < WEIGHTED_DRAWS; i++) {
    const chosen = consider(drawWeighted(pool, q.random));
    if (chosen) return chosen;
  }
  const filtered = q.controls.ignore.size > 0 || q.controls.maxPrice !== null;
  if (filtered) return first ? cheaper(first, cheapestOf(pool.nodes, q) ?? first, q) : cheapestOf(pool.nodes, q);
  for (let i = 0; i < UNIFORM_DRAWS; i++) {
    const chosen = consider(pool.nodes[Math.floor(q.random() * pool.nodes.length)]);
    if (chosen) return chosen;
  }
  return first ?? cheapestOf(pool.nodes, q);
}

function cheapestOf(nodes: Iterable<RouteNode>, q: Query): RouteNode | null {
  let best: RouteNode | null = null;
  for (const node of nodes) if (isCandidate(node, q)) best = cheaper(node, best, q);
  return best;
}

/** Overflow among the unproven nodes: the cheaper of two drawn uniformly, or the cheapest by a scan. */
function twoUnproven(nodes: readonly RouteNode[], q: Query): RouteNode | null {
  let first: RouteNode | null = null;
  for (let i = 0; i < UNIFORM_DRAWS && nodes.length > 0; i++) {
    const drawn = nodes[Math.floor(q.random() * nodes.length)];
    if (!drawn || drawn === first || !isCandidate(drawn, q)) continue;
    if (first) return cheaper(first, drawn, q);
    first = drawn;
  }
  return first ?? cheapestOf(nodes, q);
}

/** Two random nodes still being explored, the cheaper by their priors. */
function explore(pool: ModelPool, q: Query): RouteNode | null {
  if (pool.explore.length === 0) return null;
  let best: RouteNode | null = null;
  for (let i = 0; i < 2 * 2 && i < pool.explore.length * 2; i++) {
    const candidate = pool.explore[Math.floor(q.random() * pool.explore.length)];
    // A node proven since the table was built (by this isolate's own outcomes) is a weighted candidate now.
    if (candidate && !isProven(candidate, q.model) && eligible(candidate, q)) best = cheaper(candidate, best, q);
  }
  return best;
}

/** The client's `sort`: the best eligible node by that measure, searched exhaustively (ties: lower cost). */
function bestBySort(nodes: Iterable<RouteNode>, q: Query): RouteNode | null {
  const key = (node: RouteNode): number => {
    switch (q.controls.sort) {
      case "throughput":
        return -(expectedThroughput(node, q.model) ?? 0) * trustOf(node, q.now) ** TRUST_POWER;
      case "price": {
        const price = node.models.get(q.model) ?? null;
        return price ? price.prompt + price.completion : 0;
      }
      default: {
        // Measured nodes first: a client asking for the lowest latency wants a measured one, not a prior; a poor
        // record counts as it does in the cost.
        if (perfOf(node.state, q.model).ttft === null) return Number.POSITIVE_INFINITY;
        return expectedTtft(node, q.model, q.now) / trustOf(node, q.now) ** TRUST_POWER;
      }
    }
  };
  let best: RouteNode | null = null;
  let bestKey = Infinity;
  for (const node of nodes) {
    if (!isCandidate(node, q)) continue;
    const k = key(node);
    if (best === null || k < bestKey || (k === bestKey && cost(node, q) < cost(best, q))) {
      best = node;
      bestKey = k;
    }
  }
  return best;
}

function* onlyNodes(table: RoutingTable, only: ReadonlySet<string>): Generator<RouteNode> {
  for (const id of only) {
    const node = table.nodes.get(id);
    if (node) yield node;
  }
}

function found(node: RouteNode | null, explored = false): PickResult | null {
  return node ? { kind: "node", node, explored } : null;
}

export function pickNode(table: RoutingTable, query: PickQuery): PickResult {
  const pool = table.pools.get(query.model);
  if (!pool) return { kind: "unknown_model" };
  // Built field by field, not spread: a spread copy is a fresh shape per call, which slows every read of it.
  const { model, controls, now, random, load, exclude, attempt, allow } = query;
  const held: Query = { model, controls, now, random, load, exclude, attempt, allow, pool, overflow: false };
  const chosen = choose(table, held);
  if (chosen) return chosen;
  // No proven node could take it (full, ejected, tried, or none): unproven nodes may use what they declare.
  const overflow: Query = { model, controls, now, random, load, exclude, attempt, allow, pool, overflow: true };
  return choose(table, overflow) ?? diagnose(pool, held);
}

/** One phase of the choice (see Query): the client's order first, then its sort or only, else the default choice. */
function choose(table: RoutingTable, q: Query): PickResult | null {
  const c = q.controls;
  for (const id of c.order) {
    const node = table.nodes.get(id);
    if (node && eligible(node, q)) return { kind: "node", node, explored: false };
  }
  if ((c.order.length > 0 || q.attempt > 0) && !c.allowFallbacks) return null;
  const nodes = q.overflow ? q.pool.unproven : q.pool.nodes;
  if (c.sort) return found(bestBySort(c.only ? onlyNodes(table, c.only) : nodes, q));
  if (c.only) return found(cheapestOf(onlyNodes(table, c.only), q));
  if (q.overflow) return found(twoUnproven(nodes, q));
  return (
    (q.attempt === 0 && q.random() < exploreShare(q.pool) ? found(explore(q.pool, q), true) : null) ??
    found(twoChoices(q.pool, q))
  );
}

/** Why nothing was picked: the client's controls exclude every node, or the allowed ones are busy. */
function diagnose(pool: ModelPool, q: Query): PickResult {
  return pool.nodes.some((node) => allowedByControls(node, q.model, q.controls))
    ? { kind: "saturated" }
    : { kind: "no_eligible" };
}
