// What a routing policy sees of the simulation, and what it must answer: which node gets the next attempt.
import type { RouteNode, RoutingTable } from "@meshgate/worker/routing";
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
}

export interface ChooseQuery {
  now: number;
  /** 0 for the first node tried, 1 for the first failover, … */
  attempt: number;
  /** Nodes already tried for this request. */
  exclude: ReadonlySet<string>;
}

export interface Policy {
  readonly name: string;
  /** The run keeps a routing table and feeds it every outcome (all but the oracle, which needs neither). */
  readonly usesRouter: boolean;
  /** The node for this attempt, or null when the policy has none to offer. */
  choose(q: ChooseQuery): { readonly id: string } | null;
  /** After each rebuild of the routing table. */
  onTable?(table: RoutingTable, now: number): void;
  /** After an outcome was applied to the node's routing state. */
  onObserved?(index: number, now: number): void;
  /** After the node's true load or presence changed. */
  onNodeChanged?(index: number): void;
  /** Counters worth reporting (e.g. pickNode's result kinds). */
  readonly counters?: Readonly<Record<string, number>>;
}

export type PolicyFactory = (world: World) => Policy;
