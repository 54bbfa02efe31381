// The per-isolate view routing decides from: live nodes indexed by model, with sampling weights computed once per
// snapshot, so a decision costs a few random draws and a binary search, not a scan of every node.
import { observe } from "./node-state.js";
import { capacityOf, expectedTtft, needsExploring, trustOf, type RouteNode } from "./node-estimates.js";
import type { Outcome } from "./outcome.js";
import { isEjected, maxEjected } from "./outlier.js";

/**
 * How strongly trust counts: cost divides by trust^4, so a node failing one request in five (trust ≈ 0.8) costs 2.4×
 * a reliable one, and one failing every other request 16×.
 */
export const TRUST_POWER = 4;
/** Sampling favours fast nodes by 1/latency²: twice as fast, four times as likely to be one of the two candidates. */
export const LATENCY_POWER = 2;

export interface ModelPool {
  nodes: RouteNode[];
  /** Running sums of the nodes' weights, for drawing a node with probability proportional to its weight. */
  cumulative: Float64Array;
  /** Nodes still being explored for this model (too few measurements) or on probation. */
  explore: RouteNode[];
}

export interface RoutingTable {
  builtAt: number;
  nodes: Map<string, RouteNode>;
  pools: Map<string, ModelPool>;
  /** Nodes ejected now, kept current as outcomes eject more, so the ejection cap holds between snapshots. */
  ejected: number;
}

/**
 * Expected cost of sending the node one more request: latency × (1 + in-flight / capacity), inflated by a poor
 * record. Peak EWMA's latency × (in-flight + 1) counted per slot: an inference server batches concurrent requests,
 * so one request on a 16-slot node barely slows the next, while a full node doubles its cost. An idle node costs its
 * latency, so declaring more slots buys no traffic by itself.
 */
export function nodeCost(node: RouteNode, model: string, load: number, now: number): number {
  const latency = Math.max(1, expectedTtft(node, model, now));
  return (latency * (1 + load / capacityOf(node, model, now))) / Math.pow(trustOf(node, now), TRUST_POWER);
}

/** How often a node is drawn as a candidate: capacity × trust⁴ / latency². Zero while ejected. */
export function samplingWeight(node: RouteNode, model: string, now: number): number {
  if (isEjected(node.state.outlier, now)) return 0;
  const latency = Math.max(1, expectedTtft(node, model, now));
  return (capacityOf(node, model, now) * Math.pow(trustOf(node, now), TRUST_POWER)) / Math.pow(latency, LATENCY_POWER);
}

export function buildTable(nodes: readonly RouteNode[], now: number): RoutingTable {
  const byId = new Map<string, RouteNode>();
  const grouped = new Map<string, RouteNode[]>();
  let ejected = 0;
  for (const node of nodes) {
    byId.set(node.id, node);
    if (isEjected(node.state.outlier, now)) ejected++;
    for (const model of node.models.keys()) {
      const list = grouped.get(model);
      if (list) list.push(node);
      else grouped.set(model, [node]);
    }
  }
  const pools = new Map<string, ModelPool>();
  for (const [model, list] of grouped) {
    const cumulative = new Float64Array(list.length);
    let sum = 0;
    const explore: RouteNode[] = [];
    list.forEach((node, i) => {
      sum += samplingWeight(node, model, now);
      cumulative[i] = sum;
      if (needsExploring(node, model, now)) explore.push(node);
    });
    pools.set(model, { nodes: list, cumulative, explore });
  }
  return { builtAt: now, nodes: byId, pools, ejected };
}

/** Applies this isolate's own outcome at once; the next snapshot replaces it with the registry's merged view. */
export function observeInTable(table: RoutingTable, outcome: Outcome): void {
  const node = table.nodes.get(outcome.nodeId);
  if (!node) return;
  const wasEjected = isEjected(node.state.outlier, outcome.at);
  const mayEject = table.ejected < maxEjected(table.nodes.size);
  node.state = observe(node.state, outcome, { declaredCapacity: node.declaredCapacity, mayEject });
  if (!wasEjected && isEjected(node.state.outlier, outcome.at)) table.ejected++;
}

/** Draws a node with probability proportional to its weight; null when every weight is zero. */
export function drawWeighted(pool: ModelPool, random: () => number): RouteNode | null {
  const total = pool.cumulative[pool.cumulative.length - 1] ?? 0;
  if (!(total > 0)) return null;
  const target = random() * total;
  let lo = 0;
  let hi = pool.cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((pool.cumulative[mid] ?? 0) > target) hi = mid;
    else lo = mid + 1;
  }
  return pool.nodes[lo] ?? null;
}
