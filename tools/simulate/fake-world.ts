// A hand-built World for the policies' unit tests: a few nodes with chosen traits, a table built from them, and
// slots and presence set directly.
import { buildTable, newNodeState, type RouteNode, type RoutingTable } from "@meshgate/worker/routing";
import type { Behaviour, SimNode } from "./mesh.js";
import { MODEL, type World } from "./policy.js";
import { Rng } from "./random.js";

export interface FakeNodeSpec {
  latencyMs: number;
  capacity?: number;
  behaviour?: Behaviour;
}

export class FakeWorld implements World {
  readonly mesh: SimNode[];
  now = 0;
  table: RoutingTable;
  readonly random = new Rng(7).next;
  readonly slots: number[];
  readonly gone = new Set<number>();
  private readonly routes: RouteNode[];

  constructor(specs: readonly FakeNodeSpec[]) {
    this.mesh = specs.map((s, index) => fakeNode(index, s));
    this.slots = specs.map(() => 0);
    this.routes = this.mesh.map((n) => ({
      id: n.id,
      origin: `https://${n.id}.test`,
      transport: "direct",
      declaredCapacity: n.declaredCapacity,
      othersInFlight: 0,
      contextLengths: new Map(),
      responsesApi: new Set(),
      models: new Map([[MODEL, null]]),
      state: newNodeState(0),
      probe: null,
    }));
    this.table = buildTable(this.routes, 0);
  }

  readonly load = (node: RouteNode): number => this.slots[this.indexOf(node.id)] ?? 0;

  indexOf(id: string): number {
    return this.mesh.findIndex((n) => n.id === id);
  }

  route(index: number): RouteNode | null {
    return this.routes[index] ?? null;
  }

  busy(index: number): number {
    return this.slots[index] ?? 0;
  }

  present(index: number): boolean {
    return !this.gone.has(index);
  }

  /** Actions scheduled by the policy, run by `advance`. */
  private readonly pending: { at: number; action: () => void }[] = [];

  untimed(work: () => void): void {
    work();
  }

  schedule(at: number, action: () => void): void {
    this.pending.push({ at, action });
  }

  /** Moves the clock to `now`, running every action due by then in time order (ties: in the order scheduled). */
  advance(now: number): void {
    this.pending.sort((a, b) => a.at - b.at);
    while ((this.pending[0]?.at ?? Infinity) <= now) {
      const next = this.pending.shift();
      this.now = next?.at ?? now;
      next?.action();
    }
    this.now = now;
  }
}

function fakeNode(index: number, s: FakeNodeSpec): SimNode {
  const behaviour = s.behaviour ?? { kind: "honest" };
  return {
    index,
    id: `n${index}`,
    region: 0,
    rttMs: 0,
    ttftMedianMs: s.latencyMs,
    ttftSigma: 0,
    tokensPerSecond: 50,
    trueCapacity: s.capacity ?? 1,
    declaredCapacity: s.capacity ?? 1,
    behaviour,
    bad: behaviour.kind !== "honest",
    joinAt: 0,
    goneAt: Infinity,
    dark: false,
    listedUntil: Infinity,
  };
}
