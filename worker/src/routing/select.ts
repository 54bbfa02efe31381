// Chooses which nodes to try for a request, in order. Pure: load, time and randomness come in as arguments.
import { LATENCY_PRIOR_MS } from "./latency.js";

export interface RoutableNode {
  id: string;
  /** Scheme, host and port: request paths are appended to it. */
  origin: string;
  models: ReadonlySet<string>;
  capacity: number;
  /** In-flight requests the node reported in its last heartbeat. */
  inFlight: number;
  latencyMs: number | null;
  /** 0..1, from the node's success record. */
  reputation: number;
}

export interface RankOptions {
  model: string;
  /** Requests this isolate has sent to each node and not yet finished. */
  localInFlight: ReadonlyMap<string, number>;
  random: () => number;
  maxAttempts: number;
}

/** Reputation below this no longer lowers the cost further, so a bad node is avoided but not infinitely. */
const REPUTATION_FLOOR = 0.05;

/** Expected cost of sending one more request: latency × queue length, inflated by a poor record. */
export function nodeCost(node: RoutableNode, localInFlight: number): number {
  const latency = node.latencyMs ?? LATENCY_PRIOR_MS;
  const load = node.inFlight + localInFlight + 1;
  return (latency * load) / Math.max(node.reputation, REPUTATION_FLOOR);
}

export type RankResult =
  | { kind: "ranked"; nodes: RoutableNode[] }
  | { kind: "unknown_model" }
  | { kind: "saturated" };

/**
 * Orders the nodes that serve `model` and have room, cheapest first; ties are broken randomly so equal nodes share
 * load. Distinguishes "nobody serves this model" (404) from "everyone who does is full" (503).
 */
export function rankNodes(nodes: readonly RoutableNode[], opts: RankOptions): RankResult {
  const scored: { node: RoutableNode; cost: number; tiebreak: number }[] = [];
  let serving = 0;
  for (const node of nodes) {
    if (!node.models.has(opts.model)) continue;
    serving++;
    const local = opts.localInFlight.get(node.id) ?? 0;
    if (node.inFlight + local >= node.capacity) continue;
    scored.push({ node, cost: nodeCost(node, local), tiebreak: opts.random() });
  }
  if (serving === 0) return { kind: "unknown_model" };
  if (scored.length === 0) return { kind: "saturated" };
  scored.sort((a, b) => a.cost - b.cost || a.tiebreak - b.tiebreak);
  return { kind: "ranked", nodes: scored.slice(0, opts.maxAttempts).map((s) => s.node) };
}
