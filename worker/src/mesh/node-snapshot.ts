// A per-isolate copy of the live node list, for the route that lists nodes (GET /v1/nodes; the model list comes from
// the mesh status, mesh-status.ts).
// The request path never reads it: node slots come from the admission cells (admission.ts). Fresh for SNAPSHOT_TTL_MS;
// after that, up to STALE_SERVED_MS, the stale copy is still served while one request refreshes it; an older one (an
// isolate these routes have not been asked of for a while) is read again first.
import { allowedNodes } from "../durable/node-registry/route-nodes.js";
import type { RegistryNode } from "../durable/node-registry/types.js";
import { nodeRegistry } from "../durable/names.js";
import { nodeUrlPolicy } from "../limits/node-url-policy.js";

export const SNAPSHOT_TTL_MS = 1_000;
const STALE_SERVED_MS = 2 * SNAPSHOT_TTL_MS;

export interface NodeSnapshot {
  fetchedAt: number;
  nodes: RegistryNode[];
}

let current: NodeSnapshot | null = null;
let refreshing = false;

async function refresh(env: Env, now: number): Promise<NodeSnapshot> {
  current = { fetchedAt: now, nodes: allowedNodes(await nodeRegistry(env).snapshot(now), nodeUrlPolicy(env)) };
  return current;
}

export async function nodeSnapshot(env: Env, ctx: ExecutionContext, now: number): Promise<NodeSnapshot> {
  // Too old to serve even once: it may list nodes gone since, and miss others (or their latest reputation).
  if (!current || now - current.fetchedAt >= STALE_SERVED_MS) return refresh(env, now);
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

/** Drops the cached copy (tests, and after this isolate changes the registry itself). */
export function invalidateNodeSnapshot(): void {
  current = null;
}
