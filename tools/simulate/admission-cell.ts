// One admission cell, as the Durable Object will be: the exact decider for its share of the nodes. It rebuilds its own
// table of only its nodes every second (their learned state carried over), grants every slot (a lease) so it knows
// each node's in-flight count exactly, and learns each outcome when the release reaches it. Its decision is pickNode
// with load = its lease count; its summary (cell-summary.ts) is kept live as leases and outcomes change it.
import {
  addTerms,
  buildTable,
  modelSummary,
  NO_CONTROLS,
  NO_TERMS,
  noteLoad,
  observeInTable,
  pickNode,
  summaryTerms,
  type CellSummary,
  type Outcome,
  type PickResult,
  type RouteNode,
  type RoutingTable,
  type SummaryTerms,
} from "@meshgate/worker/routing";
import { SCAN_LOAD_CALLS } from "./meshgate-policy.js";
import { MODEL } from "./policy.js";

export type PickCounts = Record<PickResult["kind"] | "explored" | "scans", number>;

export class AdmissionCell {
  table: RoutingTable = buildTable([], 0);
  /** Leases granted and not yet released, per node id: the exact in-flight count the cell decides with. */
  private readonly leases = new Map<string, number>();
  /** Each node's part of the live summary, and their sum. */
  private terms = new Map<string, SummaryTerms>();
  private sum: SummaryTerms = NO_TERMS;
  private readonly controls = NO_CONTROLS(MODEL);
  /** Loads pickNode asked for in the current pick: many means it scanned the pool. */
  private loadCalls = 0;

  constructor(
    readonly cell: number,
    private readonly random: () => number,
    private readonly picks: PickCounts,
  ) {}

  readonly load = (node: RouteNode): number => this.leases.get(node.id) ?? 0;
  private readonly countedLoad = (node: RouteNode): number => {
    this.loadCalls++;
    return this.load(node);
  };

  /** Every second, from the listing: the table of this cell's nodes, and its summary from scratch (no drift). */
  rebuild(nodes: readonly RouteNode[], now: number): void {
    this.table = buildTable(nodes, now, this.load);
    this.terms = new Map();
    this.sum = NO_TERMS;
    for (const node of nodes) this.resum(node, now);
  }

  /** The node for one attempt (grant it its lease next); null when the cell has no node with room ("full"). */
  pick(exclude: ReadonlySet<string>, attempt: number, now: number): RouteNode | null {
    const result = pickNode(this.table, {
      model: MODEL,
      controls: this.controls,
      now,
      random: this.random,
      load: this.countedLoad,
      exclude,
      attempt,
    });
    this.picks[result.kind]++;
    if (this.loadCalls > SCAN_LOAD_CALLS) this.picks.scans++;
    this.loadCalls = 0;
    if (result.kind !== "node") return null;
    if (result.explored) this.picks.explored++;
    return result.node;
  }

  /** The lease on the node just picked: counted at once, so the next pick sees it. */
  grant(node: RouteNode, now: number): void {
    this.changeLease(node.id, 1, now);
  }

  /** The release reaches the cell: the slot is free again, and the outcome is learned. */
  release(outcome: Outcome, now: number): void {
    const held = this.leases.get(outcome.nodeId) ?? 1;
    // observeInTable reweighs the node at its noted load, and changeLease (noteLoad) at the new one.
    observeInTable(this.table, { ...outcome, inFlight: held - 1 });
    this.changeLease(outcome.nodeId, -1, now);
  }

  summary(now: number): CellSummary {
    const nodes = this.table.pools.get(MODEL)?.nodes.length ?? 0;
    return { cell: this.cell, models: new Map([[MODEL, modelSummary(this.sum, nodes)]]), at: now };
  }

  private changeLease(nodeId: string, delta: 1 | -1, now: number): void {
    const leases = Math.max(0, (this.leases.get(nodeId) ?? 0) + delta);
    if (leases === 0) this.leases.delete(nodeId);
    else this.leases.set(nodeId, leases);
    noteLoad(this.table, nodeId, leases, now);
    const node = this.table.nodes.get(nodeId);
    if (node) this.resum(node, now);
  }

  /** After noteLoad or a rebuild, the sampler holds the node's weight at its current lease count: reused. */
  private resum(node: RouteNode, now: number): void {
    const place = this.table.places.get(node.id)?.find((p) => p.pool.model === MODEL);
    if (!place) return;
    const next = summaryTerms(place.pool, node, this.load(node), now, place.pool.sampler.weight(place.index));
    this.sum = addTerms(addTerms(this.sum, this.terms.get(node.id) ?? NO_TERMS, -1), next);
    this.terms.set(node.id, next);
  }
}
