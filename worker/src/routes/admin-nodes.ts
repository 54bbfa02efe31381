// /admin/nodes: every node the registry knows, and bans. The admin token is checked before anything else, so
// callers without it learn nothing about which nodes exist.
import { BanSchema, NodeIdSchema, SessionClose, type AdminNode, type NodeBan } from "@meshgate/schemas";
import { nodeRegistry, nodeSession } from "../durable/names.js";
import { requireAdmin } from "../http/auth.js";
import { HttpError } from "../http/http-error.js";
import { parseJson, readBody } from "../http/json-body.js";
import type { GatewayRequest } from "../http/request-id.js";
import { invalidateNodeSnapshot } from "../mesh/node-snapshot.js";
import { publicNode } from "./nodes.js";
import { routingState } from "./routing-state.js";

function nodeId(request: GatewayRequest): string {
  const id = request.params["id"] ?? "";
  if (!NodeIdSchema.safeParse(id).success)
    throw new HttpError(404, `No node with id '${id.slice(0, 64)}'.`, { param: "id", code: "node_not_found" });
  return id;
}

export async function listAdminNodesRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const now = Date.now();
  const nodes = await nodeRegistry(env).list(now);
  const data: AdminNode[] = nodes.map((n) => ({
    ...publicNode(n),
    live: n.live,
    endpoint_verified: n.endpoint_verified,
    banned: n.banned,
    ban_reason: n.ban_reason,
    probe: n.probe && {
      ...n.probe,
      rtt_ms: n.probe.rtt_ms === null ? null : Math.round(n.probe.rtt_ms * 10) / 10,
      at: new Date(n.probe.at).toISOString(),
    },
    routing: routingState(n.state, n.capacity, now),
  }));
  return Response.json({ object: "list", data });
}

export async function banNodeRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = nodeId(request);
  // The body is optional: `{"reason": "..."}` is shown to the node when its heartbeats are refused.
  const bytes = await readBody(request, 16 * 1024);
  const reason = bytes.length === 0 ? null : (parseJson(bytes, BanSchema).reason ?? null);
  if (!(await nodeRegistry(env).ban(id, reason, Date.now())))
    throw new HttpError(404, `No node with id '${id}'.`, { param: "id", code: "node_not_found" });
  // A node in session is cut off at once, told why; reconnecting is refused while the ban stands.
  await nodeSession(env, id).end(SessionClose.banned, reason ? `banned: ${reason}`.slice(0, 120) : "banned");
  invalidateNodeSnapshot();
  const body: NodeBan = { object: "node", id, banned: true, ban_reason: reason };
  return Response.json(body);
}

export async function unbanNodeRoute(request: GatewayRequest, env: Env): Promise<Response> {
  await requireAdmin(request, env);
  const id = nodeId(request);
  if (!(await nodeRegistry(env).unban(id)))
    throw new HttpError(404, `No node with id '${id}'.`, { param: "id", code: "node_not_found" });
  invalidateNodeSnapshot();
  const body: NodeBan = { object: "node", id, banned: false, ban_reason: null };
  return Response.json(body);
}
