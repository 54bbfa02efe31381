// What a routing policy sees of the simulation, and what it must answer: which node gets the next attempt.
import type { Outcome, RouteNode, RoutingTable } from "@meshgate/worker/routing";
import type { SimNode } from "./mesh.js";

export const MODEL = "sim-model";

/** The simulation as a policy may see it. Only the oracle reads the truth (`mesh`, `busy`, `present`). */
export interface World {
  readonly mesh: readonly SimNode[];
  readonly now: number;
  readonly table: RoutingTable;
  /** The policy's own random stream. */
  readonly random: () => number;
  /** The router's view of a node's load: the gateway's own open requests plus the others' as last reported. */
  readonly load: (node: RouteNode) => number;
  indexOf(id: string): number;
  /** The node's routing record, once it has joined. */
  route(index: number): RouteNode | null;
  /** Requests the node is really serving. */
  busy(index: number): number;
  /** Joined and not yet gone: the truth, which the registry learns only later. */
  present(index: number): boolean;
  /** Runs `action` at simulated time `at` (≥ now), in order with the simulation's other events. */
  schedule(at: number, action: () => void): void;
  /**
   * Runs `work` within a policy's decision but keeps its time out of the decision time: bookkeeping after the choice
   * is made (a cell counting a lease and answering with its summary), as the shared table's noteLoad after a dispatch.
   */
  untimed(work: () => void): void;
}

/** How the gateway is deployed: the same for every policy, used by those it concerns. */
export interface Deployment {
  /** Gateway isolates the requests are spread over (round-robin). */
  isolates: number;
  /** Admission cells the nodes are partitioned into (cells policy). */
  cells: number;
  /** How long an isolate uses a directory snapshot of the cells before fetching a new one, ms. */
  snapshotTtlMs: number;
  /** From an attempt's end until its cell hears the release (and the outcome), ms. */
  releaseDelayMs: number;
  /** One isolate↔cell round trip, ms: every acquire costs one, added to the client's latency. */
  cellRttMs: number;
}

export interface ChooseQuery {
  now: number;
  /** The gateway isolate deciding. */
  isolate: number;
  /** 0 for the first node tried, 1 for the first failover, … */
  attempt: number;
  /** Nodes already tried for this request. */
  exclude: ReadonlySet<string>;
}

/** The node for an attempt, and how long the decision kept the request waiting before it could be sent. */
export interface Choice {
  readonly id: string;
  readonly waitMs?: number;
}

export interface Policy {
  readonly name: string;
  /** The run keeps a routing table and feeds it every outcome (all but the oracle, which needs neither). */
  readonly usesRouter: boolean;
  /** The node for this attempt, or null when the policy has none to offer. */
  choose(q: ChooseQuery): Choice | null;
  /** After each rebuild of the routing table. */
  onTable?(table: RoutingTable, now: number): void;
  /**
   * The policy keeps its own tables (cells): it gets the listing each second instead of the shared table being
   * built, and every outcome through onAttemptEnd instead of the engine applying it to the shared table.
   */
  onListing?(listed: readonly RouteNode[], now: number): void;
  /** The table holding the node's state, whose ejection cap a failed probe respects (with onListing). */
  tableOf?(route: RouteNode): RoutingTable | null;
  /** An attempt ended with this outcome (with onListing: the engine applies none itself). */
  onAttemptEnd?(outcome: Outcome, index: number, now: number): void;
  /** After an outcome was applied to the node's routing state. */
  onObserved?(index: number, now: number): void;
  /** After the node's true load or presence changed. */
  onNodeChanged?(index: number): void;
  /** Counters worth reporting (e.g. pickNode's result kinds). */
  readonly counters?: Readonly<Record<string, number>>;
}

export type PolicyFactory = (world: World, deployment: Deployment) => Policy;
