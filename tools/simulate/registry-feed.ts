// What the Worker's registry and per-isolate snapshot give the router, simulated: a routing record per node from the
// moment it joins, the listing (a dark node stays listed until its heartbeats lapse), heartbeats' in-flight counts,
// health probes, and a fresh table every second with each node's learned state carried over.
import {
  buildTable,
  isEjected,
  maxEjected,
  newNodeState,
  observeProbe,
  type RouteNode,
  type RoutingTable,
} from "@meshgate/worker/routing";
import type { SimNode } from "./mesh.js";
import { MODEL } from "./policy.js";

export const TABLE_REFRESH_MS = 1_000;
export const HEARTBEAT_MS = 2_000;
export const PROBE_EVERY_S = 60;

const PRICES = new Map([[MODEL, null]]);

/** Who builds the tables from the listing, and which one holds a node (cells): the shared table when absent. */
export interface TableOwner {
  build(listed: readonly RouteNode[], now: number): void;
  tableOf(route: RouteNode): RoutingTable | null;
}

export class RegistryFeed {
  table: RoutingTable = buildTable([], 0);
  /** Wall time of each table build, ms. */
  readonly buildMs: number[] = [];
  private readonly routes: (RouteNode | null)[];

  constructor(private readonly mesh: readonly SimNode[]) {
    this.routes = mesh.map(() => null);
  }

  route(index: number): RouteNode | null {
    return this.routes[index] ?? null;
  }

  /** A node registers: new to the router, so it starts from a blank state. */
  join(node: SimNode): void {
    this.routes[node.index] = {
      id: node.id,
      origin: `https://${node.id}.sim:8790`,
      transport: "direct",
      declaredCapacity: node.declaredCapacity,
      othersInFlight: 0,
      contextLengths: new Map(),
      responsesApi: new Set(),
      models: PRICES,
      state: newNodeState(node.joinAt),
      probe: null,
    };
  }

  /** Heartbeats (every other second), the listing, a fresh table, then this second's probes. */
  /** `own`: the deciding isolate's open requests to a node, which its heartbeat count already includes. */
  refresh(
    now: number,
    busy: (index: number) => number,
    load: (node: RouteNode) => number = () => 0,
    own: (node: RouteNode) => number = () => 0,
    owner: TableOwner | null = null,
  ): void {
    const second = Math.round(now / 1000);
    const heartbeat = second % (HEARTBEAT_MS / 1000) === 0;
    const listed: RouteNode[] = [];
    const probed: SimNode[] = [];
    for (const node of this.mesh) {
      const route = this.routes[node.index];
      if (!route || node.joinAt > now || now >= node.listedUntil) continue;
      if (heartbeat && now < node.goneAt) route.othersInFlight = Math.max(0, busy(node.index) - own(route));
      listed.push(route);
      if (second === 0 || probeSecond(node) === second % PROBE_EVERY_S) probed.push(node);
    }
    const t0 = process.hrtime.bigint();
    if (owner) owner.build(listed, now);
    else this.table = buildTable(listed, now, load);
    this.buildMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    for (const node of probed) this.probe(node, now, owner);
  }

  /** A reachability probe, applied as the registry would: a failed one ejects, within the cap of the node's table. */
  private probe(node: SimNode, now: number, owner: TableOwner | null): void {
    const route = this.routes[node.index];
    if (!route) return;
    const table = owner?.tableOf(route) ?? this.table;
    const reachable = now < node.goneAt;
    route.probe = { reachable, rttMs: reachable ? node.rttMs : null, at: now };
    const wasEjected = isEjected(route.state.outlier, now);
    const mayEject = table.ejected < maxEjected(table.nodes.size);
    route.state = observeProbe(route.state, reachable, now, mayEject);
    if (!wasEjected && isEjected(route.state.outlier, now)) table.ejected++;
  }
}

/** Starting nodes are probed in 60 staggered groups; a joiner first at the tick after it joins, then every minute. */
function probeSecond(node: SimNode): number {
  return (node.joinAt === 0 ? node.index : Math.ceil(node.joinAt / 1000)) % PROBE_EVERY_S;
}
