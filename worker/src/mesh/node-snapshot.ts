// A per-isolate copy of the live node list and the routing table built from it, so the request path does not call
// the registry on every request. Fresh for SNAPSHOT_TTL_MS; after that the stale copy is still served while one
// request refreshes it. Between refreshes the isolate applies its own outcomes to the table at once.
import { NODE_TTL_MS } from "@meshgate/schemas";
import type { RegistryNode } from "../durable/node-registry/types.js";
import { nodeRegistry } from "../durable/names.js";
import { priceCeilings } from "../http/price-ceilings.js";
import { buildTable, noteLoad, observeInTable, type Outcome, type RoutingTable } from "../routing/index.js";
import { localLoad, nodeLoad, onLoadChange } from "./local-load.js";
import { outcomesNotIn } from "./local-outcomes.js";
import { nodeUrlPolicy } from "../limits/node-url-policy.js";
import { allowedNodes, toRouteNode } from "../durable/node-registry/route-nodes.js";

export const SNAPSHOT_TTL_MS = 1_000;

export interface NodeSnapshot {
  fetchedAt: number;
  nodes: RegistryNode[];
  table: RoutingTable;
  /** Each node's current public key (base64url): what its receipts are verified with. */
  publicKeys: ReadonlyMap<string, string>;
}

let current: NodeSnapshot | null = null;
let refreshing = false;

/** A request sent or finished changes the node's free slots, and so how often it is drawn. */
function noteLoadChange(nodeId: string): void {
  const node = current?.table.nodes.get(nodeId);
  if (current && node) noteLoad(current.table, nodeId, nodeLoad(node), Date.now());
}
/** The snapshot follows this isolate's load once it holds a table (refresh subscribes, once). */
let followingLoad = false;

async function refresh(env: Env, now: number): Promise<NodeSnapshot> {
  const policy = nodeUrlPolicy(env);
  const requestedAt = Date.now();
  const nodes = allowedNodes(await nodeRegistry(env).snapshot(now), policy);
  const ceilings = priceCeilings(env);
  const table = buildTable(
    nodes.map((n) => toRouteNode(n, ceilings, Math.max(0, n.in_flight - localLoad(n.id)))),
    now,
    nodeLoad,
  );
  for (const outcome of outcomesNotIn(requestedAt)) observeInTable(table, outcome);
  current = { fetchedAt: now, nodes, table, publicKeys: new Map(nodes.map((n) => [n.id, n.public_key])) };
  if (!followingLoad) {
    onLoadChange(noteLoadChange);
    followingLoad = true;
  }
  return current;
}

export async function nodeSnapshot(env: Env, ctx: ExecutionContext, now: number): Promise<NodeSnapshot> {
  // Too old to serve even once (an isolate that sat idle): every node in it may have gone, others may have come.
  if (!current || now - current.fetchedAt >= NODE_TTL_MS) return refresh(env, now);
  if (now - current.fetchedAt >= SNAPSHOT_TTL_MS && !refreshing) {
    refreshing = true;
    ctx.waitUntil(
      refresh(env, now)
        .catch((err: unknown) => console.error("node snapshot refresh failed", String(err)))
        .finally(() => (refreshing = false)),
    );
  }
  return current;
}

/**
 * Applies an outcome this isolate just observed to the table requests route by now (not the one the reporting
 * request started with: a refresh may have replaced it meanwhile).
 */
export function observeLocally(outcome: Outcome): void {
  if (current) observeInTable(current.table, outcome);
}

/** A node's current public key (base64url): from the newest snapshot, else from `fallback`; "" when neither has it. */
export function nodePublicKey(nodeId: string, fallback: NodeSnapshot): string {
  return current?.publicKeys.get(nodeId) ?? fallback.publicKeys.get(nodeId) ?? "";
}

/** The table requests route by now, if any. */
export function currentTable(): RoutingTable | null {
  return current?.table ?? null;
}

/** Drops the cached copy (tests, and after this isolate changes the registry itself). */
export function invalidateNodeSnapshot(): void {
  current = null;
}
