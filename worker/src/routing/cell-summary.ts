// What an admission cell tells gateways about one model: its free slots and the first-token latency its next pick is
// likely to give. The cell knows its nodes' in-flight counts exactly (it grants every lease), so the summary is exact
// when made; gateways age it themselves (cell-choice.ts). Pure: the table, loads and time come in as arguments.
import { capacityOf, expectedTtft, type RouteNode } from "./node-estimates.js";
import { isEjected } from "./outlier.js";
import { poolPriceFactor, samplingWeight, type ModelPool, type RoutingTable } from "./routing-table.js";

/** One model's figures in a cell's summary. */
export interface CellModelSummary {
  /** Slots free on nodes that are not ejected: Σ max(0, capacity − load). */
  free: number;
  /**
   * First-token latency the cell's pick is likely to give, ms: nodes' expected TTFT averaged with their sampling
   * weights (what pickNode draws by: free slots, trust, latency⁻⁴). Null when no proven node has room.
   */
  ttftMs: number | null;
  /** Nodes listed for the model, ejected or not. */
  nodes: number;
}

export interface CellSummary {
  cell: number;
  models: ReadonlyMap<string, CellModelSummary>;
  /** When the cell made it, ms. */
  at: number;
}

/** What one node adds to its cell's summary for a model; sums of these make the summary (so a cell can keep it live). */
export interface SummaryTerms {
  free: number;
  weight: number;
  /** weight × expected TTFT. */
  weightedTtft: number;
}

export const NO_TERMS: SummaryTerms = { free: 0, weight: 0, weightedTtft: 0 };

/**
 * `load`: the node's exact in-flight count as the cell knows it. `weight`: its sampling weight at that load, when the
 * caller has it at hand (the pool's sampler right after noteLoad), to spare computing it twice.
 */
export function summaryTerms(
  pool: ModelPool,
  node: RouteNode,
  load: number,
  now: number,
  weight = samplingWeight(node, pool.model, load, now, poolPriceFactor(pool, node)),
): SummaryTerms {
  if (isEjected(node.state.outlier, now)) return NO_TERMS;
  const free = Math.max(0, capacityOf(node, pool.model, now) - load);
  return { free, weight, weightedTtft: weight > 0 ? weight * expectedTtft(node, pool.model, now) : 0 };
}

export function addTerms(sum: SummaryTerms, terms: SummaryTerms, sign: 1 | -1 = 1): SummaryTerms {
  return {
    free: sum.free + sign * terms.free,
    weight: sum.weight + sign * terms.weight,
    weightedTtft: sum.weightedTtft + sign * terms.weightedTtft,
  };
}

export function modelSummary(sum: SummaryTerms, nodes: number): CellModelSummary {
  // Sums kept live by adding and taking away terms drift by rounding: a hair above zero is zero.
  const weighted = sum.weight > 1e-300 && sum.weightedTtft > 0;
  return { free: Math.max(0, Math.round(sum.free)), ttftMs: weighted ? sum.weightedTtft / sum.weight : null, nodes };
}

/** The summary of every model the cell's table lists, from scratch: O(nodes). */
export function summarizeCell(
  cell: number,
  table: RoutingTable,
  load: (node: RouteNode) => number,
  now: number,
): CellSummary {
  const models = new Map<string, CellModelSummary>();
  for (const [model, pool] of table.pools) {
    let sum = NO_TERMS;
    for (const node of pool.nodes) sum = addTerms(sum, summaryTerms(pool, node, load(node), now));
    models.set(model, modelSummary(sum, pool.nodes.length));
  }
  return { cell, models, at: now };
}
