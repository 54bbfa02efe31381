// GET /v1/nodes: the public list of live nodes.
import type { PublicNode } from "@meshgate/schemas";
import { nodeSnapshot } from "../mesh/node-snapshot.js";

export async function listNodesRoute(_request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { nodes } = await nodeSnapshot(env, ctx, Date.now());
  const data: PublicNode[] = nodes.map((n) => ({
    id: n.id,
    url: n.url,
    models: n.models,
    capacity: n.capacity,
    in_flight: n.in_flight,
    last_heartbeat: new Date(n.last_heartbeat).toISOString(),
    latency_ms: n.latency_ms === null ? null : Math.round(n.latency_ms * 10) / 10,
    reputation: Math.round(n.reputation * 1000) / 1000,
    requests: n.requests,
  }));
  return Response.json({ object: "list", data });
}
