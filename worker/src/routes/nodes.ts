// GET /v1/nodes: the public list of nodes that get traffic (live, endpoint proven or in session, not banned), with
// their keys.
import { publicJwk, type PublicNode } from "@meshgate/schemas";
import type { RegistryNode } from "../durable/node-registry/types.js";
import { nodeSnapshot } from "../mesh/node-snapshot.js";

export function publicNode(n: RegistryNode): PublicNode {
  return {
    id: n.id,
    keyid: n.keyid,
    jwk: publicJwk(n.public_key),
    url: n.url,
    models: n.models,
    capacity: n.capacity,
    in_flight: n.in_flight,
    last_heartbeat: new Date(n.last_heartbeat).toISOString(),
    latency_ms: n.latency_ms === null ? null : Math.round(n.latency_ms * 10) / 10,
    reputation: Math.round(n.reputation * 1000) / 1000,
    requests: n.requests,
    transport: n.transport,
  };
}

export async function listNodesRoute(_request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
  const { nodes } = await nodeSnapshot(env, ctx, Date.now());
  return Response.json({ object: "list", data: nodes.map(publicNode) });
}
